// The console's dashboard: sign-ins, failures and lockouts per day, and the browser sessions
// alive now. An administrator bound to a tenant counts only that tenant's accounts.
import type { Kysely } from 'kysely';
import type { AdminActor } from '#src/services/admin/actor.ts';
import { accountsWithSessionDevices, dailyEventCounts, FAILURE_EVENTS, LOCKOUT_EVENTS, SIGN_IN_EVENTS } from '#src/stores/admin-stats-store.ts';
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';
import type { Database } from '#src/stores/schema.ts';

export interface DailyActivity {
  /** YYYY-MM-DD (UTC). */
  date: string;
  sign_ins: number;
  failures: number;
  lockouts: number;
}

export interface ActivitySummary {
  days: DailyActivity[];
  active_sessions: number;
}

const DAY_MS = 86_400_000;
// Accounts whose sessions are looked up at once.
const SESSION_LOOKUP_BATCH = 20;

export function createStatsReader(db: Kysely<Database>, engineState: Pick<EngineStateStore, 'accountSessions'>) {
  // The device records say which accounts may have sessions; the engine's state says which
  // sessions are alive (a device row outlives a session ended by an administrator or
  // replaced at sign-in until it expires).
  const liveSessions = async (tenant: string | undefined): Promise<number> => {
    const accounts = await accountsWithSessionDevices(db, tenant);
    let count = 0;
    for (let start = 0; start < accounts.length; start += SESSION_LOOKUP_BATCH) {
      const batch = accounts.slice(start, start + SESSION_LOOKUP_BATCH);
      for (const sessions of await Promise.all(batch.map((accountId) => engineState.accountSessions(accountId)))) count += sessions.length;
    }
    return count;
  };

  return {
    /** The last `days` UTC days, today included, oldest first; days without events count 0. */
    async summary(actor: AdminActor, days: number, now = new Date()): Promise<ActivitySummary> {
      const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
      const since = new Date(today - (days - 1) * DAY_MS);
      const [rows, activeSessions] = await Promise.all([
        dailyEventCounts(db, [...SIGN_IN_EVENTS, ...FAILURE_EVENTS, ...LOCKOUT_EVENTS], since, actor.tenant),
        liveSessions(actor.tenant),
      ]);
      const byDay = new Map<string, DailyActivity>();
      for (let index = 0; index < days; index++) {
        const date = new Date(since.getTime() + index * DAY_MS).toISOString().slice(0, 10);
        byDay.set(date, { date, sign_ins: 0, failures: 0, lockouts: 0 });
      }
      const column = (event: string): keyof Omit<DailyActivity, 'date'> =>
        (SIGN_IN_EVENTS as readonly string[]).includes(event) ? 'sign_ins' : (LOCKOUT_EVENTS as readonly string[]).includes(event) ? 'lockouts' : 'failures';
      for (const row of rows) {
        const day = byDay.get(row.day);
        if (day) day[column(row.event)] += row.count;
      }
      return { days: [...byDay.values()], active_sessions: activeSessions };
    },
  };
}

export type StatsReader = ReturnType<typeof createStatsReader>;
