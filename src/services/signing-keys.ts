// Signing keys: generated on first start, stored encrypted, shared by every node, rotated
// in stages. A key's stage follows from its timestamps, so every node that reads the table
// agrees on it without coordination:
//   published  activates_at > now            in JWKS, not signing yet (verifiers learn it)
//   signing    activates_at <= now, not retired
//   retired    retired_at <= now < removes_at in JWKS so that tokens it signed still verify
//   removed    removes_at <= now              gone
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { exportJWK, generateKeyPair } from 'jose';
import { decrypt, encrypt } from '#src/crypto.ts';
import { KeyholdError } from '#src/errors.ts';
import type { Database } from '#src/stores/schema.ts';
import {
  deleteSigningKeysRemovedBefore,
  insertSigningKey,
  listSigningKeys,
  scheduleRetirement,
  withKeySetLock,
  type SigningKeyRow,
} from '#src/stores/signing-key-store.ts';

export const SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export type KeyStage = 'published' | 'signing' | 'retired' | 'removed';

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  stage: KeyStage;
  createdAt: string;
  activatesAt: string;
  retiredAt: string | null;
  removesAt: string | null;
}

export interface SigningKeyOptions {
  /** AES key for private JWKs at rest. */
  encryptionKey: Buffer;
  algorithms: readonly SigningAlg[];
  /** Seconds a rotated-in key is published before it signs. */
  activationDelay: number;
  /** Seconds a retired key stays in JWKS: the longest lifetime of anything it signed. */
  retentionAfterRetirement: number;
}

export function keyStage(row: SigningKeyRow, now: Date): KeyStage {
  if (row.removes_at && row.removes_at <= now) return 'removed';
  if (row.retired_at && row.retired_at <= now) return 'retired';
  if (row.activates_at > now) return 'published';
  return 'signing';
}

function describe(row: SigningKeyRow, now: Date): SigningKeyInfo {
  return {
    kid: row.kid,
    alg: row.alg,
    stage: keyStage(row, now),
    createdAt: row.created_at.toISOString(),
    activatesAt: row.activates_at.toISOString(),
    retiredAt: row.retired_at?.toISOString() ?? null,
    removesAt: row.removes_at?.toISOString() ?? null,
  };
}

async function createKey(db: Kysely<Database>, options: SigningKeyOptions, alg: SigningAlg, activatesAt: Date): Promise<string> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg.startsWith('RS') || alg.startsWith('PS') ? { modulusLength: 2048 } : {}) });
  const kid = randomUUID();
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const { d, p, q, dp, dq, qi, ...publicJwk } = privateJwk;
  void [d, p, q, dp, dq, qi];
  await insertSigningKey(db, {
    kid,
    alg,
    publicJwk,
    privateJwkEncrypted: encrypt(options.encryptionKey, JSON.stringify(privateJwk), `signing-key:${kid}`),
    activatesAt,
  });
  return kid;
}

/** On start: make sure every configured algorithm has a key that signs or will sign. */
export async function ensureSigningKeys(db: Kysely<Database>, options: SigningKeyOptions, now = new Date()): Promise<void> {
  await withKeySetLock(db, async (trx) => {
    const rows = await listSigningKeys(trx);
    for (const alg of options.algorithms) {
      const usable = rows.some((row) => row.alg === alg && ['signing', 'published'].includes(keyStage(row, now)) && !row.retired_at);
      if (!usable) await createKey(trx, options, alg, now);
    }
  });
}

export async function listKeys(db: Kysely<Database>, now = new Date()): Promise<SigningKeyInfo[]> {
  return (await listSigningKeys(db)).map((row) => describe(row, now));
}

/**
 * Starts a rotation for each algorithm (or one): a new key is published now and signs
 * after the activation delay; the current signing key retires at that moment and is
 * removed once everything it signed has expired.
 */
export async function rotateKeys(db: Kysely<Database>, options: SigningKeyOptions, alg?: SigningAlg, now = new Date()): Promise<SigningKeyInfo[]> {
  // A key for an algorithm the nodes are not configured for would be published but never
  // chosen to sign, and would confuse the next rotation.
  if (alg !== undefined && !options.algorithms.includes(alg)) {
    throw new KeyholdError('invalid_signing_alg', { params: { alg, algorithms: options.algorithms.join(', ') } });
  }
  const activatesAt = new Date(now.getTime() + options.activationDelay * 1000);
  const created = await withKeySetLock(db, async (trx) => {
    const rows = await listSigningKeys(trx);
    const kids: string[] = [];
    for (const algorithm of alg ? [alg] : options.algorithms) {
      for (const row of rows) {
        if (row.alg !== algorithm || row.retired_at) continue;
        await scheduleRetirement(trx, row.kid, activatesAt, new Date(activatesAt.getTime() + options.retentionAfterRetirement * 1000));
      }
      kids.push(await createKey(trx, options, algorithm, activatesAt));
    }
    return kids;
  });
  return (await listKeys(db, now)).filter((key) => created.includes(key.kid));
}

/** Retires one key now; refused when it would leave an algorithm with no key to sign. */
export async function retireKey(db: Kysely<Database>, options: SigningKeyOptions, kid: string, now = new Date()): Promise<SigningKeyInfo> {
  const rows = await listSigningKeys(db);
  const target = rows.find((row) => row.kid === kid);
  if (!target) throw new KeyholdError('unknown_signing_key', { params: { kid } });
  const stage = keyStage(target, now);
  if (stage === 'retired' || stage === 'removed') throw new KeyholdError('signing_key_retired', { params: { kid, stage } });
  const successors = rows.filter((row) => row.kid !== kid && row.alg === target.alg && !row.retired_at && row.activates_at <= now);
  if (successors.length === 0) {
    throw new KeyholdError('last_signing_key', { params: { kid, alg: target.alg } });
  }
  await scheduleRetirement(db, kid, now, new Date(now.getTime() + options.retentionAfterRetirement * 1000));
  return describe({ ...target, retired_at: now, removes_at: new Date(now.getTime() + options.retentionAfterRetirement * 1000) }, now);
}

/**
 * The private JWKS handed to the engine. The engine signs with the first key of a matching
 * algorithm, so signing keys come first (newest first), then published ones, then retired.
 */
export async function loadEngineJwks(db: Kysely<Database>, options: SigningKeyOptions, now = new Date()): Promise<{ keys: Record<string, unknown>[]; fingerprint: string }> {
  await deleteSigningKeysRemovedBefore(db, now);
  const rows = await listSigningKeys(db);
  const order: KeyStage[] = ['signing', 'published', 'retired'];
  const ranked = rows
    .map((row) => ({ row, stage: keyStage(row, now) }))
    .filter(({ stage }) => stage !== 'removed')
    .sort((a, b) => order.indexOf(a.stage) - order.indexOf(b.stage) || b.row.activates_at.getTime() - a.row.activates_at.getTime());
  const keys = ranked.map(({ row }) => JSON.parse(decrypt(options.encryptionKey, row.private_jwk_encrypted, `signing-key:${row.kid}`)) as Record<string, unknown>);
  return { keys, fingerprint: ranked.map(({ row, stage }) => `${row.kid}:${stage}`).join(',') };
}
