// Roles: named sets of API scopes (role → resource → scopes). An account's roles decide
// which scopes of an API its tokens may carry (see authorization.ts); a role nobody defined
// is only a label (it still appears in the `roles` claim) and grants nothing.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { KeyholdError } from '#src/errors.ts';
import { message } from '#src/messages/index.ts';
import { ADMIN_SCOPES, adminResourceFor, ensureAdminResource, findResource } from '#src/services/resources.ts';
import { findRoleRow, insertRoleGrantRows, insertRoleRow, listRoleGrantRows } from '#src/stores/role-store.ts';
import type { Database } from '#src/stores/schema.ts';

export interface Role {
  name: string;
  description: string | null;
  /** What the role grants, per API resource. */
  grants: Array<{ resource: string; scopes: string[] }>;
}

export const roleNameSchema = z.string().regex(/^[A-Za-z0-9][\w.:-]{0,63}$/, message('error.invalid_role'));

function parseName(name: string): string {
  const parsed = roleNameSchema.safeParse(name);
  if (!parsed.success) throw new KeyholdError('invalid_role');
  return parsed.data;
}

export async function describeRole(db: Kysely<Database>, name: string): Promise<Role | undefined> {
  const row = await findRoleRow(db, name);
  if (!row) return undefined;
  const grants = new Map<string, string[]>();
  for (const grant of await listRoleGrantRows(db, name)) grants.set(grant.resource, [...(grants.get(grant.resource) ?? []), grant.scope]);
  return { name: row.name, description: row.description, grants: [...grants].map(([resource, scopes]) => ({ resource, scopes })) };
}

export async function createRole(db: Kysely<Database>, input: { name: string; description?: string }): Promise<Role> {
  const name = parseName(input.name);
  const description = input.description?.trim() || null;
  if (description && description.length > 500) throw new KeyholdError('invalid_role', { key: 'error.invalid_role.description' });
  if (!(await insertRoleRow(db, { name, description }))) throw new KeyholdError('role_exists', { params: { name } });
  return { name, description, grants: [] };
}

/** Adds scopes of one registered API to a role; every scope must be one the API defines. */
export async function grantRole(db: Kysely<Database>, input: { name: string; resource: string; scopes: string[] }): Promise<Role> {
  const name = parseName(input.name);
  if (!(await findRoleRow(db, name))) throw new KeyholdError('unknown_role', { params: { name } });
  const resource = await findResource(db, input.resource);
  if (!resource) throw new KeyholdError('unknown_resource', { params: { identifier: input.resource } });
  const unknown = input.scopes.filter((scope) => !resource.scopes.includes(scope));
  if (unknown.length > 0) throw new KeyholdError('invalid_scope', { params: { resource: resource.identifier, scopes: unknown.join(', '), defined: resource.scopes.join(' ') } });
  await insertRoleGrantRows(db, [...new Set(input.scopes)].map((scope) => ({ role: name, resource: resource.identifier, scope })));
  return (await describeRole(db, name))!;
}

/** Creates the roles new accounts get (DEFAULT_ROLES) when missing; they grant nothing until granted. */
export async function ensureRoles(db: Kysely<Database>, names: readonly string[]): Promise<void> {
  for (const name of names) await insertRoleRow(db, { name: parseName(name), description: null });
}

/**
 * Registers the Admin API resource and, only when it is new, grants its scopes to role
 * `admin`. An operator who later takes them away is not overruled at the next start.
 */
export async function ensureAdminApi(db: Kysely<Database>, issuer: string): Promise<void> {
  if (!(await ensureAdminResource(db, issuer))) return;
  await insertRoleRow(db, { name: 'admin', description: 'Administrators: the Admin API' });
  await insertRoleGrantRows(db, ADMIN_SCOPES.map((scope) => ({ role: 'admin', resource: adminResourceFor(issuer), scope })));
}
