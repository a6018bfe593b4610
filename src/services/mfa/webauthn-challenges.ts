// WebAuthn challenges without a write per page. A challenge is derived, not stored: its id
// is a time-ordered uuid (the issue time in its first 48 bits, then random bits) and the
// challenge is an HMAC over the id, the purpose and the account, under a server key. So
// nobody can make one without the key, an id cannot be moved in time or to another
// purpose or account (the challenge would differ), and the login page, shown on every
// sign-in, writes nothing. The row is written once a response to the challenge checked out:
// inserting its id fails if it was used before, which makes it single-use across nodes. An
// id older than the TTL is refused before anything; used rows are kept a day past their
// expiry (src/jobs/webauthn-challenge-cleanup.ts), far longer than nodes' clocks differ.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { constantTimeEqual } from '#src/crypto.ts';
import { flowFailure } from '#src/services/flows.ts';
import { isUuid } from '#src/stores/id-shapes.ts';
import { useWebauthnChallenge } from '#src/stores/passkey-store.ts';
import type { Database } from '#src/stores/schema.ts';

export const CHALLENGE_TTL_SECONDS = 300;
/** Tolerated clock difference between nodes for an id issued "in the future". */
const CLOCK_SKEW_MS = 30_000;

export interface IssuedChallenge {
  id: string;
  /** The bytes the authenticator signs over (base64url in the options). */
  challenge: Uint8Array<ArrayBuffer>;
}

/** A uuid whose first 48 bits are `nowMs` (RFC 9562 version 7). */
export function timeOrderedUuid(nowMs: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** When a time-ordered uuid was made; undefined for any other shape. */
export function issuedAtOf(id: string): number | undefined {
  if (!isUuid(id) || id[14] !== '7') return undefined;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** A challenge being answered: check the response against it, then use it up. */
export interface OpenedChallenge {
  /** Whether `challenge` (base64url, as in clientDataJSON) is this one. */
  matches(challenge: string): boolean;
  /** Uses it up; refused (invalid_code) when it was used before. */
  use(): Promise<void>;
}

export function createWebauthnChallenges(deps: { db: Kysely<Database>; key: Buffer; now?: () => number }) {
  const now = deps.now ?? Date.now;
  // Length-prefixed fields: no two (purpose, account) pairs give the same input.
  const derive = (id: string, purpose: string, accountId: string | undefined) =>
    createHmac('sha256', deps.key).update(JSON.stringify(['webauthn-challenge', id, purpose, accountId ?? ''])).digest();

  return {
    /** A new challenge for `purpose` (and, for a second factor or a registration, the account). */
    issue(purpose: string, accountId?: string): IssuedChallenge {
      const id = timeOrderedUuid(now());
      return { id, challenge: new Uint8Array(derive(id, purpose, accountId)) };
    },

    /**
     * The challenge `id` names, for `purpose` and the account. Refused at once: an unknown
     * shape, an expired id, one stamped in the future. One issued for another purpose or
     * account never matches. It is used up only after the response checked out, so that a
     * made-up id writes nothing.
     */
    open(id: string, purpose: string, accountId?: string): OpenedChallenge {
      const issuedAt = issuedAtOf(id);
      const at = now();
      if (issuedAt === undefined || issuedAt > at + CLOCK_SKEW_MS || at - issuedAt > CHALLENGE_TTL_SECONDS * 1000) throw flowFailure('invalid');
      const expected = derive(id, purpose, accountId).toString('base64url');
      return {
        matches: (challenge) => constantTimeEqual(challenge, expected),
        async use() {
          // The row keeps a digest of the challenge, never the challenge itself.
          const challengeHash = createHash('sha256').update(expected).digest('base64url');
          const fresh = await useWebauthnChallenge(deps.db, { id, accountId, purpose, challengeHash, expiresAt: new Date(issuedAt + CHALLENGE_TTL_SECONDS * 1000) });
          if (!fresh) throw flowFailure('invalid');
        },
      };
    },
  };
}

export type WebauthnChallenges = ReturnType<typeof createWebauthnChallenges>;
