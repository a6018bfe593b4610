// Prometheus metrics: process defaults, a histogram of request durations labelled by a
// bounded route name (never the raw path, whose ids would explode the label set), and the
// counters fed by engine events.
import type { Middleware } from 'koa';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  middleware: Middleware;
  /** Counted from the engine's events (src/oidc/events.ts). */
  tokensIssued: Counter<'grant_type'>;
}

const knownPrefixes = ['/interaction', '/api/account', '/api/admin', '/api', '/.well-known', '/jwks', '/auth', '/token', '/me', '/session', '/reg', '/request', '/assets'];

function routeLabel(path: string): string {
  if (path === '/healthz' || path === '/readyz' || path === '/metrics') return path;
  return knownPrefixes.find((prefix) => path === prefix || path.startsWith(`${prefix}/`)) ?? 'other';
}

/** Adds the HTTP metrics and the process metrics to `registry` (the core's telemetry registry). */
export function createMetrics(registry: Registry = new Registry()): Metrics {
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
  return {
    registry,
    tokensIssued,
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
