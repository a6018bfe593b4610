// Liveness, readiness and metrics. /readyz checks every dependency a request needs;
// /metrics is here unless METRICS_PORT moves it to its own port.
import Router from '@koa/router';
import type { Kysely } from 'kysely';
import { metricsRoutes, type MetricsEndpointOptions } from '#src/routes/metrics.ts';
import { pingDatabase } from '#src/stores/database.ts';
import type { RedisClient } from '#src/stores/redis.ts';
import type { Database } from '#src/stores/schema.ts';

async function check(probe: () => Promise<unknown>, timeoutMs = 2000): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([probe(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs)))]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

export function opsRoutes(deps: { db: Kysely<Database>; redis?: RedisClient; metrics?: MetricsEndpointOptions; isShuttingDown(): boolean }): Router {
  const router = new Router();

  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const checks: Record<string, string> = { database: await check(() => pingDatabase(deps.db)) };
    if (deps.redis) checks.redis = await check(() => deps.redis!.ping());
    const ready = !deps.isShuttingDown() && Object.values(checks).every((value) => value === 'ok');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : deps.isShuttingDown() ? 'shutting_down' : 'unavailable', checks };
  });

  if (deps.metrics) router.use(metricsRoutes(deps.metrics).routes());

  return router;
}
