// Used WebAuthn challenges are kept a day past their expiry (a replay of one is refused by
// its row until then, and by its age after), then removed.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { every, type Job } from '#src/jobs/job.ts';
import { deleteExpiredWebauthnChallenges } from '#src/stores/passkey-store.ts';
import type { Database } from '#src/stores/schema.ts';

const INTERVAL_MS = 3600_000;

export function startWebauthnChallengeCleanup(deps: { db: Kysely<Database>; logger: Logger }): Job {
  return every('removing used WebAuthn challenges', INTERVAL_MS, () => deleteExpiredWebauthnChallenges(deps.db), deps.logger);
}
