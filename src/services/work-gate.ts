// Admission for expensive work with a fixed number of slots (argon2 on libuv's thread pool):
// at most `concurrency` run, at most `queue` more wait in order, and anything beyond is
// refused at once with server_busy (503, Retry-After) instead of queueing without bound.
// Each argon2 hash holds its memory cost (19 MiB by default) while it runs; waiting work
// holds nothing but its closure.
import { KeyholdError } from '#src/errors.ts';

export interface WorkGate {
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Running and waiting now (for metrics and tests). */
  load(): { running: number; waiting: number };
}

export function createWorkGate(options: { concurrency: number; queue: number; retryAfterSeconds?: number }): WorkGate {
  let running = 0;
  const waiting: Array<() => void> = [];
  const retryAfter = String(options.retryAfterSeconds ?? 1);

  const release = () => {
    const nextInLine = waiting.shift();
    if (nextInLine) nextInLine();
    else running -= 1;
  };

  return {
    async run(work) {
      if (running < options.concurrency) running += 1;
      else if (waiting.length < options.queue) await new Promise<void>((resolve) => waiting.push(resolve));
      else throw new KeyholdError('server_busy', { headers: { 'Retry-After': retryAfter } });
      // The slot passes from a finished job straight to the next in line (running unchanged).
      try {
        return await work();
      } finally {
        release();
      }
    },
    load: () => ({ running, waiting: waiting.length }),
  };
}
