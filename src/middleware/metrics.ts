// Prometheus metrics: process defaults, a histogram of request durations labelled by a
// bounded route name (never the raw path, whose ids would explode the label set), and the
// counters fed by engine events.
import type { Middleware } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Telemetry } from '#src/services/telemetry.ts';

export interface Metrics {
  registry: Registry;
  middleware: Middleware;
  /** Counted from the engine's events (src/oidc/events.ts). */
  tokensIssued: Counter<'grant_type'>;
  /** Requests answered 503 because Redis or the database was down or restarting. */
  dependencyUnavailable: Counter<'dependency'>;
}

const knownPrefixes = ['/interaction', '/api/account', '/api/admin', '/api', '/.well-known', '/jwks', '/auth', '/token', '/me', '/session', '/reg', '/request', '/assets'];

function routeLabel(path: string): string {
  if (path === '/healthz' || path === '/readyz' || path === '/metrics') return path;
  return knownPrefixes.find((prefix) => path === prefix || path.startsWith(`${prefix}/`)) ?? 'other';
}

/** The HTTP and process metrics, plus the core's security counters (`telemetry`) when given. */
export function createMetrics(telemetry?: Telemetry): Metrics {
  const registry = new Registry();
  if (telemetry) attachSecurityMetrics(registry, telemetry);
  collectDefaultMetrics({ register: registry, prefix: 'keyhold_' });
  const duration = new Histogram({
    name: 'keyhold_http_request_duration_seconds',
    help: 'HTTP request duration by route group, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const tokensIssued = new Counter({
    name: 'keyhold_tokens_issued_total',
    help: 'Successful token endpoint responses by grant type',
    labelNames: ['grant_type'],
    registers: [registry],
  });
  const dependencyUnavailable = new Counter({
    name: 'keyhold_dependency_unavailable_total',
    help: 'Requests answered 503 because a dependency (redis, database) was down or restarting',
    labelNames: ['dependency'],
    registers: [registry],
  });
  return {
    registry,
    tokensIssued,
    dependencyUnavailable,
    middleware: async (ctx, next) => {
      const end = duration.startTimer({ route: routeLabel(ctx.path), method: ctx.method });
      try {
        await next();
      } finally {
        end({ status: String(ctx.status) });
      }
    },
  };
}

/** The Contract's security metrics on `registry`, fed by the core's telemetry. */
function attachSecurityMetrics(registry: Registry, telemetry: Telemetry): void {
  new Gauge({
    name: 'keyhold_outbox_pending',
    help: 'Outbox entries not delivered yet, by kind (event, webhook, redis_stream, nats, mail)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [kind, count] of Object.entries(await telemetry.readPending())) this.set({ kind }, count);
    },
  });
  telemetry.attach({
    loginAttempts: new Counter({ name: 'keyhold_login_attempts_total', help: 'Sign-in credential checks by outcome and method', labelNames: ['outcome', 'method'], registers: [registry] }),
    lockouts: new Counter({ name: 'keyhold_lockouts_total', help: 'Accounts locked after repeated failed sign-ins', registers: [registry] }),
    rateLimited: new Counter({ name: 'keyhold_rate_limited_total', help: 'Attempts refused by a rate limit, by limit', labelNames: ['limit'], registers: [registry] }),
    rateLimitStoreErrors: new Counter({ name: 'keyhold_rate_limit_store_errors_total', help: 'Rate limit checks made while the shared store (Redis) failed, by limit', labelNames: ['limit'], registers: [registry] }),
  });
}
