// Ended self-service flows are kept 30 days (they appear in a data export), then removed.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { every, type Job } from '#src/jobs/job.ts';
import { deleteStaleFlows } from '#src/stores/flow-store.ts';
import type { Database } from '#src/stores/schema.ts';

const RETENTION_SECONDS = 30 * 24 * 3600;
const INTERVAL_MS = 3600_000;

export function startFlowCleanup(deps: { db: Kysely<Database>; logger: Logger }): Job {
  return every('removing old self-service flows', INTERVAL_MS, () => deleteStaleFlows(deps.db, RETENTION_SECONDS), deps.logger);
}
