// Second factors, recovery codes and sent codes in SQL. Every "use once" rule is one
// conditional UPDATE … RETURNING, so two requests at once (or two nodes) cannot both win.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, MfaChallengeTable, MfaFactorTable } from '#src/stores/schema.ts';
import { isUuid } from '#src/stores/id-shapes.ts';

type Executor = Kysely<Database> | Transaction<Database>;
export type MfaFactorRow = Selectable<MfaFactorTable>;
export type MfaChallengeRow = Selectable<MfaChallengeTable>;

export async function insertFactor(db: Executor, factor: { id: string; accountId: string; kind: MfaFactorRow['kind']; secretEncrypted?: string; phoneNumber?: string; confirmed?: boolean }): Promise<void> {
  await db
    .insertInto('mfa_factors')
    .values({
      id: factor.id,
      account_id: factor.accountId,
      kind: factor.kind,
      secret_encrypted: factor.secretEncrypted ?? null,
      phone_number: factor.phoneNumber ?? null,
      confirmed_at: factor.confirmed ? new Date() : null,
    })
    .execute();
}

/** The account's factor by id; undefined for another account's, an unknown or a malformed id. */
export async function findFactor(db: Executor, accountId: string, id: string): Promise<MfaFactorRow | undefined> {
  if (!isUuid(id)) return undefined;
  return db.selectFrom('mfa_factors').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

/** The account's factors, oldest first; confirmed ones only unless `pending` is asked for. */
export function listFactors(db: Executor, accountId: string, options: { pending?: boolean } = {}): Promise<MfaFactorRow[]> {
  let query = db.selectFrom('mfa_factors').selectAll().where('account_id', '=', accountId);
  if (!options.pending) query = query.where('confirmed_at', 'is not', null);
  return query.orderBy('created_at').orderBy('id').execute();
}

/**
 * Locks the account's factors for the rest of the transaction: two removals at once then
 * run one after the other, and the second counts what the first left (no write skew).
 */
export async function lockFactors(db: Transaction<Database>, accountId: string): Promise<void> {
  await db.selectFrom('mfa_factors').select('id').where('account_id', '=', accountId).forUpdate().execute();
}

export async function countConfirmedFactors(db: Executor, accountId: string): Promise<number> {
  const row = await db.selectFrom('mfa_factors').select((eb) => eb.fn.countAll<string>().as('count')).where('account_id', '=', accountId).where('confirmed_at', 'is not', null).executeTakeFirst();
  return Number(row?.count ?? 0);
}

/** Confirms a pending factor; false when it was confirmed (or removed) meanwhile. */
export async function confirmFactor(db: Executor, id: string, totpStep?: number): Promise<boolean> {
  const row = await db
    .updateTable('mfa_factors')
    .set({ confirmed_at: new Date(), last_used_at: new Date(), ...(totpStep !== undefined ? { last_totp_step: totpStep } : {}) })
    .where('id', '=', id)
    .where('confirmed_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Drops unfinished enrolments of a kind (a new one replaces them). */
export async function deletePendingFactors(db: Executor, accountId: string, kind: MfaFactorRow['kind']): Promise<void> {
  await db.deleteFrom('mfa_factors').where('account_id', '=', accountId).where('kind', '=', kind).where('confirmed_at', 'is', null).execute();
}

export async function deleteFactor(db: Executor, accountId: string, id: string): Promise<MfaFactorRow | undefined> {
  return db.deleteFrom('mfa_factors').where('account_id', '=', accountId).where('id', '=', id).returningAll().executeTakeFirst();
}

/**
 * Records that a TOTP code of time step `step` was accepted: true only if no code of this
 * step or a later one was accepted before, so each code works once, on every node.
 */
export async function claimTotpStep(db: Executor, id: string, step: number): Promise<boolean> {
  const row = await db
    .updateTable('mfa_factors')
    .set({ last_totp_step: step, last_used_at: new Date() })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_totp_step', 'is', null), eb('last_totp_step', '<', String(step))]))
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function touchFactor(db: Executor, id: string): Promise<void> {
  await db.updateTable('mfa_factors').set({ last_used_at: new Date() }).where('id', '=', id).execute();
}

/** Replaces the account's recovery codes with a new set (the old ones stop working). */
export async function replaceRecoveryCodes(db: Executor, accountId: string, codes: { id: string; hash: string }[]): Promise<void> {
  await db.deleteFrom('mfa_recovery_codes').where('account_id', '=', accountId).execute();
  if (codes.length > 0) await db.insertInto('mfa_recovery_codes').values(codes.map((code) => ({ id: code.id, account_id: accountId, code_hash: code.hash }))).execute();
}

/** Marks an unused code as used; false when there is none with this hash (or it was used). */
export async function useRecoveryCode(db: Executor, accountId: string, hash: string): Promise<boolean> {
  const row = await db
    .updateTable('mfa_recovery_codes')
    .set({ used_at: new Date() })
    .where('account_id', '=', accountId)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function countUnusedRecoveryCodes(db: Executor, accountId: string): Promise<number> {
  const row = await db.selectFrom('mfa_recovery_codes').select((eb) => eb.fn.countAll<string>().as('count')).where('account_id', '=', accountId).where('used_at', 'is', null).executeTakeFirst();
  return Number(row?.count ?? 0);
}

export async function deleteRecoveryCodes(db: Executor, accountId: string): Promise<void> {
  await db.deleteFrom('mfa_recovery_codes').where('account_id', '=', accountId).execute();
}

export async function insertChallenge(db: Executor, challenge: { id: string; accountId: string; factorId: string; purpose: string; codeHash: string; ttlSeconds: number }): Promise<void> {
  await db
    .insertInto('mfa_challenges')
    .values({
      id: challenge.id,
      account_id: challenge.accountId,
      factor_id: challenge.factorId,
      purpose: challenge.purpose,
      code_hash: challenge.codeHash,
      expires_at: sql<Date>`now() + make_interval(secs => ${challenge.ttlSeconds})`,
    })
    .execute();
}

/** The newest code sent to a factor for a purpose, used or not. */
export function latestChallenge(db: Executor, factorId: string, purpose: string): Promise<MfaChallengeRow | undefined> {
  return db.selectFrom('mfa_challenges').selectAll().where('factor_id', '=', factorId).where('purpose', '=', purpose).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
}

/** When a code last went to an unconfirmed factor of the account for a purpose (the enrolment a new one replaces). */
export async function latestPendingFactorChallengeAt(db: Executor, accountId: string, purpose: string): Promise<Date | undefined> {
  const row = await db
    .selectFrom('mfa_challenges')
    .innerJoin('mfa_factors', 'mfa_factors.id', 'mfa_challenges.factor_id')
    .select('mfa_challenges.created_at')
    .where('mfa_challenges.account_id', '=', accountId)
    .where('mfa_challenges.purpose', '=', purpose)
    .where('mfa_factors.confirmed_at', 'is', null)
    .orderBy('mfa_challenges.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.created_at;
}

/**
 * Spends one attempt on an open challenge: its row (with the attempt counted) while it is
 * unused, unexpired and has attempts left, else undefined. The check of the code follows.
 */
export function spendChallengeAttempt(db: Executor, id: string, maxAttempts: number): Promise<MfaChallengeRow | undefined> {
  return db
    .updateTable('mfa_challenges')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .where('attempts', '<', maxAttempts)
    .where('expires_at', '>', sql<Date>`now()`)
    .returningAll()
    .executeTakeFirst();
}

/** Uses a challenge up; false when another request did first. */
export async function consumeChallenge(db: Executor, id: string): Promise<boolean> {
  const row = await db.updateTable('mfa_challenges').set({ consumed_at: new Date() }).where('id', '=', id).where('consumed_at', 'is', null).returning('id').executeTakeFirst();
  return row !== undefined;
}

export async function deleteChallenges(db: Executor, accountId: string, purpose: string): Promise<void> {
  await db.deleteFrom('mfa_challenges').where('account_id', '=', accountId).where('purpose', '=', purpose).execute();
}

/** Counts one sign-in let through without a required factor; the new count. */
export async function useMfaGrace(db: Executor, accountId: string): Promise<number> {
  const row = await db
    .updateTable('accounts')
    .set((eb) => ({ mfa_grace_used: eb('mfa_grace_used', '+', 1) }))
    .where('id', '=', accountId)
    .returning('mfa_grace_used')
    .executeTakeFirst();
  return row?.mfa_grace_used ?? 0;
}

export async function mfaGraceUsed(db: Executor, accountId: string): Promise<number> {
  const row = await db.selectFrom('accounts').select('mfa_grace_used').where('id', '=', accountId).executeTakeFirst();
  return row?.mfa_grace_used ?? 0;
}
