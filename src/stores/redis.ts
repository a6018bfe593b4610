// The Redis connection shared by engine state and rate limits, when REDIS_URL is set.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export function connectRedis(url: string, logger: Pick<Logger, 'warn'>): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  // A lost connection is retried by ioredis; it must not crash the process meanwhile.
  redis.on('error', (error) => logger.warn({ err: { message: error.message } }, 'redis connection error'));
  return redis;
}

export async function disconnectRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}
