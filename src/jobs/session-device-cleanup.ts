// Session device rows outlive their session only when the engine let it expire (no event):
// removed hourly once past the session's expiry.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { every, type Job } from '#src/jobs/job.ts';
import { deleteExpiredSessionDevices } from '#src/stores/session-device-store.ts';
import type { Database } from '#src/stores/schema.ts';

export function startSessionDeviceCleanup(deps: { db: Kysely<Database>; logger: Logger }): Job {
  return every('removing expired session devices', 3600_000, () => deleteExpiredSessionDevices(deps.db), deps.logger);
}
