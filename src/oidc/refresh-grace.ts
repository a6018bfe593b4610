// REFRESH_REUSE_GRACE at the token endpoint (DESIGN.md, "Refresh tokens"). With a grace of
// N seconds, a refresh token presented again within N seconds of its rotation, by the
// client it belongs to, gets the very same successor tokens as the request that rotated
// it, never a second branch; after the window, reuse revokes the grant as in strict mode.
//
// How the pieces meet: this middleware runs around the engine for each request and opens
// a scope the storage adapters consult (src/stores/refresh-grace-scope.ts). The adapters show a token
// rotated within the window as unconsumed, so the engine checks the client (another
// client is refused there: "client mismatch") and the rest, then calls consume(); there
// the adapter sees the earlier rotation, marks this request a replay and fails it without
// revoking. Back here, a successful rotation's response is kept (sealed) for the window,
// and a replay is answered with the kept response once the winner has stored it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, Middleware } from 'koa';
import type { GraceRequest, RefreshGraceScope } from '#src/stores/refresh-grace-scope.ts';
import type { RefreshGraceStore } from '#src/stores/refresh-grace-store.ts';

/** How long a replay waits for the winning request, still running, to store its response. */
const WINNER_WAIT_MS = 10_000;

interface EngineView {
  route?: string;
  params?: { grant_type?: unknown; refresh_token?: unknown };
  client?: { clientId: string };
  entities: { RotatedRefreshToken?: { grantId?: string } };
}

function refreshGrantOf(ctx: Context): EngineView | undefined {
  const engine = (ctx as { oidc?: EngineView }).oidc;
  return engine?.route === 'token' && engine.params?.grant_type === 'refresh_token' ? engine : undefined;
}

/** Mounted on every engine built (provider.use), with the scope the adapters read and the store of kept responses. */
export function refreshGraceMiddleware(scope: RefreshGraceScope, store: RefreshGraceStore): Middleware {
  const { seconds } = scope;
  return async function refreshReuseGrace(ctx, next) {
    if (seconds === 0 || ctx.method !== 'POST') return next();
    const request: GraceRequest = { isRefresh: () => refreshGrantOf(ctx) !== undefined, replayed: false };
    await scope.run(request, next);
    const engine = refreshGrantOf(ctx);
    const presented = engine?.params?.refresh_token;
    const clientId = engine?.client?.clientId;
    if (!engine || typeof presented !== 'string' || !clientId) return;
    const rotated = engine.entities.RotatedRefreshToken;
    if (ctx.status === 200 && rotated?.grantId && ctx.body && typeof ctx.body === 'object') {
      await store.keep(presented, rotated.grantId, { clientId, body: ctx.body as Record<string, unknown> }, seconds);
      return;
    }
    if (!request.replayed) return;
    const deadline = Date.now() + WINNER_WAIT_MS;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      const kept = await store.find(presented);
      // The engine has already refused another client; checked again because the kept
      // response is only ever the presenting client's.
      if (kept && kept.clientId === clientId) {
        ctx.status = 200;
        ctx.body = kept.body;
        return;
      }
      // The winner failed after consuming the token: the replay keeps its invalid_grant.
      if (Date.now() + delay > deadline) return;
      await sleep(delay);
    }
  };
}
