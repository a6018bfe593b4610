// Administration of connectors (federation upstreams). A connector shows on every tenant's
// sign-in pages, so adding, changing and removing one is for owners and the CLI; any
// administrator may read them. The rules of a connector's metadata are the connector
// service's (src/services/federation/connectors.ts), the same for the CLI and the Admin API.
import type { Kysely } from 'kysely';
import { assertEveryTenant, auditDetails, type AdminActor } from '#src/services/admin/actor.ts';
import type { Page, PageRequest } from '#src/services/admin/page.ts';
import type { ConnectorService, ConnectorView } from '#src/services/federation/connectors.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import type { Database } from '#src/stores/schema.ts';

/** The fields a change names, never their values (a secret among them). */
const fieldsOf = (input: unknown): string[] => (input && typeof input === 'object' && !Array.isArray(input) ? Object.keys(input).slice(0, 20) : []);

export function createConnectorAdmin(db: Kysely<Database>, connectors: ConnectorService) {
  const audit = (actor: AdminActor, event: string, id: string, details: Record<string, unknown> = {}) =>
    recordAudit(db, { event, ip: actor.ip, details: { ...auditDetails(actor), connector: id, ...details } });

  return {
    list: (_actor: AdminActor, page: PageRequest): Promise<Page<ConnectorView>> => connectors.page(page),

    get: (_actor: AdminActor, id: string): Promise<ConnectorView> => connectors.get(id),

    async create(actor: AdminActor, metadata: unknown): Promise<ConnectorView> {
      assertEveryTenant(actor);
      const created = await connectors.create(metadata);
      await audit(actor, 'admin.connector_created', created.id, { type: created.type });
      return created;
    },

    async update(actor: AdminActor, id: string, change: unknown): Promise<ConnectorView> {
      assertEveryTenant(actor);
      const updated = await connectors.update(id, change);
      await audit(actor, 'admin.connector_updated', id, { fields: fieldsOf(change) });
      return updated;
    },

    /** Removes the connector and every identity linked through it. */
    async remove(actor: AdminActor, id: string): Promise<{ id: string; deleted: true }> {
      assertEveryTenant(actor);
      const removed = await connectors.remove(id);
      await audit(actor, 'admin.connector_deleted', id);
      return removed;
    },
  };
}

export type ConnectorAdmin = ReturnType<typeof createConnectorAdmin>;
