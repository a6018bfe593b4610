// Engine state kept in SQL (no REDIS_URL) has no TTL of its own: expired rows are swept.
// Reads already ignore them; this keeps the table from growing.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { every, type Job } from '#src/jobs/job.ts';
import { sweepExpiredPayloads } from '#src/stores/oidc-adapter-sql.ts';
import type { Database } from '#src/stores/schema.ts';

const INTERVAL_MS = 60_000;

export function startEngineStateSweeper(deps: { db: Kysely<Database>; logger: Logger }): Job {
  return every('sweeping expired engine state', INTERVAL_MS, () => sweepExpiredPayloads(deps.db), deps.logger);
}
