import type { Kysely } from 'kysely';
import type { Database } from '#src/stores/schema.ts';

export interface RoleRow {
  name: string;
  description: string | null;
}

export interface RoleGrantRow {
  role: string;
  resource: string;
  scope: string;
}

/** Inserts a role; false when the name is taken. */
export async function insertRoleRow(db: Kysely<Database>, role: RoleRow): Promise<boolean> {
  const inserted = await db
    .insertInto('roles')
    .values({ name: role.name, description: role.description })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .returning('name')
    .executeTakeFirst();
  return inserted !== undefined;
}

export function findRoleRow(db: Kysely<Database>, name: string): Promise<RoleRow | undefined> {
  return db.selectFrom('roles').select(['name', 'description']).where('name', '=', name).executeTakeFirst();
}

export function listRoleGrantRows(db: Kysely<Database>, role: string): Promise<RoleGrantRow[]> {
  return db.selectFrom('role_grants').select(['role', 'resource', 'scope']).where('role', '=', role).orderBy('resource').orderBy('scope').execute();
}

/** Adds grants; ones the role already has are left as they are. */
export async function insertRoleGrantRows(db: Kysely<Database>, grants: RoleGrantRow[]): Promise<void> {
  if (grants.length === 0) return;
  await db
    .insertInto('role_grants')
    .values(grants)
    .onConflict((conflict) => conflict.columns(['role', 'resource', 'scope']).doNothing())
    .execute();
}

/** The scopes of one resource that any of the roles grants. */
export async function grantedScopeRows(db: Kysely<Database>, roles: string[], resource: string): Promise<string[]> {
  if (roles.length === 0) return [];
  const rows = await db.selectFrom('role_grants').select('scope').distinct().where('resource', '=', resource).where('role', 'in', roles).execute();
  return rows.map((row) => row.scope);
}

/** Roles in name order after `cursor`, at most `limit`. */
export function listRoleRows(db: Kysely<Database>, page: { cursor?: string; limit: number }): Promise<RoleRow[]> {
  let query = db.selectFrom('roles').select(['name', 'description']).orderBy('name').limit(page.limit);
  if (page.cursor !== undefined) query = query.where('name', '>', page.cursor);
  return query.execute();
}

export async function updateRoleRow(db: Kysely<Database>, name: string, description: string | null): Promise<boolean> {
  return (await db.updateTable('roles').set({ description }).where('name', '=', name).returning('name').executeTakeFirst()) !== undefined;
}

/** Deletes a role and its grants; false when it was not there. Accounts keep the label. */
export async function deleteRoleRow(db: Kysely<Database>, name: string): Promise<boolean> {
  return (await db.deleteFrom('roles').where('name', '=', name).returning('name').executeTakeFirst()) !== undefined;
}

/** Replaces every grant of a role with `grants`, in one transaction. */
export async function replaceRoleGrantRows(db: Kysely<Database>, role: string, grants: RoleGrantRow[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('role_grants').where('role', '=', role).execute();
    await insertRoleGrantRows(trx, grants);
  });
}
