// The request scope REFRESH_REUSE_GRACE needs inside the engine-state adapters: which
// request is a refresh at the token endpoint (so a token rotated within the window is shown
// as unconsumed), and the mark a replay leaves for the token endpoint's middleware
// (src/oidc/refresh-grace.ts), which opens the scope around each engine request. Kept here,
// beside the adapters, so that the core (and the CLI, which builds only the core) loads
// nothing of the engine's configuration.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RefreshGracePolicy } from '#src/stores/oidc-adapter-common.ts';

export interface GraceRequest {
  /** Whether this request is a refresh_token grant at the token endpoint. */
  isRefresh(): boolean;
  /** Set by the adapter when it refused a token rotated within the window. */
  replayed: boolean;
}

export interface RefreshGraceScope {
  /** REFRESH_REUSE_GRACE, seconds; 0 is strict. */
  seconds: number;
  /** Handed to the engine-state adapters. */
  policy: RefreshGracePolicy;
  /** Runs one engine request inside the scope. */
  run<T>(request: GraceRequest, work: () => Promise<T>): Promise<T>;
}

export function createRefreshGraceScope(seconds: number): RefreshGraceScope {
  const requests = new AsyncLocalStorage<GraceRequest>();
  return {
    seconds,
    policy: {
      window() {
        const request = requests.getStore();
        return request?.isRefresh() ? seconds : 0;
      },
      replayed() {
        const request = requests.getStore();
        if (request) request.replayed = true;
      },
    },
    run: (request, work) => requests.run(request, work),
  };
}
