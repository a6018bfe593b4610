// The audit log as administrators read it: filtered by action, subject, actor and time,
// newest first. An administrator bound to a tenant reads only that tenant's entries.
import type { Kysely } from 'kysely';
import type { AdminActor } from '#src/services/admin/actor.ts';
import { loadPage, type Page, type PageRequest } from '#src/services/admin/page.ts';
import { SERIAL_SHAPE } from '#src/stores/id-shapes.ts';
import { queryAuditRows, type AuditFilter, type AuditRow } from '#src/stores/audit-store.ts';
import type { Database } from '#src/stores/schema.ts';

export interface AuditEntry {
  id: string;
  at: string;
  action: string;
  subject: string | null;
  client_id: string | null;
  actor: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

function toEntry(row: AuditRow): AuditEntry {
  // Newer entries name the actor in their own column; older ones (and admin actions) in details.
  const actor = row.actor ?? row.details.actor;
  return {
    id: String(row.id),
    at: row.at.toISOString(),
    action: row.event,
    subject: row.account_id,
    client_id: row.client_id,
    actor: typeof actor === 'string' ? actor : null,
    ip: row.ip,
    details: row.details,
  };
}

export function createAuditReader(db: Kysely<Database>) {
  return {
    query(actor: AdminActor, filter: Omit<AuditFilter, 'tenant'>, page: PageRequest): Promise<Page<AuditEntry>> {
      const scoped: AuditFilter = { ...filter, ...(actor.tenant !== undefined ? { tenant: actor.tenant } : {}) };
      return loadPage(page, (request) => queryAuditRows(db, scoped, request), (row) => String(row.id), toEntry, SERIAL_SHAPE);
    },
  };
}

export type AuditReader = ReturnType<typeof createAuditReader>;
