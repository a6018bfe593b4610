// Every timer a server node runs, started together and stopped together. The server starts
// them (src/keyhold.ts); the CLI never does.
import type { Core } from '#src/core.ts';
import { startEngineStateSweeper } from '#src/jobs/engine-state-sweeper.ts';
import { startFlowCleanup } from '#src/jobs/flow-cleanup.ts';
import { startWebauthnChallengeCleanup } from '#src/jobs/webauthn-challenge-cleanup.ts';
import type { Job } from '#src/jobs/job.ts';
import { startMailDelivery } from '#src/jobs/mail-delivery.ts';
import { startEventDelivery } from '#src/jobs/event-delivery.ts';
import { startSessionDeviceCleanup } from '#src/jobs/session-device-cleanup.ts';
import { startAuditRetention } from '#src/jobs/audit-retention.ts';
import type { EventDeliveryWorker } from '#src/services/event-delivery.ts';
import { startSigningKeyReload } from '#src/jobs/signing-key-reload.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import type { MailWorker } from '#src/services/mail-worker.ts';

export interface RunningJobs {
  readonly names: readonly string[];
  /** The mail worker, for sending what is due now (tests, shutdown). */
  readonly mailWorker: MailWorker;
  /** The event delivery worker, for delivering what is due now (tests). */
  readonly eventWorker: EventDeliveryWorker;
  stop(): Promise<void>;
}

export function startJobs(core: Pick<Core, 'config' | 'db' | 'logger' | 'keys' | 'redis'>, engine: Pick<EngineHost, 'reload'>): RunningJobs {
  const { config, db, logger } = core;
  const mail = startMailDelivery({ db, config, logger, bodyKey: core.keys.mailBodies });
  const events = startEventDelivery({ db, redis: core.redis, config, logger, webhookKey: core.keys.webhookSecrets, pollSeconds: config.EVENTS_POLL_INTERVAL });
  const jobs: Job[] = [
    mail,
    events,
    startSessionDeviceCleanup({ db, logger }),
    ...(config.AUDIT_RETENTION_DAYS > 0 ? [startAuditRetention({ db, logger, retentionDays: config.AUDIT_RETENTION_DAYS })] : []),
    startFlowCleanup({ db, logger }),
    startWebauthnChallengeCleanup({ db, logger }),
    startSigningKeyReload({ engine, config, logger }),
    // Redis expires engine state by itself.
    ...(core.redis ? [] : [startEngineStateSweeper({ db, logger })]),
  ];
  return {
    names: jobs.map((job) => job.name),
    mailWorker: mail.worker,
    eventWorker: events.worker,
    async stop() {
      await Promise.all(jobs.map((job) => job.stop()));
    },
  };
}
