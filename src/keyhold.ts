// Wires Keyhold together from a Config: stores, services, the engine and the HTTP app.
// Tests build the same graph against their own database and Redis prefix.
import type Koa from 'koa';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Configuration } from 'oidc-provider';
import type { Logger } from 'pino';
import { createApp } from '#src/app.ts';
import type { Config } from '#src/config.ts';
import { createMetrics } from '#src/middleware/metrics.ts';
import { engineConfiguration } from '#src/oidc/configuration.ts';
import { createEngineHost, type EngineHost } from '#src/oidc/engine-host.ts';
import { createAccountService, type AccountService } from '#src/services/accounts.ts';
import { createAuthorizationService } from '#src/services/authorization.ts';
import { createLoginFlowService } from '#src/services/authentication/login-flow.ts';
import { isOidcScope } from '#src/services/claims.ts';
import { fromEngineClientMetadata, toEngineClientMetadata } from '#src/services/client-scopes.ts';
import { createClientService } from '#src/services/clients.ts';
import { createMetricsApp } from '#src/routes/metrics.ts';
import { createPageKit } from '#src/routes/page-kit.ts';
import { createAccountDataService, type AccountDataService } from '#src/services/account-data.ts';
import { createCredentialService, type CredentialService } from '#src/services/credentials.ts';
import { createCsrfService } from '#src/services/csrf.ts';
import { createEmailOwnershipService, type EmailOwnershipService } from '#src/services/email-ownership.ts';
import { createFlowService } from '#src/services/flows.ts';
import type { LifecycleDependencies } from '#src/services/lifecycle.ts';
import { createPasswordPolicy } from '#src/services/password-policy.ts';
import { createRegistrationService, type RegistrationService } from '#src/services/registration.ts';
import { createLoginThrottle } from '#src/services/login-throttle.ts';
import { createRegistrationThrottle } from '#src/services/registration-throttle.ts';
import { startMailWorker, type MailWorker } from '#src/services/mail-worker.ts';
import { createMailer, type Mailer } from '#src/services/mailer.ts';
import { deriveKeys, resolveMasterSecret, type DerivedKeys } from '#src/services/master-secret.ts';
import { createPasswordHasher } from '#src/services/passwords.ts';
import { createLegacyBcryptCost } from '#src/services/legacy-hash-cost.ts';
import { ensureAccountResource, findResource, undefinedScopes } from '#src/services/resources.ts';
import { ensureAdminApi, ensureRoles } from '#src/services/roles.ts';
import { ensureSigningKeys, type SigningAlg, type SigningKeyOptions } from '#src/services/signing-keys.ts';
import { openDatabase, type DatabaseHandle } from '#src/stores/database.ts';
import { migrateToLatest } from '#src/stores/migrations.ts';
import { createClientAdapter } from '#src/stores/oidc-client-adapter.ts';
import { createLoginFlowStore } from '#src/stores/login-flow-store.ts';
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';
import { createRedisAdapter } from '#src/stores/oidc-adapter-redis.ts';
import { createSqlAdapter, sweepExpiredPayloads } from '#src/stores/oidc-adapter-sql.ts';
import { maxResourceAccessTokenTtl } from '#src/stores/resource-store.ts';
import { deleteStaleFlows } from '#src/stores/flow-store.ts';
import type { Database } from '#src/stores/schema.ts';

export interface Keyhold {
  config: Config;
  logger: Logger;
  db: Kysely<Database>;
  databaseKind: DatabaseHandle['kind'];
  redis?: Redis;
  keys: DerivedKeys;
  keyOptions: SigningKeyOptions;
  accounts: AccountService;
  mailer: Mailer;
  mailWorker: MailWorker;
  registration: RegistrationService;
  credentials: CredentialService;
  emailOwnership: EmailOwnershipService;
  accountData: AccountDataService;
  /** Engine state outside the engine's own model operations (e.g. end an account's sessions). */
  engineState: EngineStateStore;
  engine: EngineHost;
  app: Koa;
  /** Serves /metrics alone, when METRICS_PORT gives it a port of its own. */
  metricsApp?: Koa;
  createClient(metadata: unknown): Promise<Record<string, unknown>>;
  /** Marks the node as draining: /readyz answers 503 so load balancers stop sending. */
  beginShutdown(): void;
  close(): Promise<void>;
}

