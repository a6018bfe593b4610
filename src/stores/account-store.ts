import type { Kysely, Selectable } from 'kysely';
import type { AccountTable, Database } from '#src/stores/schema.ts';

export type AccountRow = Selectable<AccountTable>;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function findAccountById(db: Kysely<Database>, id: string): Promise<AccountRow | undefined> {
  // Ids arrive from tokens and URLs: anything that is not a UUID cannot exist, and
  // Postgres would reject it with an error rather than return nothing.
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return Promise.resolve(undefined);
  return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findAccountByEmail(db: Kysely<Database>, email: string): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').selectAll().where('email_normalized', '=', normalizeEmail(email)).executeTakeFirst();
}

export interface NewAccount {
  id: string;
  email: string;
  name: string | null;
  passwordHash: string | null;
  emailVerified: boolean;
  roles: string[];
  tier: string | null;
  tenant: string | null;
}

/** Inserts an account; returns undefined when the email is already taken. */
export async function insertAccount(db: Kysely<Database>, account: NewAccount): Promise<AccountRow | undefined> {
  return db
    .insertInto('accounts')
    .values({
      id: account.id,
      email: account.email.trim(),
      email_normalized: normalizeEmail(account.email),
      email_verified: account.emailVerified,
      name: account.name,
      password_hash: account.passwordHash,
      roles: JSON.stringify(account.roles),
      tier: account.tier,
      tenant: account.tenant,
    })
    .onConflict((conflict) => conflict.column('email_normalized').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function recordLogin(db: Kysely<Database>, id: string, passwordHash?: string): Promise<void> {
  await db
    .updateTable('accounts')
    .set({ last_login_at: new Date(), ...(passwordHash ? { password_hash: passwordHash, updated_at: new Date() } : {}) })
    .where('id', '=', id)
    .execute();
}
