// Hashes of passwords an account used before, to refuse their reuse. The current hash
// lives on the account; a password change records the hash it replaces here.
import type { Kysely } from 'kysely';
import type { Database } from '#src/stores/schema.ts';

/** Records a replaced password hash and keeps only the newest `keep` for the account. */
export async function recordPasswordHash(db: Kysely<Database>, accountId: string, hash: string, keep: number): Promise<void> {
  await db.insertInto('password_history').values({ account_id: accountId, password_hash: hash }).execute();
  // now() is the same for every row written in one transaction, so the id (a sequence)
  // breaks ties in insertion order.
  const newest = db
    .selectFrom('password_history')
    .select('id')
    .where('account_id', '=', accountId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.max(keep, 0));
  await db.deleteFrom('password_history').where('account_id', '=', accountId).where('id', 'not in', newest).execute();
}

/** The account's most recent earlier password hashes, newest first. */
export async function recentPasswordHashes(db: Kysely<Database>, accountId: string, limit: number): Promise<string[]> {
  if (limit <= 0) return [];
  const rows = await db
    .selectFrom('password_history')
    .select('password_hash')
    .where('account_id', '=', accountId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => row.password_hash);
}

/** When each earlier password was replaced, newest first (never the hashes): for the data export. */
export function passwordReplacementDates(db: Kysely<Database>, accountId: string) {
  return db.selectFrom('password_history').select('created_at').where('account_id', '=', accountId).orderBy('created_at', 'desc').execute();
}
