// The responses kept for REFRESH_REUSE_GRACE: the token response that rotated a refresh
// token, under that (now consumed) token, for the grace window only. Kept beside the
// engine's state, in the same store (Redis when configured, else SQL), as an object of its
// own model: the adapter hashes the id, expires it with the window, and lists it under its
// grant, so revoking the grant drops it too.
//
// The response holds live tokens, so it is sealed (AES-256-GCM) under a key derived from
// both the server's key and the rotated refresh token itself: a copy of the store alone,
// even with KEYHOLD_SECRET, opens nothing without the token that was presented.
import { hkdfSync } from 'node:crypto';
import { decrypt, encrypt, hashToken } from '#src/crypto.ts';
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';

const MODEL = 'RefreshGrace';

export interface KeptResponse {
  clientId: string;
  body: Record<string, unknown>;
}

export interface RefreshGraceStore {
  keep(refreshToken: string, grantId: string, response: KeptResponse, ttlSeconds: number): Promise<void>;
  /** The response kept for that rotated token, if any (and if it opens). */
  find(refreshToken: string): Promise<KeptResponse | undefined>;
}

export function createRefreshGraceStore(engineState: EngineStateStore, key: Buffer): RefreshGraceStore {
  const adapter = new engineState.Adapter(MODEL);
  const sealKey = (refreshToken: string) => Buffer.from(hkdfSync('sha256', key, refreshToken, 'keyhold refresh grace', 32));
  const associatedData = (refreshToken: string) => `${MODEL}|${hashToken(refreshToken)}`;
  return {
    async keep(refreshToken, grantId, response, ttlSeconds) {
      const sealed = encrypt(sealKey(refreshToken), JSON.stringify(response), associatedData(refreshToken));
      const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
      await adapter.upsert(refreshToken, { kind: MODEL, grantId, exp, sealed } as never, ttlSeconds);
    },
    async find(refreshToken) {
      const payload = (await adapter.find(refreshToken)) as { sealed?: unknown } | undefined;
      if (typeof payload?.sealed !== 'string') return undefined;
      try {
        return JSON.parse(decrypt(sealKey(refreshToken), payload.sealed, associatedData(refreshToken))) as KeptResponse;
      } catch {
        return undefined;
      }
    },
  };
}
