// The federated sign-in's browser session (what grant keeps between the redirect upstream
// and the callback: state, nonce, PKCE verifier; then the verified upstream identity) lives
// server-side, beside the engine's state and sealed like it. The browser's cookie holds
// only the session's random key.
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';

const MODEL = 'FederationSession';

export interface SessionStore {
  get(key: string): Promise<Record<string, unknown> | undefined>;
  set(key: string, session: Record<string, unknown>, maxAgeMs: number): Promise<void>;
  destroy(key: string): Promise<void>;
}

export function createFederationSessionStore(engineState: EngineStateStore, ttlSeconds: number): SessionStore {
  const adapter = new engineState.Adapter(MODEL);
  return {
    async get(key) {
      const payload = (await adapter.find(key)) as (Record<string, unknown> & { session?: Record<string, unknown> }) | undefined;
      return payload?.session;
    },
    async set(key, session) {
      await adapter.upsert(key, { jti: key, kind: MODEL, exp: Math.floor(Date.now() / 1000) + ttlSeconds, session } as never, ttlSeconds);
    },
    async destroy(key) {
      await adapter.destroy(key);
    },
  };
}
