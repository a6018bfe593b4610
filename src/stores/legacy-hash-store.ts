// What remains of imported (bcrypt) password hashes.
import { sql, type Kysely } from 'kysely';
import type { Database } from '#src/stores/schema.ts';

/** The highest cost among stored bcrypt hashes ($2a$/$2b$/$2y$, cost in characters 5–6), or undefined when none is left. */
export async function maxBcryptCost(db: Kysely<Database>): Promise<number | undefined> {
  const row = await db
    .selectFrom('accounts')
    .select(sql<string | null>`max(substring(password_hash from 5 for 2))`.as('cost'))
    .where('password_hash', 'like', '$2_$%')
    .executeTakeFirst();
  const cost = Number(row?.cost);
  return cost >= 4 && cost <= 31 ? cost : undefined;
}
