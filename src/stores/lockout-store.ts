// Where account lockouts live: Redis when configured, SQL otherwise. Either way every
// node sees the same count and the same lock, and counting a failure is one atomic step
// (a Lua script; one INSERT … ON CONFLICT DO UPDATE under the row lock), so a burst of
// concurrent failures locks the account exactly once.
import type { RedisClient } from '#src/stores/redis.ts';
import { sql, type Kysely } from 'kysely';
import { hashToken } from '#src/crypto.ts';
import type { Database } from '#src/stores/schema.ts';

export interface LockoutRule {
  threshold: number;
  windowSeconds: number;
  durationSeconds: number;
}

export interface FailureOutcome {
  /** This failure locked the account (true for exactly one failure per lock). */
  lockedNow: boolean;
  /** When the lock ends, if the account is locked. */
  lockedUntil?: Date;
}

export interface LockoutStore {
  /** Counts one failure, unless the account is locked already (a locked account counts nothing). */
  recordFailure(accountId: string, rule: LockoutRule): Promise<FailureOutcome>;
  lockedUntil(accountId: string): Promise<Date | undefined>;
  /** Lifts a lock and forgets the failures; true when there was a lock. */
  clear(accountId: string): Promise<boolean>;
}

// KEYS[1] failure counter, KEYS[2] lock (same hash tag, so one slot on Cluster).
// ARGV: threshold, window seconds, duration seconds. Returns { lockedNow, lock ms left }.
const RECORD_FAILURE = `
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return {0, left} end
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if failures >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return {1, tonumber(ARGV[3]) * 1000}
end
return {0, 0}
`;

export function createRedisLockoutStore(redis: RedisClient, prefix: string): LockoutStore {
  // Account ids are not secret, but hashing keeps every key the same shape as the engine's.
  const keys = (accountId: string) => {
    const tag = `{lockout:${hashToken(accountId)}}`;
    return [`${prefix}${tag}failures`, `${prefix}${tag}locked`] as const;
  };
  return {
    async recordFailure(accountId, rule) {
      const [failures, lock] = keys(accountId);
      const [lockedNow, leftMs] = (await redis.eval(RECORD_FAILURE, 2, failures, lock, rule.threshold, rule.windowSeconds, rule.durationSeconds)) as [number, number];
      return { lockedNow: lockedNow === 1, ...(leftMs > 0 ? { lockedUntil: new Date(Date.now() + leftMs) } : {}) };
    },
    async lockedUntil(accountId) {
      const left = await redis.pttl(keys(accountId)[1]);
      return left > 0 ? new Date(Date.now() + left) : undefined;
    },
    async clear(accountId) {
      const [failures, lock] = keys(accountId);
      const [, removed] = await Promise.all([redis.del(failures), redis.del(lock)]);
      return removed > 0;
    },
  };
}

export function createSqlLockoutStore(db: Kysely<Database>): LockoutStore {
  return {
    async recordFailure(accountId, rule) {
      // The failure count of the current window (a window older than windowSeconds starts
      // over at this failure). The update is skipped while a lock holds: a locked account
      // counts nothing, and its lock is not extended by the guesses it keeps refusing.
      const windowOpen = sql<boolean>`account_lockouts.window_started_at > now() - make_interval(secs => ${rule.windowSeconds})`;
      const failures = sql<number>`case when ${windowOpen} then account_lockouts.failures + 1 else 1 end`;
      const locks = sql<boolean>`${failures} >= ${rule.threshold}`;
      const row = await db
        .insertInto('account_lockouts')
        .values({
          account_id: accountId,
          failures: 1,
          window_started_at: sql`now()`,
          locked_until: rule.threshold <= 1 ? sql`now() + make_interval(secs => ${rule.durationSeconds})` : null,
        })
        .onConflict((oc) =>
          oc
            .column('account_id')
            .doUpdateSet({
              failures: sql`case when ${locks} then 0 else ${failures} end`,
              window_started_at: sql`case when ${windowOpen} then account_lockouts.window_started_at else now() end`,
              locked_until: sql`case when ${locks} then now() + make_interval(secs => ${rule.durationSeconds}) else null end`,
            })
            .where(sql<boolean>`account_lockouts.locked_until is null or account_lockouts.locked_until <= now()`),
        )
        .returning(['locked_until'])
        .executeTakeFirst();
      if (row) return { lockedNow: row.locked_until !== null, ...(row.locked_until ? { lockedUntil: row.locked_until } : {}) };
      const lockedUntil = await this.lockedUntil(accountId);
      return { lockedNow: false, ...(lockedUntil ? { lockedUntil } : {}) };
    },
    async lockedUntil(accountId) {
      const row = await db
        .selectFrom('account_lockouts')
        .select('locked_until')
        .where('account_id', '=', accountId)
        .where('locked_until', '>', sql<Date>`now()`)
        .executeTakeFirst();
      return row?.locked_until ?? undefined;
    },
    async clear(accountId) {
      const removed = await db.deleteFrom('account_lockouts').where('account_id', '=', accountId).returning(['locked_until']).executeTakeFirst();
      return Boolean(removed?.locked_until && removed.locked_until > new Date());
    },
  };
}
