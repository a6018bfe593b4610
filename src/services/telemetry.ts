// The security counters and gauges (Contract, "Security operations"), on the registry that
// /metrics serves. They live in the core, beside the services that move them; the HTTP layer
// adds the request histogram, the token counter and the process metrics to the same registry.
import { Counter, Gauge, Registry } from 'prom-client';

export type LoginOutcome = 'success' | 'failure' | 'locked' | 'rate_limited';

export interface Telemetry {
  registry: Registry;
  /** keyhold_login_attempts_total{outcome,method}: every credential checked at sign-in. */
  loginAttempts: Counter<'outcome' | 'method'>;
  /** keyhold_lockouts_total: accounts locked (once per lock). */
  lockouts: Counter;
  /** keyhold_rate_limited_total{limit}: attempts refused by a rate limit, by its name. */
  rateLimited: Counter<'limit'>;
  /** keyhold_rate_limit_store_errors_total{limit}: limit checks made while Redis failed. */
  rateLimitStoreErrors: Counter<'limit'>;
  /** Reports keyhold_outbox_pending{kind} when /metrics is scraped (set once, by the core). */
  observePending(read: () => Promise<Record<string, number>>): void;
}

export function createTelemetry(): Telemetry {
  const registry = new Registry();
  let readPending: (() => Promise<Record<string, number>>) | undefined;
  new Gauge({
    name: 'keyhold_outbox_pending',
    help: 'Outbox entries not delivered yet, by kind (mail, webhook, redis_stream, nats)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      if (!readPending) return;
      this.reset();
      for (const [kind, count] of Object.entries(await readPending())) this.set({ kind }, count);
    },
  });
  return {
    registry,
    loginAttempts: new Counter({ name: 'keyhold_login_attempts_total', help: 'Sign-in credential checks by outcome and method', labelNames: ['outcome', 'method'], registers: [registry] }),
    lockouts: new Counter({ name: 'keyhold_lockouts_total', help: 'Accounts locked after repeated failed sign-ins', registers: [registry] }),
    rateLimited: new Counter({ name: 'keyhold_rate_limited_total', help: 'Attempts refused by a rate limit, by limit', labelNames: ['limit'], registers: [registry] }),
    rateLimitStoreErrors: new Counter({ name: 'keyhold_rate_limit_store_errors_total', help: 'Rate limit checks made while the shared store (Redis) failed, by limit', labelNames: ['limit'], registers: [registry] }),
    observePending(read) {
      readPending = read;
    },
  };
}
