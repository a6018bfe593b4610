// Work started outside a request's answer (see src/middleware/after-response.ts) is tracked,
// so a node that shuts down finishes it before closing the database instead of dropping a
// reset mail half-way, and a caller can wait until everything started so far has finished.
import type { Logger } from 'pino';

export interface BackgroundTasks {
  /** Starts `task` now; a failure is logged under `description`, never thrown. */
  run(description: string, task: () => Promise<unknown>, log?: Logger): void;
  /** Resolves once every task started so far (and any they started) has finished. */
  settled(): Promise<void>;
}

export function createBackgroundTasks(logger: Logger): BackgroundTasks {
  const running = new Set<Promise<void>>();
  return {
    run(description, task, log = logger) {
      const promise: Promise<void> = Promise.resolve()
        .then(task)
        .then(
          () => undefined,
          (error: unknown) => log.error({ err: error }, `${description} failed`),
        )
        .finally(() => running.delete(promise));
      running.add(promise);
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
