// Keyhold without HTTP: the database (migrated), the keys derived from KEYHOLD_SECRET,
// Redis, the engine's state store, and every service with its rules. The server puts the
// engine and the HTTP app on top (src/keyhold.ts); the CLI uses this alone, so a command
// follows exactly the server's rules without starting the engine, the app or any timer.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';
import { brandFrom } from '#src/presentation/brand.ts';
import { createAccountDataService, type AccountDataService } from '#src/services/account-data.ts';
import { createAccountService, type AccountService } from '#src/services/accounts.ts';
import { createAdministration, type Administration } from '#src/services/admin/index.ts';
import { createAuthorizationService, type AuthorizationService } from '#src/services/authorization.ts';
import { createBackgroundTasks, type BackgroundTasks } from '#src/services/background-tasks.ts';
import { createLoginFlowService, type LoginFlowService } from '#src/services/authentication/login-flow.ts';
import { createCredentialService, type CredentialService } from '#src/services/credentials.ts';
import { createEmailOwnershipService, type EmailOwnershipService } from '#src/services/email-ownership.ts';
import { createFlowService, type FlowService } from '#src/services/flows.ts';
import { createConnectorService, type ConnectorService } from '#src/services/federation/connectors.ts';
import { createFederatedIdentityService, type FederatedIdentityService } from '#src/services/federation/identities.ts';
import { createUpstreamClient, type UpstreamClient } from '#src/services/federation/upstream.ts';
import { createLegacyBcryptCost } from '#src/services/legacy-hash-cost.ts';
import { createLoginThrottle, type LoginThrottle } from '#src/services/login-throttle.ts';
import { createLockoutService, type LockoutService } from '#src/services/lockout.ts';
import { createTelemetry, type Telemetry } from '#src/services/telemetry.ts';
import { createSessionService, type SessionService } from '#src/services/sessions.ts';
import { createEventEmitter, type EventEmitter } from '#src/services/events.ts';
import { createWebhookService, type WebhookService } from '#src/services/webhooks.ts';
import { pendingOutboxCounts } from '#src/stores/event-store.ts';
import { createSecurityRecord, type SecurityRecord } from '#src/services/security-record.ts';
import { createMailer, type Mailer } from '#src/services/mailer.ts';
import { createMfaService, type MfaService } from '#src/services/mfa/factors.ts';
import { createMfaRequirement, type MfaRequirement } from '#src/services/mfa/requirement.ts';
import { createPasskeyService, type PasskeyService } from '#src/services/mfa/passkeys.ts';
import { createReauthentication, type Reauthentication } from '#src/services/mfa/reauthentication.ts';
import { createSmsSender } from '#src/services/mfa/sms.ts';
import { deriveKeys, resolveMasterSecret, type DerivedKeys } from '#src/services/master-secret.ts';
import { createPasswordPolicy, type PasswordPolicy } from '#src/services/password-policy.ts';
import { createPasswordHasher, type PasswordHasher } from '#src/services/passwords.ts';
import { createWorkGate, type WorkGate } from '#src/services/work-gate.ts';
import { createRequestThrottle, type RequestThrottle } from '#src/services/request-throttle.ts';
import { createDeviceCodeThrottle, type DeviceCodeThrottle } from '#src/services/device-code-throttle.ts';
import { createRegistrationService, type RegistrationService } from '#src/services/registration.ts';
import { createTenantSettings, type TenantSettings } from '#src/services/tenant-settings.ts';
import { createSignInLookups } from '#src/stores/sign-in-lookups.ts';
import { createPasskeyThrottle, type PasskeyThrottle } from '#src/services/passkey-throttle.ts';
import { ensureConsoleClient } from '#src/services/console-client.ts';
import { ensureAccountResource } from '#src/services/resources.ts';
import { ensureAdminApi, ensureRoles } from '#src/services/roles.ts';
import { signingKeyOptions } from '#src/services/signing-key-options.ts';
import { ensureSigningKeys, loadEngineJwks, type SigningKeyOptions } from '#src/services/signing-keys.ts';
import { openDatabase, type DatabaseHandle } from '#src/stores/database.ts';
import { migrateToLatest } from '#src/stores/migrations.ts';
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';
import { changeFeedPlugin, createChangeFeed, type ChangeFeed } from '#src/stores/change-feed.ts';
import { createLoginFlowStore } from '#src/stores/login-flow-store.ts';
import { createRedisLockoutStore, createSqlLockoutStore } from '#src/stores/lockout-store.ts';
import { createRedisAdapter } from '#src/stores/oidc-adapter-redis.ts';
import { createSqlAdapter } from '#src/stores/oidc-adapter-sql.ts';
import { createRefreshGraceStore, type RefreshGraceStore } from '#src/stores/refresh-grace-store.ts';
import { createRefreshGraceScope, type RefreshGraceScope } from '#src/stores/refresh-grace-scope.ts';
import { awaitRedis, connectRedis, disconnectRedis, type RedisClient } from '#src/stores/redis.ts';
import type { ReadPools } from '#src/stores/read-replica.ts';
import type { Database } from '#src/stores/schema.ts';

