import { sql, type Kysely, type Selectable } from 'kysely';
import { recordPasswordHash } from '#src/stores/password-history-store.ts';
import { DEFAULT_TENANT, ensureTenantRow } from '#src/stores/tenant-store.ts';
import type { AccountTable, Database } from '#src/stores/schema.ts';
import { isUuid } from '#src/stores/id-shapes.ts';

export type AccountRow = Selectable<AccountTable>;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function findAccountById(db: Kysely<Database>, id: string): Promise<AccountRow | undefined> {
  // Ids arrive from tokens and URLs: anything that is not a UUID cannot exist, and
  // Postgres would reject it with an error rather than return nothing.
  if (!isUuid(id)) return Promise.resolve(undefined);
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
  const tenant = account.tenant ?? DEFAULT_TENANT;
  await ensureTenantRow(db, tenant);
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
      tenant,
    })
    .onConflict((conflict) => conflict.column('email_normalized').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/**
 * Records a sign-in; the account as it is now, or undefined when it was deactivated (or
 * deleted) meanwhile. The sign-in goes on with this row, not the one read before the
 * password was checked: a role or a deactivation that came in while the hash ran counts.
 */
export function recordLogin(db: Kysely<Database>, id: string, passwordHash?: string): Promise<AccountRow | undefined> {
  return db
    .updateTable('accounts')
    .set({ last_login_at: new Date(), ...(passwordHash ? { password_hash: passwordHash, updated_at: new Date() } : {}) })
    .where('id', '=', id)
    .where('active', '=', true)
    .returningAll()
    .executeTakeFirst();
}

type Executor = Kysely<Database>;

/**
 * Locks the account's row until the transaction ends, so checks made inside it (such as
 * "was a reset mailed in the last minute?") cannot race a concurrent request for the same account.
 */
export async function lockAccount(db: Executor, id: string): Promise<void> {
  await db.selectFrom('accounts').select('id').where('id', '=', id).forUpdate().execute();
}

/** Replaces the password hash and records the one it replaces in the history. */
export async function replacePasswordHash(db: Executor, id: string, newHash: string, historySize: number): Promise<void> {
  const current = await db.selectFrom('accounts').select('password_hash').where('id', '=', id).executeTakeFirst();
  await db.updateTable('accounts').set({ password_hash: newHash, password_changed_at: new Date(), updated_at: new Date() }).where('id', '=', id).execute();
  if (current?.password_hash) await recordPasswordHash(db, id, current.password_hash, historySize);
}

/** Removes the password: nobody signs in with it any more, only a reset sets a new one. */
export async function clearPasswordHash(db: Executor, id: string): Promise<void> {
  await db.updateTable('accounts').set({ password_hash: null, password_changed_at: new Date(), updated_at: new Date() }).where('id', '=', id).execute();
}

export async function markEmailVerified(db: Executor, id: string): Promise<void> {
  await db.updateTable('accounts').set({ email_verified: true, updated_at: new Date() }).where('id', '=', id).execute();
}

/** Switches the account's email (verified); false when the address was taken meanwhile. */
export async function changeEmail(db: Executor, id: string, email: string): Promise<boolean> {
  const row = await db
    .updateTable('accounts')
    .set({ email: email.trim(), email_normalized: normalizeEmail(email), email_verified: true, updated_at: new Date() })
    .where('id', '=', id)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('accounts as other').select('other.id').where('other.email_normalized', '=', normalizeEmail(email)).where('other.id', '!=', id))),
    )
    .returning('id')
    .executeTakeFirst()
    .catch((error: { code?: string }) => {
      if (error.code === '23505') return undefined;
      throw error;
    });
  return row !== undefined;
}

export type ProfileColumns = Partial<Pick<AccountRow, 'name' | 'given_name' | 'family_name' | 'picture' | 'locale' | 'zoneinfo' | 'phone_number' | 'phone_number_verified'>>;

export async function updateProfileColumns(db: Executor, id: string, columns: ProfileColumns): Promise<AccountRow | undefined> {
  return db.updateTable('accounts').set({ ...columns, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteAccountRow(db: Executor, id: string): Promise<boolean> {
  const row = await db.deleteFrom('accounts').where('id', '=', id).returning('id').executeTakeFirst();
  return row !== undefined;
}

export type AuthorizationColumns = Partial<Pick<AccountRow, 'tier' | 'active'>> & { roles?: string[]; tenant?: string | null };

/** Changes an account's roles, tier, tenant (null: `default`; created when new) or active flag. */
export async function updateAuthorizationColumns(db: Executor, id: string, columns: AuthorizationColumns): Promise<AccountRow | undefined> {
  const { roles, tenant, ...rest } = columns;
  if (tenant !== undefined) await ensureTenantRow(db, tenant ?? DEFAULT_TENANT);
  return db
    .updateTable('accounts')
    .set({ ...rest, ...(roles ? { roles: JSON.stringify(roles) } : {}), ...(tenant !== undefined ? { tenant: tenant ?? DEFAULT_TENANT } : {}), updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export interface AccountFilter {
  /** Part of the email address (case-insensitive); a whole address matches only itself. */
  email?: string;
  /** Part of the name (case-insensitive). */
  name?: string;
  role?: string;
  tier?: string;
  tenant?: string;
  active?: boolean;
}

// Something before and after one @ with a dot in the domain: an address, looked up exactly.
const WHOLE_ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

/** Accounts matching every given filter, in id order after `cursor` (an id), at most `limit`. */
export function listAccountRows(db: Kysely<Database>, filter: AccountFilter, page: { cursor?: string; limit: number }): Promise<AccountRow[]> {
  let query = db.selectFrom('accounts').selectAll().orderBy('id').limit(page.limit);
  if (page.cursor !== undefined) query = query.where('id', '>', page.cursor);
  if (filter.email !== undefined) {
    const email = normalizeEmail(filter.email);
    query = WHOLE_ADDRESS.test(email) ? query.where('email_normalized', '=', email) : query.where('email_normalized', 'like', likePattern(email));
  }
  if (filter.name !== undefined) query = query.where('name', 'ilike', likePattern(filter.name));
  if (filter.role !== undefined) query = query.where(sql<boolean>`roles @> ${JSON.stringify([filter.role])}::jsonb`);
  if (filter.tier !== undefined) query = query.where('tier', '=', filter.tier);
  if (filter.tenant !== undefined) query = query.where('tenant', '=', filter.tenant);
  if (filter.active !== undefined) query = query.where('active', '=', filter.active);
  return query.execute();
}
