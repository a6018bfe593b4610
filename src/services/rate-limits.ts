// Rate limits shared by every node: fixed-window counters in Redis when configured (one
// atomic increment per attempt, in a Lua script), in process memory otherwise (exact for
// the single-process embedded mode). When Redis fails, RATE_LIMIT_REDIS_FAILURE decides:
// `closed` (default) refuses the guarded work with 503, since these limits guard password
// guessing; `memory` counts in the node's own memory; `open` lets attempts through. Each
// failure is reported (log line, keyhold_rate_limit_store_errors_total). An attempt is counted BEFORE the work it guards,
// never after: a burst of concurrent requests cannot all pass a check made before any of
// them was counted.
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { KeyholdError, serviceUnavailable } from '#src/errors.ts';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RedisClient } from '#src/stores/redis.ts';

export interface RateLimitPolicy {
  /** Stable name, shown in the RateLimit-Policy header and in logs. */
  name: string;
  /** Attempts allowed per window. */
  points: number;
  windowSeconds: number;
}

/**
 * An attempt refused because a limit is spent; nothing was done. Answered with 429,
 * Retry-After and the IETF RateLimit-Policy / RateLimit headers
 * (draft-ietf-httpapi-ratelimit-headers: `"name";q=points;w=window` and
 * `"name";r=remaining;t=seconds until the window resets`).
 */
export function rateLimited(policy: RateLimitPolicy, retryAfterSeconds: number): KeyholdError<'rate_limited'> {
  const { name, points, windowSeconds } = policy;
  return new KeyholdError('rate_limited', {
    key: 'error.rate_limited.attempts',
    params: { retryAfterSeconds, retryAfterMinutes: Math.ceil(retryAfterSeconds / 60) },
    headers: {
      'Retry-After': String(retryAfterSeconds),
      'RateLimit-Policy': `"${name}";q=${points};w=${windowSeconds}`,
      RateLimit: `"${name}";r=0;t=${retryAfterSeconds}`,
    },
  });
}

export interface RateLimit {
  readonly policy: RateLimitPolicy;
  /** Gives back one attempt (the work it guarded turned out legitimate). */
  refund(key: string): Promise<void>;
  /** Forgets every attempt counted under the key. */
  reset(key: string): Promise<void>;
  /** Tells the store's listener (metrics) that this limit refused an attempt. */
  refused(): void;
  /** The shared store failed on this limit: reported; true when the attempt may go on (`open`). */
  storeFailed(error: unknown): boolean;
  /** @internal */
  readonly limiter: RateLimiterAbstract;
}

export interface RateLimitStore {
  redis?: RedisClient;
  /** Prefix of every Redis key (REDIS_PREFIX). */
  prefix: string;
  /** Told the limit's name each time a limit refuses an attempt (keyhold_rate_limited_total). */
  onRefused?: (limit: string) => void;
  /** What happens to attempts while Redis fails (RATE_LIMIT_REDIS_FAILURE); default `closed`. */
  onStoreFailure?: StoreFailureMode;
  /** Told each Redis failure (log, keyhold_rate_limit_store_errors_total). */
  reportStoreFailure?: (limit: string, error: unknown) => void;
}

export type StoreFailureMode = 'closed' | 'memory' | 'open';

export function createRateLimit(store: RateLimitStore, policy: RateLimitPolicy): RateLimit {
  const options = { keyPrefix: `rl:${policy.name}`, points: policy.points, duration: policy.windowSeconds };
  const memory = new RateLimiterMemory(options);
  const mode = store.onStoreFailure ?? 'closed';
  const limiter = store.redis
    ? new RateLimiterRedis({ ...options, keyPrefix: `${store.prefix}${options.keyPrefix}`, storeClient: store.redis, ...(mode === 'memory' ? { insuranceLimiter: memory } : {}) })
    : memory;
  const storeFailed = (error: unknown) => {
    store.reportStoreFailure?.(policy.name, error);
    return mode === 'open';
  };
  return {
    policy,
    limiter,
    // Giving attempts back is best effort: a Redis failure here must not fail the work
    // that already succeeded (a right password).
    async refund(key) {
      await limiter.reward(key, 1).catch(storeFailed);
    },
    async reset(key) {
      await limiter.delete(key).catch(storeFailed);
    },
    storeFailed,
    refused() {
      store.onRefused?.(policy.name);
    },
  };
}

/**
 * A key for user-typed text (an email address): normalised, bounded, and hashed so that
 * Redis never holds the addresses people typed.
 */
export function textKey(text: string): string {
  return createHash('sha256').update(text.trim().toLowerCase().slice(0, 320)).digest('base64url').slice(0, 22);
}

/**
 * The key for a client address. One IPv6 subscriber holds a whole /64 (SLAAC, privacy
 * addresses) and can change the last 64 bits at will, so an IPv6 address counts by its /64;
 * an IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack socket reports IPv4) counts
 * as the IPv4 address it is.
 */
export function addressKey(ip: string): string {
  const address = ip.trim().toLowerCase();
  const mapped = /^(?:::|(?:0{1,4}:){5})ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::a.b.c.d forms) lies in the low 64 bits: it does not matter here.
  const missing = 8 - headGroups.length - tailGroups.length - (tailGroups.at(-1)?.includes('.') ? -1 : 0);
  const groups = address.includes('::') ? [...headGroups, ...Array<string>(Math.max(0, missing)).fill('0'), ...tailGroups] : headGroups;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Takes one attempt from every (limit, key) pair, each atomically. When any limit is spent
 * the attempt is refused with rateLimited() (the limit that frees up last) and given
 * back to the limits that had allowed it: a refused attempt does no work, so it should not
 * use up anyone's budget twice.
 */
export async function consumeAll(entries: Array<[RateLimit, string]>): Promise<void> {
  const outcomes = await Promise.allSettled(entries.map(([limit, key]) => limit.limiter.consume(key, 1)));
  let refusal: { limit: RateLimit; msBeforeNext: number } | undefined;
  let unavailable = false;
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') continue;
    if (!(outcome.reason instanceof RateLimiterRes)) {
      // The store failed (Redis down): fail closed unless the mode says open.
      if (!entries[index]![0].storeFailed(outcome.reason)) unavailable = true;
      continue;
    }
    const limit = entries[index]![0];
    if (!refusal || outcome.reason.msBeforeNext > refusal.msBeforeNext) refusal = { limit, msBeforeNext: outcome.reason.msBeforeNext };
  }
  if (!refusal && !unavailable) return;
  await Promise.all(entries.filter((_, index) => outcomes[index]!.status === 'fulfilled').map(([limit, key]) => limit.refund(key)));
  if (!refusal) throw serviceUnavailable();
  refusal.limit.refused();
  throw rateLimited(refusal.limit.policy, Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)));
}
