// A background job: something a server node does on its own schedule. Jobs run only in the
// server (startJobs); the CLI never starts them.
import type { Logger } from 'pino';

export interface Job {
  readonly name: string;
  /** Stops the schedule; resolves once work in progress, if any, is finished. */
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs`, never two at once. A failure is logged and the schedule
 * goes on. The timer does not keep the process alive.
 */
export function every(name: string, intervalMs: number, task: () => Promise<unknown>, logger: Pick<Logger, 'warn'>): Job {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = task()
      .catch((error) => logger.warn({ err: error, job: name }, `${name} failed`))
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    name,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
