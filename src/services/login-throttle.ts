// Brute-force protection for password login: failed attempts are counted per address and
// account name together, and per address alone (a wider limit, against spraying). Only
// failures count. Backed by Redis when configured, so every node shares the counters;
// otherwise in process memory, which is exact for the single-process embedded mode.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface LoginThrottle {
  /** Seconds until another attempt is allowed, or 0 when allowed now. */
  retryAfter(ip: string, login: string): Promise<number>;
  recordFailure(ip: string, login: string): Promise<void>;
  recordSuccess(ip: string, login: string): Promise<void>;
}

export function createLoginThrottle(options: { redis?: Redis; prefix: string; limit: number; windowSeconds: number }): LoginThrottle {
  const make = (points: number, keyPrefix: string): RateLimiterAbstract =>
    options.redis
      ? new RateLimiterRedis({ storeClient: options.redis, keyPrefix: `${options.prefix}${keyPrefix}`, points, duration: options.windowSeconds })
      : new RateLimiterMemory({ keyPrefix, points, duration: options.windowSeconds });
  const byAccount = make(options.limit, 'login-fail-account');
  const byAddress = make(options.limit * 5, 'login-fail-address');
  const accountKey = (ip: string, login: string) => `${ip}|${login.trim().toLowerCase().slice(0, 254)}`;

  const remaining = async (limiter: RateLimiterAbstract, key: string, points: number) => {
    const state = await limiter.get(key);
    return state && state.consumedPoints >= points ? Math.ceil(state.msBeforeNext / 1000) : 0;
  };

  return {
    async retryAfter(ip, login) {
      return Math.max(await remaining(byAccount, accountKey(ip, login), options.limit), await remaining(byAddress, ip, options.limit * 5));
    },
    async recordFailure(ip, login) {
      await Promise.all([byAccount.penalty(accountKey(ip, login), 1), byAddress.penalty(ip, 1)]).catch((error) => {
        if (!(error instanceof RateLimiterRes)) throw error;
      });
    },
    async recordSuccess(ip, login) {
      await byAccount.delete(accountKey(ip, login));
    },
  };
}
