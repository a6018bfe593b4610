// Read-mostly lookups on a Postgres read replica (DATABASE_REPLICA_URL), with the primary
// behind it. A replica lags its primary: a row written a moment ago may not be there yet,
// so a miss is asked of the primary again (a client created a second ago works at once);
// a row changed on the primary is seen here only after the lag (documented). A replica
// that fails does not fail the request: the primary answers it.
import type { Kysely } from 'kysely';
import type { Database } from '#src/stores/schema.ts';

export interface ReadPools {
  primary: Kysely<Database>;
  /** The replica's pool; absent: every read goes to the primary. */
  replica?: Kysely<Database>;
  /** Told when the replica fails a read (the primary then answers it). */
  onReplicaError?: (error: unknown) => void;
}

/**
 * Runs `read` on the replica, and again on the primary when the replica has not got the
 * answer (`missing`, by default: nothing found) or fails.
 */
export async function readMostly<T>(
  pools: ReadPools,
  read: (db: Kysely<Database>) => Promise<T>,
  missing: (answer: T) => boolean = (answer) => answer === undefined,
): Promise<T> {
  const { primary, replica } = pools;
  if (!replica) return read(primary);
  try {
    const answer = await read(replica);
    if (!missing(answer)) return answer;
  } catch (error) {
    pools.onReplicaError?.(error);
  }
  return read(primary);
}

/**
 * The pools for a load behind a cache (src/stores/lookup-cache.ts): just after a change, the
 * primary only, since a lagging replica's row would be cached as current.
 */
export function readersFor(pools: ReadPools, load?: { changedRecently: boolean }): ReadPools {
  return load?.changedRecently ? { primary: pools.primary } : pools;
}
