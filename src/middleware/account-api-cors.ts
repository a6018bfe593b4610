// CORS for the Account API. Browser apps call it with bearer tokens (no cookies), from
// the origins their registered redirect URIs are on (the clients service knows which);
// any other origin gets no CORS headers, so the browser keeps the response from it.
import type { Middleware } from 'koa';
import type { ClientService } from '#src/services/clients.ts';

export function accountApiCors(clients: Pick<ClientService, 'registeredOrigins'>, pathPrefix = '/api/account'): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== pathPrefix && !ctx.path.startsWith(`${pathPrefix}/`)) return next();
    const origin = ctx.get('origin');
    ctx.vary('Origin');
    const allowed = origin !== '' && (await clients.registeredOrigins()).has(origin);
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      ctx.status = 204;
      if (allowed) {
        ctx.set('Access-Control-Allow-Origin', origin);
        ctx.set('Access-Control-Allow-Methods', 'GET, PATCH, POST, DELETE');
        ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type');
        ctx.set('Access-Control-Max-Age', '600');
      }
      return;
    }
    if (allowed) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate, Retry-After, Content-Disposition');
    }
    await next();
  };
}
