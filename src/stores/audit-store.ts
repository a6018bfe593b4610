// The audit log: who did what to which account, when and from where. Details never hold
// passwords, tokens, codes or links.
import { sql, type Kysely, type Selectable } from 'kysely';
import { outboxValues, type OutboxEvent } from '#src/stores/event-store.ts';
import type { AuditLogTable, Database } from '#src/stores/schema.ts';

export type AuditRow = Selectable<AuditLogTable>;

export interface AuditEvent {
  event: string;
  accountId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
  /** Who acted (`account`, `cli`, `admin:<id>`, `system`); absent: not recorded. */
  actor?: string | null;
  outcome?: 'success' | 'failure' | null;
  userAgent?: string | null;
  requestId?: string | null;
}

function auditValues(entry: AuditEvent) {
  return {
    event: entry.event,
    account_id: entry.accountId ?? null,
    client_id: entry.clientId ?? null,
    ip: entry.ip ?? null,
    details: JSON.stringify(entry.details ?? {}),
    actor: entry.actor ?? null,
    outcome: entry.outcome ?? null,
    // Bounded: a user agent is whatever the client sent.
    user_agent: entry.userAgent?.slice(0, 512) ?? null,
    request_id: entry.requestId ?? null,
  };
}

export async function recordAudit(db: Kysely<Database>, entry: AuditEvent): Promise<void> {
  await db.insertInto('audit_log').values(auditValues(entry)).execute();
}

/**
 * The audit entry and its event (a row of the outbox, src/services/events.ts) in one
 * statement: both exist or neither, and a sign-in pays one round trip to the database for
 * the two, not two.
 */
export async function recordAuditWithEvent(db: Kysely<Database>, entry: AuditEvent, event: OutboxEvent): Promise<void> {
  await db
    .with('audit', (cte) => cte.insertInto('audit_log').values(auditValues(entry)))
    .insertInto('event_outbox')
    .values(outboxValues(event))
    .execute();
}

/** Deletes entries older than `days` days, at most 5000 per statement; returns how many. */
export async function deleteAuditOlderThan(db: Kysely<Database>, days: number): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await sql`
      delete from audit_log where id in (
        select id from audit_log where at < now() - make_interval(days => ${days}) limit 5000
      )
    `.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0n);
    total += deleted;
    if (deleted < 5000) return total;
  }
}

export function auditEventsForAccount(db: Kysely<Database>, accountId: string): Promise<AuditRow[]> {
  return db.selectFrom('audit_log').selectAll().where('account_id', '=', accountId).orderBy('at', 'desc').limit(1000).execute();
}

/** Keeps an erased account's audit trail but removes what identifies the person. */
export async function anonymiseAuditTrail(db: Kysely<Database>, accountId: string, pseudonym: string): Promise<void> {
  await db
    .updateTable('audit_log')
    .set({ account_id: null, ip: null, user_agent: null, details: JSON.stringify({ erased_subject: pseudonym }) })
    .where('account_id', '=', accountId)
    .execute();
}

export interface AuditFilter {
  event?: string;
  /** The account the event is about. */
  accountId?: string;
  /** Who did it, as recorded in details.actor (e.g. `account:<id>`, `client:<id>`, `cli`). */
  actor?: string;
  since?: Date;
  until?: Date;
  /** Only events about this tenant's accounts, or recorded with this tenant. */
  tenant?: string;
}

/**
 * Audit entries matching every filter, newest first, older than `cursor` (an id), at most
 * `limit`. Reads the columns every version of the table has, so columns added later do not
 * disturb it.
 */
export function queryAuditRows(db: Kysely<Database>, filter: AuditFilter, page: { cursor?: string; limit: number }): Promise<AuditRow[]> {
  let query = db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (page.cursor !== undefined) query = query.where('id', '<', page.cursor);
  if (filter.event !== undefined) query = query.where('event', '=', filter.event);
  if (filter.accountId !== undefined) query = query.where('account_id', '=', filter.accountId);
  if (filter.actor !== undefined) {
    const actor = filter.actor;
    query = query.where(({ or, eb }) => or([eb('actor', '=', actor), eb(sql<string>`details->>'actor'`, '=', actor)]));
  }
  if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('at', '<', filter.until);
  if (filter.tenant !== undefined) {
    const tenant = filter.tenant;
    query = query.where(({ or, eb, selectFrom }) =>
      or([eb('account_id', 'in', selectFrom('accounts').select('id').where('tenant', '=', tenant)), eb(sql<string>`details->>'tenant'`, '=', tenant)]),
    );
  }
  return query.execute();
}
