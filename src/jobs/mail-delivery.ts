// Sends the mail the services queue (services/mail-worker.ts), polling every
// MAIL_POLL_INTERVAL seconds.
import type { Job } from '#src/jobs/job.ts';
import { startMailWorker, type MailWorker, type MailWorkerOptions } from '#src/services/mail-worker.ts';

export function startMailDelivery(options: MailWorkerOptions): Job & { worker: MailWorker } {
  const worker = startMailWorker(options);
  return { name: 'mail delivery', worker, stop: () => worker.stop() };
}
