// The HTTP layer on top of a core: the engine host (the engine serving the current key
// set), the metrics, and the Koa app with Keyhold's routes in front of the engine.
import { refreshGraceMiddleware } from '#src/oidc/refresh-grace.ts';
import type Koa from 'koa';
import { createApp } from '#src/app.ts';
import type { Core } from '#src/core.ts';
import { createMetrics, type Metrics } from '#src/middleware/metrics.ts';
import { clientValidatorOf } from '#src/oidc/client-validator.ts';
import { createEngineHost, type EngineHost } from '#src/oidc/engine-host.ts';
import { createEngineLookups } from '#src/oidc/engine-lookups.ts';
import { engineOptions } from '#src/oidc/engine-options.ts';
import { createMetricsApp } from '#src/routes/metrics.ts';
import { createPageKit } from '#src/routes/page-kit.ts';
import { createClientService } from '#src/services/clients.ts';
import { createCsrfService } from '#src/services/csrf.ts';

export interface Http {
  engine: EngineHost;
  app: Koa;
  /** The registry /metrics serves (process, HTTP and security metrics). */
  metricsRegistry: Metrics['registry'];
  /** Serves /metrics alone, when METRICS_PORT gives it a port of its own. */
  metricsApp?: Koa;
  /** Registers a client under the serving engine's metadata rules. */
  createClient(metadata: unknown): Promise<Record<string, unknown>>;
  /** Marks the node as draining: /readyz answers 503 so load balancers stop sending. */
  beginShutdown(): void;
}

export async function createHttp(core: Core): Promise<Http> {
  const { config, logger, db, keys } = core;
  const metrics = createMetrics(core.telemetry);
  const engine = await createEngineHost({ config, db, keyOptions: core.keyOptions, logger, metrics, configure: engineOptions(core, createEngineLookups(core)), use: [refreshGraceMiddleware(core.refreshGrace, core.refreshGraceStore)], sinks: { record: core.securityRecord, background: core.background, sessionActivity: { sessions: core.sessions, background: core.background, record: core.securityRecord } } });
  // Clients are validated by the engine that serves now (it is rebuilt on key changes).
  const clients = createClientService({ db, encryptionKey: keys.clientSecrets, validator: () => clientValidatorOf(engine.provider), originsTtlMs: config.CACHE_TTL * 1000 });
  // Registered origins (CORS) change with any client, on any node.
  core.changes.subscribe((change) => {
    if (change.table === 'clients') clients.invalidate();
  });
  core.admin.useServingEngine({
    clientValidator: async () => clientValidatorOf(engine.provider),
    // A rotation or retirement through the Admin API serves from this node at once; other
    // nodes follow at their next reload (src/jobs/signing-key-reload.ts).
    keysChanged: () => engine.reload(),
  });

  let shuttingDown = false;
  const metricsEndpoint = { registry: metrics.registry, token: config.METRICS_TOKEN };
  const metricsApp = config.METRICS_PORT === undefined ? undefined : createMetricsApp(metricsEndpoint);
  if (!metricsApp && !config.METRICS_TOKEN && config.NODE_ENV === 'production') {
    logger.warn('/metrics is public on the main port; set METRICS_PORT or METRICS_TOKEN');
  }
  const app = createApp({
    ...core,
    engine,
    metrics,
    clients,
    cookieKeys: keys.cookieKeys,
    pages: createPageKit({ config, engine, csrf: createCsrfService(keys.csrf) }),
    ops: { db, redis: core.redis, metrics: metricsApp ? undefined : metricsEndpoint, isShuttingDown: () => shuttingDown },
  });

  return {
    engine,
    app,
    metricsRegistry: metrics.registry,
    metricsApp,
    createClient: (metadata) => clients.create(metadata),
    beginShutdown() {
      shuttingDown = true;
    },
  };
}
