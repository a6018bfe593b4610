// The load generator: a fixed number of workers, each running one operation after the
// other (keep-alive fetch for HTTP operations), for a bounded time or number of operations,
// whichever comes first. Every measurement of the bench goes through it.
export interface MeasureOptions {
  /** Operations in flight at any time. */
  concurrency: number;
  /** Measured window, after the warm-up. */
  durationMs: number;
  /** Stop earlier once this many operations have completed. */
  maxOps?: number;
  /** Unmeasured warm-up with the same workers (JIT, pools, connections). */
  warmupMs?: number;
  /** One operation; `worker` is the index of the worker running it (0..concurrency-1). */
  op(worker: number): Promise<unknown>;
}

export interface Measurement {
  ops: number;
  seconds: number;
  /** Operations per second over the measured window. */
  rate: number;
  concurrency: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /**
   * This process's CPU time (every thread: the event loop, libuv's pool) per operation over
   * the window. Less sensitive to other work on the machine than the rate; servers outside
   * this process (Postgres, Redis) are not in it.
   */
  cpuMsPerOp: number;
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

async function runWorkers(concurrency: number, op: (worker: number) => Promise<unknown>, keepGoing: () => boolean, onDone: (ms: number) => void): Promise<void> {
  let failure: unknown;
  const worker = async (index: number) => {
    while (failure === undefined && keepGoing()) {
      const started = performance.now();
      try {
        await op(index);
      } catch (error) {
        failure ??= error;
        return;
      }
      onDone(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  // A failed operation fails the measurement: a figure built on errors means nothing.
  if (failure !== undefined) throw failure;
}

export async function measure(options: MeasureOptions): Promise<Measurement> {
  const { concurrency, durationMs, op } = options;
  const maxOps = options.maxOps ?? Number.POSITIVE_INFINITY;

  if (options.warmupMs) {
    const warmupEnd = performance.now() + options.warmupMs;
    await runWorkers(concurrency, op, () => performance.now() < warmupEnd, () => {});
  }

  const latencies: number[] = [];
  let started = 0;
  const cpuAtStart = process.cpuUsage();
  const start = performance.now();
  const end = start + durationMs;
  // An operation is only started inside the window; the window closes when the last one ends.
  await runWorkers(
    concurrency,
    op,
    () => {
      if (started >= maxOps || performance.now() >= end) return false;
      started++;
      return true;
    },
    (ms) => latencies.push(ms),
  );
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    seconds: round(seconds, 3),
    rate: latencies.length / seconds,
    concurrency,
    latencyMs: {
      p50: round(percentile(latencies, 0.5)),
      p90: round(percentile(latencies, 0.9)),
      p99: round(percentile(latencies, 0.99)),
      max: round(latencies.at(-1) ?? 0),
    },
    cpuMsPerOp: round((cpu.user + cpu.system) / 1000 / Math.max(1, latencies.length)),
  };
}

/** A sequential in-process loop (CPU-bound work): bounded by time or count. */
export async function measureLoop(options: { durationMs: number; maxOps: number; op(index: number): Promise<unknown> }): Promise<Measurement> {
  return measure({
    concurrency: 1,
    durationMs: options.durationMs,
    maxOps: options.maxOps,
    op: (() => {
      let index = 0;
      return () => options.op(index++);
    })(),
  });
}

/** fetch that fails on any status other than the expected one, returning the parsed JSON body. */
export async function fetchJson(url: string, init: RequestInit, expectedStatus = 200): Promise<Record<string, unknown>> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (response.status !== expectedStatus) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}