export interface Core {
  config: Config;
  logger: Logger;
  db: Kysely<Database>;
  databaseKind: DatabaseHandle['kind'];
  /** The primary and, with DATABASE_REPLICA_URL, the read replica for read-mostly lookups. */
  reads: ReadPools;
  /** One Redis or a Redis Cluster (REDIS_URL, REDIS_CLUSTER_NODES); unset: SQL only. */
  redis?: RedisClient;
  keys: DerivedKeys;
  keyOptions: SigningKeyOptions;
  passwords: PasswordHasher;
  /** Admission of password hashing (UV_THREADPOOL_SIZE at once, ARGON2_QUEUE waiting). */
  passwordWork: WorkGate;
  passwordPolicy: PasswordPolicy;
  accounts: AccountService;
  flows: FlowService;
  mailer: Mailer;
  registration: RegistrationService;
  /** What a tenant overrides of the node's settings (its registration mode). */
  tenantSettings: TenantSettings;
  credentials: CredentialService;
  emailOwnership: EmailOwnershipService;
  accountData: AccountDataService;
  authorization: AuthorizationService;
  /** Engine state (sessions, grants, tokens): the engine's adapter, and what Keyhold does
   *  across it (e.g. end an account's sessions). Redis when configured, else SQL. */
  engineState: EngineStateStore;
  /** REFRESH_REUSE_GRACE: the adapters' policy and the token endpoint's middleware. */
  refreshGrace: RefreshGraceScope;
  /** Token responses kept for the grace window, under the refresh token they rotated. */
  refreshGraceStore: RefreshGraceStore;
  /** Sign-in pipeline: one stored login flow per interaction, for the interaction's life. */
  loginFlows: LoginFlowService;
  loginThrottle: LoginThrottle;
  /** Assertions posted to the passkey form, per address and per account. */
  passkeyThrottle: PasskeyThrottle;
  registrationThrottle: RequestThrottle;
  recoveryThrottle: RequestThrottle;
  /** Federation: upstream identity providers, the client talking to them, linked identities. */
  connectors: ConnectorService;
  upstream: UpstreamClient;
  federatedIdentities: FederatedIdentityService;
  deviceCodeThrottle: DeviceCodeThrottle;
  /** Failed sign-ins lock an account (LOCKOUT_*), on every node; sign-in steps and admins use it. */
  lockout: LockoutService;
  /** Events for other services, through the SQL outbox (auth.mfa_enrolled and the rest). */
  events: EventEmitter;
  /** Audit entries and events for what happens outside Keyhold's own services (engine events). */
  securityRecord: SecurityRecord;
  /** Where events are POSTed (signed), and their secrets. */
  webhooks: WebhookService;
  /** An account's browser sessions: list, end one, end all others (Account API). */
  sessions: SessionService;
  /** The security counters and gauges, on the registry /metrics serves. */
  telemetry: Telemetry;
  /** Work started after a response was sent; finished before the database closes. */
  background: BackgroundTasks;
  /** Second factors: enrolment, verification, recovery codes. */
  mfa: MfaService;
  /** What a sign-in owes in second factors (policy, the account's own factors, grace). */
  mfaRequirement: MfaRequirement;
  /** Passkeys (WebAuthn): registration and assertions. */
  passkeys: PasskeyService;
  /** Proof of the owner before a change to second factors. */
  reauthentication: Reauthentication;
  /** Administration (users, clients, resources, roles, tenants, audit) for the CLI; the
   *  server builds its own on the serving engine's client rules (src/http.ts). */
  admin: Administration;
  /** Changes to clients, resources and accounts, from every node: what caches evict. */
  changes: ChangeFeed;
  /** Finishes background work, then closes Redis and the database. */
  close(): Promise<void>;
}

export interface CoreOptions {
  /** A serving node: keep the sign-in lookups in memory, evicted by the change feed. */
  caches?: boolean;
}

