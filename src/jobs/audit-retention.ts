// The audit log is kept AUDIT_RETENTION_DAYS days (0: forever); older entries are deleted
// once a day (and at start), on every node (the deletes skip nothing and repeat harmlessly).
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { every, type Job } from '#src/jobs/job.ts';
import { deleteAuditOlderThan } from '#src/stores/audit-store.ts';
import type { Database } from '#src/stores/schema.ts';

export function startAuditRetention(deps: { db: Kysely<Database>; logger: Logger; retentionDays: number }): Job {
  const task = async () => {
    const deleted = await deleteAuditOlderThan(deps.db, deps.retentionDays);
    if (deleted > 0) deps.logger.info({ deleted, retentionDays: deps.retentionDays }, 'old audit entries deleted');
  };
  return every('removing old audit entries', 24 * 3600_000, task, deps.logger);
}
