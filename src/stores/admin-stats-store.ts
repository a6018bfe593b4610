// Counts for the console's dashboard, read from the audit log and the session devices.
import { sql, type Kysely } from 'kysely';
import type { Database } from '#src/stores/schema.ts';

/** Audit events grouped as the dashboard shows them. */
export const SIGN_IN_EVENTS = ['login.succeeded'] as const;
export const FAILURE_EVENTS = ['login.failed', 'login.mfa_failed', 'login.passkey_failed', 'federation.failed'] as const;
export const LOCKOUT_EVENTS = ['account.locked'] as const;

export interface DailyCountRow {
  day: string;
  event: string;
  count: number;
}

/** Audit entries of `events` per UTC day since `since`; of one tenant's accounts when given. */
export async function dailyEventCounts(db: Kysely<Database>, events: readonly string[], since: Date, tenant?: string): Promise<DailyCountRow[]> {
  let query = db
    .selectFrom('audit_log')
    .select([sql<string>`to_char(at at time zone 'UTC', 'YYYY-MM-DD')`.as('day'), 'event', (eb) => eb.fn.countAll<string>().as('count')])
    .where('event', 'in', [...events])
    .where('at', '>=', since)
    .groupBy([sql`1`, 'event']);
  if (tenant !== undefined) query = query.where('account_id', 'in', (eb) => eb.selectFrom('accounts').select('id').where('tenant', '=', tenant));
  const rows = await query.execute();
  return rows.map((row) => ({ day: row.day, event: row.event, count: Number(row.count) }));
}

/** Accounts with a browser session device not yet expired; of one tenant when given. */
export async function accountsWithSessionDevices(db: Kysely<Database>, tenant?: string): Promise<string[]> {
  let query = db
    .selectFrom('session_devices')
    .select('account_id')
    .distinct()
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]));
  if (tenant !== undefined) query = query.where('account_id', 'in', (eb) => eb.selectFrom('accounts').select('id').where('tenant', '=', tenant));
  return (await query.execute()).map((row) => row.account_id);
}
