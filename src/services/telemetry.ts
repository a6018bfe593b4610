// The security counters (Contract, "Security operations") as the services see them: plain
// recorders, so the core (and the CLI, which builds the core alone) loads no metrics
// library. The HTTP layer attaches the Prometheus metrics that serve /metrics
// (src/middleware/metrics.ts); until then, and in the CLI, counts go nowhere.

export type LoginOutcome = 'success' | 'failure' | 'locked' | 'rate_limited';

interface Recorder<L extends string> {
  inc(labels: Partial<Record<L, string>>): void;
}

/** Where the counts go once attached: prom-client counters have this shape. */
export interface TelemetrySink {
  loginAttempts: Recorder<'outcome' | 'method'>;
  lockouts: { inc(): void };
  rateLimited: Recorder<'limit'>;
  rateLimitStoreErrors: Recorder<'limit'>;
}

export interface Telemetry {
  /** keyhold_login_attempts_total{outcome,method}: every credential checked at sign-in. */
  loginAttempts: { inc(labels: { outcome: LoginOutcome; method: string }): void };
  /** keyhold_lockouts_total: accounts locked (once per lock). */
  lockouts: { inc(): void };
  /** keyhold_rate_limited_total{limit}: attempts refused by a rate limit, by its name. */
  rateLimited: { inc(labels: { limit: string }): void };
  /** keyhold_rate_limit_store_errors_total{limit}: limit checks made while Redis failed. */
  rateLimitStoreErrors: { inc(labels: { limit: string }): void };
  /** Sets how keyhold_outbox_pending{kind} is read when /metrics is scraped (by the core). */
  observePending(read: () => Promise<Record<string, number>>): void;
  /** The pending reader, for the metrics layer. */
  readPending(): Promise<Record<string, number>>;
  /** Sends every count from now on to `sink` (the HTTP layer's Prometheus metrics). */
  attach(sink: TelemetrySink): void;
}

export function createTelemetry(): Telemetry {
  let sink: TelemetrySink | undefined;
  let pending: (() => Promise<Record<string, number>>) | undefined;
  return {
    loginAttempts: { inc: (labels) => sink?.loginAttempts.inc(labels) },
    lockouts: { inc: () => sink?.lockouts.inc() },
    rateLimited: { inc: (labels) => sink?.rateLimited.inc(labels) },
    rateLimitStoreErrors: { inc: (labels) => sink?.rateLimitStoreErrors.inc(labels) },
    observePending(read) {
      pending = read;
    },
    readPending: () => (pending ? pending() : Promise.resolve({})),
    attach(next) {
      sink = next;
    },
  };
}