// The engine's own metadata rules (redirect URIs, auth methods, algorithms), which its
// typings do not fully describe.
function engineClientValidator(engine: EngineHost) {
  const Client = engine.provider.Client as unknown as {
    validate(metadata: Record<string, unknown>): Promise<void>;
    needsSecret(metadata: Record<string, unknown>): boolean;
  };
  return { validate: (metadata: Record<string, unknown>) => Client.validate(metadata), needsSecret: (metadata: Record<string, unknown>) => Client.needsSecret(metadata) };
}

export async function signingKeyOptions(config: Config, db: Kysely<Database>, keys: DerivedKeys): Promise<SigningKeyOptions> {
  // A retired key stays published as long as anything it signed can still be presented.
  const longestSignedLifetime = Math.max(config.ID_TOKEN_TTL, config.ACCESS_TOKEN_TTL, config.CLIENT_CREDENTIALS_TTL, (await maxResourceAccessTokenTtl(db)) ?? 0);
  return {
    encryptionKey: keys.signingKeys,
    algorithms: config.SIGNING_ALGS as SigningAlg[],
    activationDelay: config.KEY_ACTIVATION_DELAY,
    retentionAfterRetirement: longestSignedLifetime + 300,
  };
}

export async function createKeyhold(config: Config, logger: Logger): Promise<Keyhold> {
  const database = await openDatabase(config, logger);
  const cleanups: Array<() => Promise<unknown> | void> = [() => database.close()];
  try {
    const { db } = database;
    await migrateToLatest(db);
    const keys = deriveKeys(resolveMasterSecret(config, logger));

    let redis: Redis | undefined;
    if (config.REDIS_URL) {
      redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
      redis.on('error', (error) => logger.warn({ err: { message: error.message } }, 'redis connection error'));
      cleanups.push(() => redis!.quit().catch(() => redis!.disconnect()));
    }

    const engineState = redis
      ? createRedisAdapter(redis, { prefix: config.REDIS_PREFIX, encryptionKey: keys.engineState })
      : createSqlAdapter(db, { encryptionKey: keys.engineState });
    const ClientAdapter = createClientAdapter(db, keys.clientSecrets, { toEngine: toEngineClientMetadata, fromEngine: fromEngineClientMetadata });
    const adapter = function adapterFor(name: string) {
      return name === 'Client' ? new ClientAdapter() : new engineState.Adapter(name);
    } as unknown as NonNullable<Configuration['adapter']>;

    // Ended self-service flows are kept 30 days (they appear in a data export), then removed.
    const flowCleanup = setInterval(() => {
      deleteStaleFlows(db, 30 * 24 * 3600).catch((error) => logger.warn({ err: error }, 'removing old self-service flows failed'));
    }, 3600_000);
    flowCleanup.unref();
    cleanups.push(() => clearInterval(flowCleanup));

    if (!redis) {
      const sweeper = setInterval(() => {
        sweepExpiredPayloads(db).catch((error) => logger.warn({ err: error }, 'sweeping expired engine state failed'));
      }, 60_000);
      sweeper.unref();
      cleanups.push(() => clearInterval(sweeper));
    }

    const mailer = createMailer(db, { issuer: config.ISSUER, defaultLocale: 'en', bodyKey: keys.mailBodies });
    const mailWorker = startMailWorker({ db, config, logger, bodyKey: keys.mailBodies });
    cleanups.push(() => mailWorker.stop());

    const passwords = createPasswordHasher(
      { memoryCost: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_ITERATIONS, parallelism: config.ARGON2_PARALLELISM },
      { legacyBcryptCost: createLegacyBcryptCost(db) },
    );
    const passwordPolicy = createPasswordPolicy({ db, hasher: passwords, minLength: config.PASSWORD_MIN_LENGTH, historySize: config.PASSWORD_HISTORY, breachCheckUrl: config.BREACH_CHECK_URL, logger });
    const accounts = createAccountService(db, passwords, passwordPolicy, { defaultRoles: config.DEFAULT_ROLES });
    await ensureAccountResource(db, config.ISSUER);
    await ensureAdminApi(db, config.ISSUER);
    await ensureRoles(db, config.DEFAULT_ROLES);
    const keyOptions = await signingKeyOptions(config, db, keys);
    await ensureSigningKeys(db, keyOptions);

    const metrics = createMetrics();
    const engine = await createEngineHost({
      config,
      db,
      keyOptions,
      logger,
      metrics,
      configure: (jwks) =>
        engineConfiguration({
          config,
          accounts,
          adapter,
          jwks,
          cookieKeys: keys.cookieKeys,
          findResource: (identifier) => findResource(db, identifier),
          authorization: createAuthorizationService(db, config.ISSUER),
          undefinedScopes: (requested) => undefinedScopes(db, requested, isOidcScope),
        }),
    });
    cleanups.push(() => engine.stop());

    const clients = createClientService({ db, encryptionKey: keys.clientSecrets, validator: () => engineClientValidator(engine) });

    const lifecycle: LifecycleDependencies = {
      db,
      config,
      logger,
      accounts,
      flows: createFlowService(db, keys.flowCodes),
      mailer,
      passwordPolicy,
      passwords,
      engineState,
      pseudonymKey: keys.pseudonyms,
    };
    const registration = createRegistrationService(lifecycle);
    const credentials = createCredentialService(lifecycle);
    const emailOwnership = createEmailOwnershipService(lifecycle);
    const accountData = createAccountDataService(lifecycle);

    let shuttingDown = false;
    const metricsEndpoint = { registry: metrics.registry, token: config.METRICS_TOKEN };
    const metricsApp = config.METRICS_PORT === undefined ? undefined : createMetricsApp(metricsEndpoint);
    if (!metricsApp && !config.METRICS_TOKEN && config.NODE_ENV === 'production') {
      logger.warn('/metrics is public on the main port; set METRICS_PORT or METRICS_TOKEN');
    }
    const app = createApp({
      config,
      logger,
      engine,
      metrics,
      accounts,
      registration,
      credentials,
      emailOwnership,
      accountData,
      // Sign-in pipeline: one stored login flow per interaction, for the interaction's life.
      loginFlows: createLoginFlowService({ store: createLoginFlowStore(engineState), ttlSeconds: config.INTERACTION_TTL }),
      cookieKeys: keys.cookieKeys,
      clients,
      pages: createPageKit({ config, engine, csrf: createCsrfService(keys.csrf) }),
      loginThrottle: createLoginThrottle({ redis, prefix: config.REDIS_PREFIX, limit: config.LOGIN_RATE_LIMIT, accountLimit: config.LOGIN_ACCOUNT_RATE_LIMIT, windowSeconds: config.LOGIN_RATE_WINDOW }),
      registrationThrottle: createRegistrationThrottle({ redis, prefix: config.REDIS_PREFIX, limit: config.REGISTRATION_RATE_LIMIT, emailLimit: config.REGISTRATION_EMAIL_RATE_LIMIT, windowSeconds: config.REGISTRATION_RATE_WINDOW }),
      ops: { db, redis, metrics: metricsApp ? undefined : metricsEndpoint, isShuttingDown: () => shuttingDown },
    });

    return {
      config,
      logger,
      db,
      databaseKind: database.kind,
      redis,
      keys,
      keyOptions,
      accounts,
      mailer,
      mailWorker,
      registration,
      credentials,
      emailOwnership,
      accountData,
      engineState,
      engine,
      app,
      metricsApp,
      createClient: (metadata) => clients.create(metadata),
      beginShutdown() {
        shuttingDown = true;
      },
      async close() {
        for (const cleanup of cleanups.reverse()) await cleanup();
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    throw error;
  }
}
