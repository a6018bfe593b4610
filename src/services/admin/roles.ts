// Administration of roles and what they grant. Roles are shared by every tenant, so
// changing them is for owners and the CLI; any administrator may read them (to assign
// them). A grant change takes effect at each account's next token (issue or refresh).
import type { Kysely } from 'kysely';
import { KeyholdError } from '#src/errors.ts';
import { assertEveryTenant, auditDetails, type AdminActor } from '#src/services/admin/actor.ts';
import { loadPage, type Page, type PageRequest } from '#src/services/admin/page.ts';
import { findResource } from '#src/services/resources.ts';
import { createRole, describeRole, roleNameSchema, type Role } from '#src/services/roles.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import { deleteRoleRow, listRoleRows, replaceRoleGrantRows, updateRoleRow, type RoleGrantRow } from '#src/stores/role-store.ts';
import type { Database } from '#src/stores/schema.ts';

export function createRoleAdmin(db: Kysely<Database>) {
  const unknown = (name: string) => new KeyholdError('unknown_role', { params: { name } });
  const existing = async (name: string): Promise<Role> => {
    const role = roleNameSchema.safeParse(name).success ? await describeRole(db, name) : undefined;
    if (!role) throw unknown(name);
    return role;
  };
  const audit = (actor: AdminActor, event: string, name: string, details: Record<string, unknown> = {}) =>
    recordAudit(db, { event, ip: actor.ip, details: { ...auditDetails(actor), role: name, ...details } });

  return {
    async list(_actor: AdminActor, page: PageRequest): Promise<Page<Role>> {
      const listed = await loadPage(page, (request) => listRoleRows(db, request), (row) => row.name, (row) => row.name);
      return { items: await Promise.all(listed.items.map(async (name) => (await describeRole(db, name))!)), nextCursor: listed.nextCursor };
    },

    get(_actor: AdminActor, name: string): Promise<Role> {
      return existing(name);
    },

    async create(actor: AdminActor, input: { name: string; description?: string }): Promise<Role> {
      assertEveryTenant(actor);
      const role = await createRole(db, input);
      await audit(actor, 'admin.role_created', role.name);
      return role;
    },

    async update(actor: AdminActor, name: string, change: { description?: string | null }): Promise<Role> {
      assertEveryTenant(actor);
      await existing(name);
      const description = change.description?.trim() || null;
      if (description && description.length > 500) throw new KeyholdError('invalid_role', { key: 'error.invalid_role.description' });
      if (change.description !== undefined) await updateRoleRow(db, name, description);
      await audit(actor, 'admin.role_updated', name, { fields: Object.keys(change) });
      return existing(name);
    },

    /** Deletes the role and its grants; accounts keep the name as a label that grants nothing. */
    async remove(actor: AdminActor, name: string): Promise<void> {
      assertEveryTenant(actor);
      await existing(name);
      if (!(await deleteRoleRow(db, name))) throw unknown(name);
      await audit(actor, 'admin.role_deleted', name);
    },

    /** Replaces everything the role grants; each scope must be one its API defines. */
    async setGrants(actor: AdminActor, name: string, grants: Array<{ resource: string; scopes: string[] }>): Promise<Role> {
      assertEveryTenant(actor);
      const before = await existing(name);
      const rows: RoleGrantRow[] = [];
      for (const grant of grants) {
        const resource = await findResource(db, grant.resource);
        if (!resource) throw new KeyholdError('unknown_resource', { params: { identifier: grant.resource } });
        const undefinedScopes = grant.scopes.filter((scope) => !resource.scopes.includes(scope));
        if (undefinedScopes.length > 0) {
          throw new KeyholdError('invalid_scope', { params: { resource: resource.identifier, scopes: undefinedScopes.join(', '), defined: resource.scopes.join(' ') } });
        }
        for (const scope of new Set(grant.scopes)) rows.push({ role: name, resource: resource.identifier, scope });
      }
      await replaceRoleGrantRows(db, name, rows);
      const after = await existing(name);
      await audit(actor, 'admin.role_grants_changed', name, { from: before.grants, to: after.grants });
      return after;
    },
  };
}

export type RoleAdmin = ReturnType<typeof createRoleAdmin>;
