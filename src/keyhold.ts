// A whole Keyhold node, as `npm start` runs it and tests build it: the core (database,
// stores, services), the HTTP layer on top (engine host, Koa app, metrics), and the
// background jobs (mail delivery, clean-ups, key reload). The CLI builds the core only.
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';
import { createCore, type Core } from '#src/core.ts';
import { createHttp, type Http } from '#src/http.ts';
import { startJobs } from '#src/jobs/index.ts';
import type { MailWorker } from '#src/services/mail-worker.ts';
import type { EventDeliveryWorker } from '#src/services/event-delivery.ts';

export interface Keyhold extends Core, Http {
  mailWorker: MailWorker;
  eventWorker: EventDeliveryWorker;
  /** Stops the jobs, then closes Redis and the database. */
  close(): Promise<void>;
}

export async function createKeyhold(config: Config, logger: Logger): Promise<Keyhold> {
  const core = await createCore(config, logger, { caches: true });
  let http: Http;
  try {
    http = await createHttp(core);
  } catch (error) {
    await core.close().catch(() => {});
    throw error;
  }
  const jobs = startJobs(core, http.engine);
  logger.debug({ jobs: jobs.names }, 'background jobs started');
  return {
    ...core,
    ...http,
    mailWorker: jobs.mailWorker,
    eventWorker: jobs.eventWorker,
    async close() {
      await jobs.stop();
      await core.close();
    },
  };
}
