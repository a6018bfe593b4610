// CORS for the Account API. Browser apps call it with bearer tokens (no cookies), from
// the origins their registered redirect URIs are on; any other origin gets no CORS
// headers, so the browser keeps the response from it.
import type { Middleware } from 'koa';
import type { Kysely } from 'kysely';
import type { Database } from '#src/stores/schema.ts';
import { listClientRows } from '#src/stores/client-store.ts';

const CACHE_MS = 30_000;

function originOf(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return undefined;
  try {
    const { origin } = new URL(uri);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

export function accountApiCors(db: Kysely<Database>, pathPrefix = '/api/account'): Middleware {
  let cached: { origins: Set<string>; at: number } | undefined;
  const allowedOrigins = async () => {
    if (!cached || Date.now() - cached.at > CACHE_MS) {
      const rows = await listClientRows(db);
      const origins = new Set(rows.flatMap((row) => (Array.isArray(row.metadata.redirect_uris) ? row.metadata.redirect_uris : []).map(originOf).filter((origin): origin is string => origin !== undefined)));
      cached = { origins, at: Date.now() };
    }
    return cached.origins;
  };

  return async (ctx, next) => {
    if (ctx.path !== pathPrefix && !ctx.path.startsWith(`${pathPrefix}/`)) return next();
    const origin = ctx.get('origin');
    ctx.vary('Origin');
    const allowed = origin !== '' && (await allowedOrigins()).has(origin);
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
