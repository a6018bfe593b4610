// Claiming due rows of a work queue with a lease, for every worker queue kept in SQL (the
// mail outbox, event deliveries). The lease is next_attempt_at pushed `leaseSeconds` ahead:
// other workers skip the locked rows while the statement runs and no longer see them as due
// once it commits, so two nodes never work on the same row concurrently; a worker that dies
// mid-work leaves its rows to be picked up when the lease runs out. Select, lock and update
// are one statement, hence one transaction. The attempt is counted here, so a row that
// crashes its worker still runs out of attempts.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '#src/stores/schema.ts';

/** Each queue, and the column that marks its rows done (the other end is failed_at). */
const DONE_COLUMN = { mail_outbox: 'sent_at', event_deliveries: 'delivered_at' } as const;

export type LeasedQueue = keyof typeof DONE_COLUMN;

/** Claims up to `limit` due rows of `queue` (oldest due first), leased for `leaseSeconds`; the rows as updated. */
export async function claimDueRows<Q extends LeasedQueue>(db: Kysely<Database>, queue: Q, options: { limit: number; leaseSeconds: number }): Promise<Array<Selectable<Database[Q]>>> {
  const table = sql.table(queue);
  const result = await sql<Selectable<Database[Q]>>`
    with due as (
      select id from ${table}
      where ${sql.ref(DONE_COLUMN[queue])} is null and failed_at is null and next_attempt_at <= now()
      order by next_attempt_at
      limit ${options.limit}
      for update skip locked
    )
    update ${table} as claimed
    set next_attempt_at = now() + make_interval(secs => ${options.leaseSeconds}), attempts = claimed.attempts + 1
    from due
    where claimed.id = due.id
    returning claimed.*`.execute(db);
  return result.rows;
}
