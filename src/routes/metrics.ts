// GET /metrics (Prometheus text), on the main app or on its own port (METRICS_PORT). With
// METRICS_TOKEN set it needs that bearer token, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import Koa from 'koa';
import type { Registry } from 'prom-client';
import { KeyholdError } from '#src/errors.ts';
import { errorHandler } from '#src/middleware/errors.ts';

export interface MetricsEndpointOptions {
  registry: Registry;
  token?: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function metricsRoutes(options: MetricsEndpointOptions): Router {
  const router = new Router();
  const expected = options.token === undefined ? undefined : digest(options.token);
  router.get('/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (expected) {
      const presented = /^Bearer (\S+)$/i.exec(ctx.get('authorization'))?.[1] ?? '';
      // Digests of equal length, so neither the length nor the content leaks by timing.
      if (!timingSafeEqual(digest(presented), expected)) {
        throw new KeyholdError('unauthorized', { key: 'error.unauthorized.metrics', headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' } });
      }
    }
    ctx.type = options.registry.contentType;
    ctx.body = await options.registry.metrics();
  });
  return router;
}

/** The app behind METRICS_PORT: /metrics and nothing else. */
export function createMetricsApp(options: MetricsEndpointOptions): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(errorHandler());
  const router = metricsRoutes(options);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
