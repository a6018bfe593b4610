// A downstream API that trusts Keyhold's access tokens without calling Keyhold per request:
// @keyhold/verify checks each token offline against the published keys, and each route states
// what it needs. Orders are kept in memory per tenant (the token's `tenant`), which is enough
// to show the pattern; a real service keeps them in its own database.
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import Koa from 'koa';
import { createVerifier, tenantOf, type AccessTokenClaims } from '@keyhold/verify';
import { authenticate, requireRole, requireScope, requireTier } from '@keyhold/verify/koa';

export interface OrdersApiOptions {
  /** Keyhold's issuer URL. */
  issuer: string;
  /** This API's resource identifier, registered with `keyhold resource create`. */
  audience: string;
  /** A browser app's origin allowed to call this API (CORS), e.g. the SPA example's. */
  corsOrigin?: string;
}

interface Order {
  id: string;
  item: string;
  created_by: string;
}

const MAX_BODY_BYTES = 4096;

async function readItem(ctx: Koa.Context): Promise<string | undefined> {
  if (!ctx.is('application/json')) return undefined;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { item?: unknown };
    return typeof body.item === 'string' && body.item.length > 0 && body.item.length <= 200 ? body.item : undefined;
  } catch {
    return undefined;
  }
}

export function createOrdersApi(options: OrdersApiOptions): Koa {
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience });
  const ordersByTenant = new Map<string, Order[]>();
  const caller = (ctx: Koa.Context) => ctx.state.auth as AccessTokenClaims;
  const ordersOf = (claims: AccessTokenClaims) => {
    const tenant = tenantOf(claims) ?? 'default';
    if (!ordersByTenant.has(tenant)) ordersByTenant.set(tenant, []);
    return { tenant, orders: ordersByTenant.get(tenant)! };
  };

  const router = new Router();
  // #region api-routes
  router.use(authenticate(verifier));
  router.get('/orders', requireScope('orders:read'), (ctx) => {
    const { tenant, orders } = ordersOf(caller(ctx));
    ctx.body = { tenant, orders };
  });
  router.post('/orders', requireScope('orders:write'), async (ctx) => {
    const item = await readItem(ctx);
    if (item === undefined) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'a JSON body with a non-empty "item" string is required' };
      return;
    }
    const order: Order = { id: randomUUID(), item, created_by: caller(ctx).sub };
    ordersOf(caller(ctx)).orders.push(order);
    ctx.status = 201;
    ctx.body = order;
  });
  // Deleting is for the account's administrators, not for every holder of orders:write.
  router.delete('/orders/:id', requireScope('orders:write'), requireRole('admin'), (ctx) => {
    const { orders } = ordersOf(caller(ctx));
    const index = orders.findIndex((order) => order.id === ctx.params.id);
    if (index < 0) {
      ctx.status = 404;
      ctx.body = { error: 'not_found' };
      return;
    }
    orders.splice(index, 1);
    ctx.status = 204;
  });
  // Reports are a paid feature.
  router.get('/reports', requireScope('orders:read'), requireTier('pro', 'team', 'enterprise'), (ctx) => {
    const { tenant, orders } = ordersOf(caller(ctx));
    ctx.body = { tenant, total: orders.length };
  });
  // #endregion api-routes

  const app = new Koa();
  if (options.corsOrigin) {
    const allowed = options.corsOrigin;
    app.use(async (ctx, next) => {
      if (ctx.get('origin') !== allowed) return next();
      ctx.set('access-control-allow-origin', allowed);
      ctx.set('vary', 'origin');
      if (ctx.method !== 'OPTIONS') return next();
      ctx.set('access-control-allow-methods', 'GET, POST, DELETE');
      ctx.set('access-control-allow-headers', 'authorization, content-type');
      ctx.status = 204;
    });
  }
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
