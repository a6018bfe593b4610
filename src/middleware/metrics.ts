// Prometheus metrics: process defaults plus one histogram of request durations, labelled by
// a bounded route name (never the raw path, whose ids would explode the label set).
import type { Middleware } from 'koa';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  middleware: Middleware;
}

const knownPrefixes = ['/interaction', '/api/account', '/api/admin', '/api', '/.well-known', '/jwks', '/auth', '/token', '/me', '/session', '/reg', '/request', '/assets'];

function routeLabel(path: string): string {
  if (path === '/healthz' || path === '/readyz' || path === '/metrics') return path;
  return knownPrefixes.find((prefix) => path === prefix || path.startsWith(`${prefix}/`)) ?? 'other';
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keyhold_' });
  const duration = new Histogram({
    name: 'keyhold_http_request_duration_seconds',
    help: 'HTTP request duration by route group, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    registry,
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
