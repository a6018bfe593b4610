// The audit log: who did what to which account, when and from where. Details never hold
// passwords, tokens, codes or links.
import type { Kysely, Selectable } from 'kysely';
import type { AuditLogTable, Database } from '#src/stores/schema.ts';

export type AuditRow = Selectable<AuditLogTable>;

export interface AuditEvent {
  event: string;
  accountId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(db: Kysely<Database>, entry: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      event: entry.event,
      account_id: entry.accountId ?? null,
      client_id: entry.clientId ?? null,
      ip: entry.ip ?? null,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}

export function auditEventsForAccount(db: Kysely<Database>, accountId: string): Promise<AuditRow[]> {
  return db.selectFrom('audit_log').selectAll().where('account_id', '=', accountId).orderBy('at', 'desc').limit(1000).execute();
}

/** Keeps an erased account's audit trail but removes what identifies the person. */
export async function anonymiseAuditTrail(db: Kysely<Database>, accountId: string, pseudonym: string): Promise<void> {
  await db.updateTable('audit_log').set({ account_id: null, ip: null, details: JSON.stringify({ erased_subject: pseudonym }) }).where('account_id', '=', accountId).execute();
}
