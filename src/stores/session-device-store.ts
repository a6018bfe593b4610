// Devices of browser sessions (see migrations/20261206T181100_session-devices.ts).
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, SessionDeviceTable } from '#src/stores/schema.ts';

export type SessionDeviceRow = Selectable<SessionDeviceTable>;

export interface SessionDeviceSeen {
  sessionKey: string;
  accountId: string;
  userAgent: string | null;
  ip: string | null;
  expiresAt: Date | null;
}

/** Records a session's use; true when the session was not known before (it just started). */
export async function recordSessionDevice(db: Kysely<Database>, seen: SessionDeviceSeen): Promise<boolean> {
  const row = await db
    .insertInto('session_devices')
    .values({ session_key: seen.sessionKey, account_id: seen.accountId, user_agent: seen.userAgent, ip: seen.ip, expires_at: seen.expiresAt })
    .onConflict((oc) =>
      oc.column('session_key').doUpdateSet({
        last_active_at: sql`now()`,
        ip: (eb) => eb.ref('excluded.ip'),
        user_agent: (eb) => eb.ref('excluded.user_agent'),
        expires_at: (eb) => eb.ref('excluded.expires_at'),
      }),
    )
    // xmax is 0 for a freshly inserted row, the updating transaction's id otherwise.
    .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
    .executeTakeFirst();
  return row?.inserted === true;
}

export function sessionDevicesOf(db: Kysely<Database>, accountId: string): Promise<SessionDeviceRow[]> {
  return db.selectFrom('session_devices').selectAll().where('account_id', '=', accountId).execute();
}

export async function forgetSessionDevice(db: Kysely<Database>, sessionKey: string): Promise<void> {
  await db.deleteFrom('session_devices').where('session_key', '=', sessionKey).execute();
}

/** Removes rows whose session cannot be alive any more. */
export async function deleteExpiredSessionDevices(db: Kysely<Database>): Promise<number> {
  const result = await db.deleteFrom('session_devices').where('expires_at', '<=', sql<Date>`now()`).executeTakeFirst();
  return Number(result.numDeletedRows);
}
