// Administration of API resources (RFC 8707). Resources are shared by every tenant, so
// changing them is for owners and the CLI; any administrator may read them. Keyhold's own
// APIs (Account, Admin) are fixed.
import type { Kysely } from 'kysely';
import { KeyholdError } from '#src/errors.ts';
import { assertEveryTenant, auditDetails, type AdminActor } from '#src/services/admin/actor.ts';
import { loadPage, type Page, type PageRequest } from '#src/services/admin/page.ts';
import { accountResourceFor, adminResourceFor, createResource, findResource, scopeSchema, type ApiResource } from '#src/services/resources.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import { deleteResourceRow, deleteStaleGrantRows, listResourceRows, updateResourceRow, type ResourceRow } from '#src/stores/resource-store.ts';
import type { Database } from '#src/stores/schema.ts';

const toResource = (row: ResourceRow): ApiResource => ({ identifier: row.identifier, scopes: row.scopes, accessTokenTtl: row.access_token_ttl });

export function createResourceAdmin(db: Kysely<Database>, issuer: string) {
  const ownApis = new Set([accountResourceFor(issuer), adminResourceFor(issuer)]);
  const unknown = (identifier: string) => new KeyholdError('unknown_resource', { params: { identifier } });
  const assertChangeable = (identifier: string) => {
    if (ownApis.has(identifier)) throw new KeyholdError('forbidden', { key: 'error.forbidden.own_api', params: { identifier } });
  };
  const audit = (actor: AdminActor, event: string, identifier: string, details: Record<string, unknown> = {}) =>
    recordAudit(db, { event, ip: actor.ip, details: { ...auditDetails(actor), resource: identifier, ...details } });

  return {
    list(_actor: AdminActor, page: PageRequest): Promise<Page<ApiResource>> {
      return loadPage(page, (request) => listResourceRows(db, request), (row) => row.identifier, toResource);
    },

    async get(_actor: AdminActor, identifier: string): Promise<ApiResource> {
      const resource = await findResource(db, identifier);
      if (!resource) throw unknown(identifier);
      return resource;
    },

    async create(actor: AdminActor, input: { identifier: string; scopes: string[]; accessTokenTtl?: number }): Promise<ApiResource> {
      assertEveryTenant(actor);
      const resource = await createResource(db, input);
      await audit(actor, 'admin.resource_created', resource.identifier, { scopes: resource.scopes });
      return resource;
    },

    /** Replaces the scopes (grants of scopes no longer defined go) and/or the token lifetime (null: the default). */
    async update(actor: AdminActor, identifier: string, change: { scopes?: string[]; accessTokenTtl?: number | null }): Promise<ApiResource> {
      assertEveryTenant(actor);
      if (!(await findResource(db, identifier))) throw unknown(identifier);
      assertChangeable(identifier);
      const scopes = change.scopes === undefined ? undefined : [...new Set(change.scopes)];
      for (const scope of scopes ?? []) {
        if (!scopeSchema.safeParse(scope).success) throw new KeyholdError('invalid_resource', { key: 'error.invalid_resource.scope', params: { scope } });
      }
      const row = await db.transaction().execute(async (trx) => {
        const updated = await updateResourceRow(trx, identifier, { scopes, accessTokenTtl: change.accessTokenTtl });
        if (updated && scopes) await deleteStaleGrantRows(trx, identifier, scopes);
        return updated;
      });
      if (!row) throw unknown(identifier);
      await audit(actor, 'admin.resource_updated', identifier, { fields: Object.keys(change) });
      return toResource(row);
    },

    /** Deletes the resource and every role grant of it; tokens already issued for it live out their TTL. */
    async remove(actor: AdminActor, identifier: string): Promise<void> {
      assertEveryTenant(actor);
      if (!(await findResource(db, identifier))) throw unknown(identifier);
      assertChangeable(identifier);
      if (!(await deleteResourceRow(db, identifier))) throw unknown(identifier);
      await audit(actor, 'admin.resource_deleted', identifier);
    },
  };
}

export type ResourceAdmin = ReturnType<typeof createResourceAdmin>;
