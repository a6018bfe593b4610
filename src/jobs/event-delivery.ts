// Delivers events (services/event-delivery.ts), polling every EVENTS_POLL_INTERVAL seconds;
// hourly, removes events delivered more than a week ago.
import { every, type Job } from '#src/jobs/job.ts';
import { createEventDeliveryWorker, deleteDeliveredEvents, type EventDeliveryOptions, type EventDeliveryWorker } from '#src/services/event-delivery.ts';

export function startEventDelivery(options: EventDeliveryOptions & { pollSeconds: number }): Job & { worker: EventDeliveryWorker } {
  const worker = createEventDeliveryWorker(options);
  const poll = every('event delivery', options.pollSeconds * 1000, () => worker.drain(), options.logger);
  const cleanup = every('removing delivered events', 3600_000, () => deleteDeliveredEvents(options.db), options.logger);
  return {
    name: 'event delivery',
    worker,
    async stop() {
      await Promise.all([poll.stop(), cleanup.stop()]);
      await worker.stop();
    },
  };
}
