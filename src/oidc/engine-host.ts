// Holds the running engine. The engine reads its key set once, at construction, so when the
// key table changes (a rotation published, activated or retired, on any node) a new engine
// is built from the same configuration and swapped in between requests. All state lives in
// the stores, so requests in flight on the old instance finish normally. The server's
// signing-key reload job (src/jobs/signing-key-reload.ts) calls reload() on a schedule.
import type { Middleware } from 'koa';
import mount from 'koa-mount';
import type { Kysely } from 'kysely';
import Provider, { type Configuration } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';
import { reuseClientModels } from '#src/oidc/client-models.ts';
import { attachEngineEvents, type EngineEventSinks } from '#src/oidc/events.ts';
import { loadEngineJwks, type SigningKeyOptions } from '#src/services/signing-keys.ts';
import type { Database } from '#src/stores/schema.ts';

export interface EngineHost {
  readonly provider: Provider;
  readonly middleware: Middleware;
  /** Re-reads the key set; rebuilds the engine when it changed. */
  reload(): Promise<boolean>;
}

export async function createEngineHost(options: {
  config: Pick<Config, 'ISSUER' | 'TRUST_PROXY' | 'TRUST_PROXY_HOPS'>;
  db: Kysely<Database>;
  keyOptions: SigningKeyOptions;
  logger: Logger;
  configure(jwks: { keys: Record<string, unknown>[] }): Configuration;
  metrics: Pick<EngineEventSinks, 'tokensIssued'>;
  /** Middleware run around every engine request (provider.use), in order. */
  use?: Middleware[];
  /** Further listeners on every engine built (session activity, events). */
  sinks?: Omit<EngineEventSinks, 'logger' | 'tokensIssued'>;
}): Promise<EngineHost> {
  const { config, db, keyOptions, logger } = options;

  const build = (jwks: { keys: Record<string, unknown>[] }) => {
    const provider = new Provider(config.ISSUER, options.configure(jwks));
    provider.proxy = config.TRUST_PROXY;
    provider.maxIpsCount = config.TRUST_PROXY_HOPS;
    reuseClientModels(provider);
    for (const middleware of options.use ?? []) provider.use(middleware);
    attachEngineEvents(provider, { ...options.sinks, logger, tokensIssued: options.metrics.tokensIssued });
    return { provider, middleware: mount(provider) as Middleware };
  };

  let { keys, fingerprint } = await loadEngineJwks(db, keyOptions);
  let current = build({ keys });

  return {
    get provider() {
      return current.provider;
    },
    get middleware() {
      return current.middleware;
    },
    async reload() {
      const next = await loadEngineJwks(db, keyOptions);
      if (next.fingerprint === fingerprint) return false;
      current = build({ keys: next.keys });
      ({ keys, fingerprint } = next);
      logger.info({ keys: fingerprint }, 'signing keys changed: engine reloaded');
      return true;
    },
  };
}
