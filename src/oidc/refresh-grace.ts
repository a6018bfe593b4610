// REFRESH_REUSE_GRACE at the token endpoint (DESIGN.md, "Refresh tokens"). With a grace of
// N seconds, a refresh token presented again within N seconds of its rotation, by the
// client it belongs to, gets the very same successor tokens as the request that rotated
// it, never a second branch; after the window, reuse revokes the grant as in strict mode.
//
// How the pieces meet: this middleware runs around the engine for each request and opens
// a scope the storage adapters consult (RefreshGracePolicy). The adapters show a token
// rotated within the window as unconsumed, so the engine checks the client (another
// client is refused there: "client mismatch") and the rest, then calls consume(); there
// the adapter sees the earlier rotation, marks this request a replay and fails it without
// revoking. Back here, a successful rotation's response is kept (sealed) for the window,
// and a replay is answered with the kept response once the winner has stored it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, Middleware } from 'koa';
import type { RefreshGracePolicy } from '#src/stores/oidc-adapter-common.ts';
import type { RefreshGraceStore } from '#src/stores/refresh-grace-store.ts';

interface GraceRequest {
  ctx: Context;
  replayed: boolean;
}

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

export interface RefreshGrace {
  /** Handed to the engine-state adapters. */
  policy: RefreshGracePolicy;
  /** Mounted on every engine built (provider.use), with the store of kept responses. */
  middleware(store: RefreshGraceStore): Middleware;
}

export function createRefreshGrace(seconds: number): RefreshGrace {
  const requests = new AsyncLocalStorage<GraceRequest>();
  const policy: RefreshGracePolicy = {
    window() {
      const request = requests.getStore();
      return request && refreshGrantOf(request.ctx) ? seconds : 0;
    },
    replayed() {
      const request = requests.getStore();
      if (request) request.replayed = true;
    },
  };

  const middleware = (store: RefreshGraceStore): Middleware =>
    async function refreshReuseGrace(ctx, next) {
      if (seconds === 0 || ctx.method !== 'POST') return next();
      const request: GraceRequest = { ctx, replayed: false };
      await requests.run(request, next);
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

  return { policy, middleware };
}
