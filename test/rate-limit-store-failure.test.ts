// Rate limits while Redis fails (a real client whose server does not answer): `closed`
// refuses the attempt with service_unavailable, `open` lets it through, `memory` counts in
// the node's memory; every failure is reported (log and metric in the core).
import test from 'ava';
import { Redis } from 'ioredis';
import { isKeyholdError } from '#src/errors.ts';
import { createLoginThrottle } from '#src/services/login-throttle.ts';
import type { StoreFailureMode } from '#src/services/rate-limits.ts';

// Nothing listens on port 1; no retries and no offline queue, so each command fails at once.
const deadRedis = () => new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });

function throttle(mode: StoreFailureMode, reports: string[]) {
  const redis = deadRedis();
  redis.on('error', () => {});
  return {
    redis,
    throttle: createLoginThrottle({ redis, prefix: 'test:', limit: 2, accountLimit: 10, windowSeconds: 900, onStoreFailure: mode, reportStoreFailure: (limit) => reports.push(limit) }),
  };
}

test('closed: a sign-in attempt is refused with service_unavailable, and reported', async (t) => {
  const reports: string[] = [];
  const { redis, throttle: login } = throttle('closed', reports);
  const error = await t.throwsAsync(login.begin('203.0.113.9', 'ada@example.test'));
  t.true(isKeyholdError(error, 'service_unavailable'));
  t.deepEqual([...reports].sort(), ['login-account', 'login-account-address', 'login-address']);
  redis.disconnect();
});

test('open: attempts go through, reported each time', async (t) => {
  const reports: string[] = [];
  const { redis, throttle: login } = throttle('open', reports);
  for (let attempt = 0; attempt < 5; attempt++) {
    const started = await login.begin('203.0.113.9', 'ada@example.test');
    await started.succeeded();
  }
  t.true(reports.length >= 15);
  redis.disconnect();
});

test('memory: the node counts alone, and still refuses past the limit', async (t) => {
  const reports: string[] = [];
  const { redis, throttle: login } = throttle('memory', reports);
  await login.begin('203.0.113.9', 'ada@example.test');
  await login.begin('203.0.113.9', 'ada@example.test');
  const error = await t.throwsAsync(login.begin('203.0.113.9', 'ada@example.test'));
  t.true(isKeyholdError(error, 'rate_limited'));
  redis.disconnect();
});
