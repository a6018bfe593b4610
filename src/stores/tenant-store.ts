import type { Kysely, Selectable } from 'kysely';
import type { Database, TenantTable } from '#src/stores/schema.ts';

export type TenantRow = Selectable<TenantTable>;

/** The tenant every account and client belongs to unless said otherwise (created by the migration). */
export const DEFAULT_TENANT = 'default';

export interface TenantValues {
  name?: string | null;
  registration?: string | null;
  mfaRequiredTiers?: string[] | null;
}

function columns(values: TenantValues) {
  return {
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.registration !== undefined ? { registration: values.registration } : {}),
    ...(values.mfaRequiredTiers !== undefined ? { mfa_required_tiers: values.mfaRequiredTiers === null ? null : JSON.stringify(values.mfaRequiredTiers) } : {}),
  };
}

/** Creates the tenant when missing (an account or client naming a new tenant creates it). */
export async function ensureTenantRow(db: Kysely<Database>, id: string): Promise<void> {
  await db.insertInto('tenants').values({ id }).onConflict((conflict) => conflict.column('id').doNothing()).execute();
}

/** Inserts a tenant; undefined when the id is taken. */
export function insertTenantRow(db: Kysely<Database>, id: string, values: TenantValues): Promise<TenantRow | undefined> {
  return db
    .insertInto('tenants')
    .values({ id, ...columns(values) })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function findTenantRow(db: Kysely<Database>, id: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Tenants in id order, after `cursor` (an id), at most `limit`. */
export function listTenantRows(db: Kysely<Database>, page: { cursor?: string; limit: number; only?: string }): Promise<TenantRow[]> {
  let query = db.selectFrom('tenants').selectAll().orderBy('id').limit(page.limit);
  if (page.cursor !== undefined) query = query.where('id', '>', page.cursor);
  if (page.only !== undefined) query = query.where('id', '=', page.only);
  return query.execute();
}

export function updateTenantRow(db: Kysely<Database>, id: string, values: TenantValues): Promise<TenantRow | undefined> {
  return db
    .updateTable('tenants')
    .set({ ...columns(values), updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** How many accounts and clients belong to the tenant. */
export async function countTenantMembers(db: Kysely<Database>, id: string): Promise<{ accounts: number; clients: number }> {
  const [accounts, clients] = await Promise.all([
    db.selectFrom('accounts').select((eb) => eb.fn.countAll<string>().as('count')).where('tenant', '=', id).executeTakeFirstOrThrow(),
    db.selectFrom('clients').select((eb) => eb.fn.countAll<string>().as('count')).where('tenant', '=', id).executeTakeFirstOrThrow(),
  ]);
  return { accounts: Number(accounts.count), clients: Number(clients.count) };
}

export async function deleteTenantRow(db: Kysely<Database>, id: string): Promise<boolean> {
  return (await db.deleteFrom('tenants').where('id', '=', id).returning('id').executeTakeFirst()) !== undefined;
}
