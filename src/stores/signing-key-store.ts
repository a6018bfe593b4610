import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, SigningKeyTable } from '#src/stores/schema.ts';

export type SigningKeyRow = Selectable<SigningKeyTable>;

export function listSigningKeys(db: Kysely<Database>): Promise<SigningKeyRow[]> {
  return db.selectFrom('signing_keys').selectAll().orderBy('activates_at', 'desc').orderBy('kid').execute();
}

export async function insertSigningKey(
  db: Kysely<Database>,
  key: { kid: string; alg: string; publicJwk: Record<string, unknown>; privateJwkEncrypted: string; activatesAt: Date },
): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({
      kid: key.kid,
      alg: key.alg,
      public_jwk: JSON.stringify(key.publicJwk),
      private_jwk_encrypted: key.privateJwkEncrypted,
      activates_at: key.activatesAt,
    })
    .execute();
}

export async function scheduleRetirement(db: Kysely<Database>, kid: string, retiredAt: Date, removesAt: Date): Promise<void> {
  await db.updateTable('signing_keys').set({ retired_at: retiredAt, removes_at: removesAt }).where('kid', '=', kid).execute();
}

export async function deleteSigningKeysRemovedBefore(db: Kysely<Database>, now: Date): Promise<void> {
  await db.deleteFrom('signing_keys').where('removes_at', '<=', now).execute();
}

// Key set changes are serialised across nodes (several starting at once on an empty
// database must create one first key, not one each).
export async function withKeySetLock<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('keyhold:signing-keys'))`.execute(trx);
    return work(trx);
  });
}
