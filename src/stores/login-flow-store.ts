// Login flows live beside the engine's interactions, in the same store (Redis when
// configured, else SQL), under the interaction's uid and for the interaction's lifetime.
// The adapter hashes the id and seals it, as for every engine object.
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';

const MODEL = 'LoginFlow';

export interface LoginFlowStore<T extends { uid: string }> {
  find(uid: string): Promise<T | undefined>;
  save(flow: T, ttlSeconds: number): Promise<void>;
  remove(uid: string): Promise<void>;
}

export function createLoginFlowStore<T extends { uid: string }>(engineState: EngineStateStore): LoginFlowStore<T> {
  const adapter = new engineState.Adapter(MODEL);
  return {
    async find(uid) {
      const payload = (await adapter.find(uid)) as (Record<string, unknown> & { flow?: T }) | undefined;
      return payload?.flow;
    },
    async save(flow, ttlSeconds) {
      await adapter.upsert(flow.uid, { jti: flow.uid, kind: MODEL, exp: Math.floor(Date.now() / 1000) + ttlSeconds, flow } as never, ttlSeconds);
    },
    async remove(uid) {
      await adapter.destroy(uid);
    },
  };
}