/** Builds the core; on failure, whatever was opened is closed again. */
export async function createCore(config: Config, logger: Logger, options: CoreOptions = {}): Promise<Core> {
  const database = await openDatabase(config.process, logger);
  let redis: RedisClient | undefined;
  let changes: ChangeFeed | undefined;
  const background = createBackgroundTasks(logger);
  const close = async () => {
    await background.settled();
    await changes?.close();
    if (redis) await disconnectRedis(redis);
    await database.close();
  };
  try {
    // Redis connects while the migrations are checked: neither waits for the other.
    redis = connectRedis(config, logger);
    await Promise.all([migrateToLatest(database.db), redis && awaitRedis(redis, config.REDIS_TIMEOUT, logger)]);
    const keys = deriveKeys(resolveMasterSecret(config.process, logger));
    changes = createChangeFeed({ redis, prefix: config.REDIS_PREFIX, logger });
    // Every statement goes through the feed's plugin: no write to a cached table is missed.
    const db = database.db.withPlugin(changeFeedPlugin(changes));

    const events = createEventEmitter(db);
    const securityRecord = createSecurityRecord(db, events);
    const onReuse = (reuse: { model: string; accountId: string | null; clientId: string | null }) =>
      securityRecord.tokenReused({ accountId: reuse.accountId, clientId: reuse.clientId, credential: reuse.model });
    const refreshGrace = createRefreshGraceScope(config.REFRESH_REUSE_GRACE);
    const adapterOptions = { encryptionKey: keys.engineState, onReuse, refreshGrace: refreshGrace.policy };
    const engineState = redis ? createRedisAdapter(redis, { prefix: config.REDIS_PREFIX, ...adapterOptions }) : createSqlAdapter(db, adapterOptions);
    const mailer = createMailer(db, { issuer: config.ISSUER, defaultLocale: 'en', brand: brandFrom(config), bodyKey: keys.mailBodies });
    // As many hashes at once as libuv has threads; ARGON2_QUEUE more wait, the rest get 503.
    const passwordWork = createWorkGate({ concurrency: config.UV_THREADPOOL_SIZE, queue: config.ARGON2_QUEUE });
    const passwords = createPasswordHasher(
      { memoryCost: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_ITERATIONS, parallelism: config.ARGON2_PARALLELISM },
      { legacyBcryptCost: createLegacyBcryptCost(db), gate: passwordWork },
    );
    const { policy } = config;
    const passwordPolicy = createPasswordPolicy({ db, hasher: passwords, minLength: policy.PASSWORD_MIN_LENGTH, historySize: policy.PASSWORD_HISTORY, breachCheckUrl: policy.BREACH_CHECK_URL, logger });
    const telemetry = createTelemetry();
    telemetry.observePending(() => pendingOutboxCounts(db));
    const lockout = createLockoutService({
      db,
      store: redis ? createRedisLockoutStore(redis, config.REDIS_PREFIX) : createSqlLockoutStore(db),
      rule: { threshold: policy.LOCKOUT_THRESHOLD, windowSeconds: policy.LOCKOUT_WINDOW, durationSeconds: policy.LOCKOUT_DURATION },
      issuer: config.ISSUER,
      mailer,
      telemetry,
      logger,
      onLocked: [(lock) => events.emit('auth.user_locked', { user_id: lock.accountId, locked_until: lock.lockedUntil.toISOString(), failures: lock.failures }).then(() => undefined)],
    });
    const accounts = createAccountService(db, passwords, passwordPolicy, { defaultRoles: policy.DEFAULT_ROLES, lockout, telemetry });
    const flows = createFlowService(db, keys.flowCodes);

    await ensureAccountResource(db, config.ISSUER);
    await ensureAdminApi(db, config.ISSUER);
    await ensureRoles(db, policy.DEFAULT_ROLES);
    await ensureConsoleClient(db, config.ISSUER);
    const keyOptions = await signingKeyOptions(policy, db, keys);
    const authorization = createAuthorizationService(db, config.ISSUER);
    await ensureSigningKeys(db, keyOptions);
    // The key set opens only with the KEYHOLD_SECRET the database was set up with. Checked
    // here, before anything runs, so that no command seals new data under another secret.
    await loadEngineJwks(db, keyOptions);

    const rateLimitStore = {
      redis,
      prefix: config.REDIS_PREFIX,
      onRefused: (limit: string) => telemetry.rateLimited.inc({ limit }),
      onStoreFailure: config.RATE_LIMIT_REDIS_FAILURE,
      reportStoreFailure: (limit: string, error: unknown) => {
        telemetry.rateLimitStoreErrors.inc({ limit });
        logger.warn({ limit, mode: config.RATE_LIMIT_REDIS_FAILURE, err: { message: error instanceof Error ? error.message : String(error) } }, 'rate limit store (Redis) failed');
      },
    };
    // The password form's limits; the passkey form counts against the same numbers.
    const signInLimits = { ...rateLimitStore, limit: policy.LOGIN_RATE_LIMIT, accountLimit: policy.LOGIN_ACCOUNT_RATE_LIMIT, windowSeconds: policy.LOGIN_RATE_WINDOW };
    const loginThrottle = createLoginThrottle(signInLimits);
    const mfa = createMfaService({ db, config, keys: { secrets: keys.mfaSecrets, codes: keys.mfaCodes }, mailer, sms: createSmsSender(config.process, logger) });
    const credentials = createCredentialService({ db, config, flows, mailer, passwordPolicy, passwords, engineState, lockout });
    const signInLookups = createSignInLookups(db, options.caches ? { changes, ttlMs: config.CACHE_TTL * 1000 } : undefined);
    const tenantSettings = createTenantSettings(signInLookups, policy);
    const connectors = createConnectorService(db, { issuer: config.ISSUER, allowLoopback: config.ALLOW_LOOPBACK_REQUESTS, secretsKey: keys.connectorSecrets, listForSignIn: signInLookups.connectors });
    const webhooks = createWebhookService(db, keys.webhookSecrets);
    const admin = createAdministration({
      db,
      connectors,
      keyOptions,
      webhooks,
      issuer: config.ISSUER,
      accounts,
      credentials,
      engineState,
      lockout,
      pseudonymKey: keys.pseudonyms,
      clientSecretKey: keys.clientSecrets,
      // Client metadata rules from a bare engine, loaded only by a command that needs them.
      clientValidator: async () => (await import('#src/oidc/client-validator.ts')).createClientValidator({ config, db, keys, keyOptions, engineState, accounts, authorization }),
    });
    return {
      config,
      logger,
      db,
      databaseKind: database.kind,
      reads: {
        primary: db,
        ...(database.replica ? { replica: database.replica } : {}),
        onReplicaError: (error: unknown) => logger.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'read replica failed; read from the primary'),
      },
      redis,
      keys,
      keyOptions,
      passwords,
      passwordWork,
      passwordPolicy,
      accounts,
      flows,
      mailer,
      registration: createRegistrationService({ db, config, accounts, flows, mailer, passwordPolicy, passwords, tenantSettings }),
      tenantSettings,
      credentials,
      emailOwnership: createEmailOwnershipService({ db, config, flows, mailer, passwords, engineState }),
      accountData: createAccountDataService({ db, config, passwords, engineState, pseudonymKey: keys.pseudonyms }),
      authorization,
      engineState,
      refreshGrace,
      refreshGraceStore: createRefreshGraceStore(engineState, keys.refreshGrace),
      loginFlows: createLoginFlowService({ store: createLoginFlowStore(engineState), ttlSeconds: policy.INTERACTION_TTL, reachable: [
          'password',
          ...(mfa.enabledKinds().length ? (['mfa'] as const) : []),
          ...(config.PASSKEYS ? (['phr'] as const) : []),
        ] }),
      loginThrottle,
      passkeyThrottle: createPasskeyThrottle(signInLimits),
      recoveryThrottle: createRequestThrottle({ ...rateLimitStore, name: 'recovery', limit: policy.RECOVERY_RATE_LIMIT, emailLimit: policy.RECOVERY_EMAIL_RATE_LIMIT, windowSeconds: policy.RECOVERY_RATE_WINDOW }),
      registrationThrottle: createRequestThrottle({ ...rateLimitStore, name: 'registration', limit: policy.REGISTRATION_RATE_LIMIT, emailLimit: policy.REGISTRATION_EMAIL_RATE_LIMIT, windowSeconds: policy.REGISTRATION_RATE_WINDOW }),
      connectors,
      upstream: createUpstreamClient({ allowLoopback: config.ALLOW_LOOPBACK_REQUESTS, timeoutMs: config.FEDERATION_TIMEOUT * 1000 }),
      federatedIdentities: createFederatedIdentityService({ db, tenantSettings, defaultRoles: policy.DEFAULT_ROLES, lockout, telemetry }),
      deviceCodeThrottle: createDeviceCodeThrottle({ ...rateLimitStore, limit: policy.DEVICE_CODE_RATE_LIMIT, windowSeconds: policy.DEVICE_CODE_RATE_WINDOW }),
      lockout,
      telemetry,
      sessions: createSessionService({
        db,
        engineState,
        concurrentLimit: policy.CONCURRENT_SESSION_LIMIT,
        onEnded: [(ended) => securityRecord.sessionEnded(ended)],
      }),
      events,
      securityRecord,
      webhooks,
      background,
      mfa,
      mfaRequirement: createMfaRequirement({ db, config: policy, mfa, lookups: signInLookups }),
      passkeys: createPasskeyService({ db, config, challengeKey: keys.webauthnChallenges, mfa }),
      reauthentication: createReauthentication({ db, config: policy, passwords, loginThrottle, mfa }),
      admin,
      changes,
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
