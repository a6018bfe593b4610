// The Redis connection shared by engine state and rate limits, when REDIS_URL is set.
//
// Chosen so that a request never hangs on a Redis that is down or restarting, and Keyhold
// recovers by itself when it returns:
// - no offline queue: while the connection is down, a command fails at once and the
//   request answers 503 (src/stores/dependency-failure.ts), instead of piling up in memory
//   and answering late or not at all;
// - a command already sent when the connection drops is retried on one reconnection at
//   most, then fails (maxRetriesPerRequest 1);
// - connectTimeout and commandTimeout (REDIS_TIMEOUT) bound the wait on a silent Redis;
// - reconnection forever, at most a second apart; the ready check holds commands off while
//   a restarted Redis is still loading its data set (AOF/RDB), which also answers 503.
import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

const MAX_RECONNECT_DELAY_MS = 1000;

export function connectRedis(url: string, logger: Pick<Logger, 'warn' | 'info'>, timeoutSeconds = 2): Redis {
  const timeoutMs = timeoutSeconds * 1000;
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    lazyConnect: false,
  });
  // A lost connection is retried by ioredis; it must not crash the process meanwhile. One
  // line when it goes and one when it is back, not one per reconnection attempt.
  let lost = false;
  redis.on('error', (error) => {
    if (lost) return;
    lost = true;
    logger.warn({ err: { message: error.message } }, 'redis connection error: requests that need Redis answer 503 until it returns');
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    logger.info('redis connection restored');
  });
  return redis;
}

/**
 * Waits (up to `timeoutSeconds`) for the first connection, so that the first requests do
 * not find it still connecting. A Redis that is down at start-up does not stop the node:
 * /readyz reports it and requests needing it answer 503 until it comes.
 */
export async function awaitRedis(redis: Redis, timeoutSeconds: number, logger: Pick<Logger, 'warn'>): Promise<void> {
  if (redis.status === 'ready') return;
  const signal = AbortSignal.timeout(timeoutSeconds * 1000);
  try {
    await once(redis, 'ready', { signal });
  } catch {
    logger.warn('redis not reachable at start-up: starting anyway, /readyz reports it');
  }
}

export async function disconnectRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}
