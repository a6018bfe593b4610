// Passkeys in SQL: credentials are rows of mfa_factors (kind `passkey`), challenges are
// single-use: a used one is a row of webauthn_challenges. A counter only moves forward, in one UPDATE.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { MfaFactorRow } from '#src/stores/mfa-store.ts';
import type { Database } from '#src/stores/schema.ts';

type Executor = Kysely<Database> | Transaction<Database>;

export interface NewPasskey {
  id: string;
  accountId: string;
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
  name: string;
}

export async function insertPasskey(db: Executor, passkey: NewPasskey): Promise<boolean> {
  const row = await db
    .insertInto('mfa_factors')
    .values({
      id: passkey.id,
      account_id: passkey.accountId,
      kind: 'passkey',
      credential_id: passkey.credentialId,
      public_key: passkey.publicKey,
      sign_count: passkey.signCount,
      transports: JSON.stringify(passkey.transports),
      device_type: passkey.deviceType,
      backed_up: passkey.backedUp,
      name: passkey.name,
      confirmed_at: new Date(),
    })
    .onConflict((oc) => oc.column('credential_id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export function findPasskeyByCredential(db: Executor, credentialId: string): Promise<MfaFactorRow | undefined> {
  return db.selectFrom('mfa_factors').selectAll().where('kind', '=', 'passkey').where('credential_id', '=', credentialId).executeTakeFirst();
}

export function listPasskeys(db: Executor, accountId: string): Promise<MfaFactorRow[]> {
  return db.selectFrom('mfa_factors').selectAll().where('kind', '=', 'passkey').where('account_id', '=', accountId).orderBy('created_at').execute();
}

/** Records a use: the counter moves to `signCount` (never back; 0 stays 0 for counter-less authenticators). */
export async function recordPasskeyUse(db: Executor, id: string, signCount: number, backedUp: boolean): Promise<void> {
  await db.updateTable('mfa_factors').set({ sign_count: signCount, backed_up: backedUp, last_used_at: new Date() }).where('id', '=', id).execute();
}

export async function renamePasskey(db: Executor, accountId: string, id: string, name: string): Promise<boolean> {
  const row = await db.updateTable('mfa_factors').set({ name }).where('account_id', '=', accountId).where('id', '=', id).where('kind', '=', 'passkey').returning('id').executeTakeFirst();
  return row !== undefined;
}

/**
 * Records a challenge as used (src/services/mfa/webauthn-challenges.ts); false when it was
 * used before. The row stays a day past its expiry (deleteExpiredWebauthnChallenges), far
 * longer than the id is accepted, whatever the difference between the nodes' clocks.
 */
export async function useWebauthnChallenge(db: Executor, challenge: { id: string; accountId?: string; purpose: string; challengeHash: string; expiresAt: Date }): Promise<boolean> {
  const row = await db
    .insertInto('webauthn_challenges')
    .values({
      id: challenge.id,
      account_id: challenge.accountId ?? null,
      purpose: challenge.purpose,
      challenge_hash: challenge.challengeHash,
      expires_at: challenge.expiresAt,
      consumed_at: new Date(),
    })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function deleteExpiredWebauthnChallenges(db: Executor): Promise<void> {
  await db.deleteFrom('webauthn_challenges').where('expires_at', '<', sql<Date>`now() - interval '1 day'`).execute();
}
