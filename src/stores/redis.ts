// The Redis connection shared by engine state, rate limits, lockout, the event stream and
// the cache change feed: one Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES), or
// none.
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
//
// On a Cluster every command is routed by the slot of its keys, so the stores that use it
// never name keys of two slots in one command, script or transaction: each key carries its
// own hash tag, and keys one script must touch together share one (see
// oidc-adapter-redis.ts and lockout-store.ts). A failover makes the cluster answer
// CLUSTERDOWN or MOVED for a moment: the cluster client queues and retries through it (the
// replica is promoted within cluster-node-timeout) rather than failing every request, and
// each node connection keeps the timeouts above.
import { once } from 'node:events';
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';

export type RedisClient = Redis | Cluster;

const MAX_RECONNECT_DELAY_MS = 1000;

function failFast(timeoutSeconds: number): RedisOptions {
  const timeoutMs = timeoutSeconds * 1000;
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
  };
}

/** A seed node entry (`host:port` or a redis[s]:// URL) as ioredis wants it. */
function clusterSeed(entry: string): { node: ClusterNode; options: RedisOptions } {
  const url = new URL(/^rediss?:\/\//.test(entry) ? entry : `redis://${entry}`);
  const options: RedisOptions = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  return { node: { host: url.hostname, port: Number(url.port) }, options };
}

function connectCluster(entries: readonly string[], timeoutSeconds: number): Cluster {
  const seeds = entries.map(clusterSeed);
  const { enableOfflineQueue: _nodeQueue, retryStrategy: _nodeRetry, ...nodeOptions } = failFast(timeoutSeconds);
  return new Cluster(
    seeds.map((seed) => seed.node),
    {
      redisOptions: { ...nodeOptions, maxRetriesPerRequest: 2, ...seeds[0]!.options },
      enableOfflineQueue: true,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
      retryDelayOnClusterDown: 200,
      retryDelayOnFailover: 200,
      retryDelayOnTryAgain: 200,
      maxRedirections: 16,
    },
  );
}

/** Connects to the configured Redis, or returns undefined when none is configured. */
export function connectRedis(config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'> & Partial<Pick<Config, 'REDIS_TIMEOUT'>>, logger: Pick<Logger, 'warn' | 'info'>): RedisClient | undefined {
  const timeoutSeconds = config.REDIS_TIMEOUT ?? 2;
  let redis: RedisClient;
  if (config.REDIS_CLUSTER_NODES) redis = connectCluster(config.REDIS_CLUSTER_NODES, timeoutSeconds);
  // Auto-pipelining: the commands issued in one tick (a sign-in's three rate limits, the
  // requests in flight at once) go out in one write and come back in one read, instead of
  // a system call and a Redis wake-up each; each command still gets its own reply, in order.
  else if (config.REDIS_URL) redis = new Redis(config.REDIS_URL, { ...failFast(timeoutSeconds), lazyConnect: false, enableAutoPipelining: true });
  else return undefined;
  // A lost connection is retried by ioredis; it must not crash the process meanwhile. One
  // line when it goes and one when it is back, not one per reconnection attempt.
  let lost = false;
  redis.on('error', (error: Error) => {
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
export async function awaitRedis(redis: RedisClient, timeoutSeconds: number, logger: Pick<Logger, 'warn'>): Promise<void> {
  if (redis.status === 'ready') return;
  const signal = AbortSignal.timeout(timeoutSeconds * 1000);
  try {
    await once(redis, 'ready', { signal });
  } catch {
    logger.warn('redis not reachable at start-up: starting anyway, /readyz reports it');
  }
}

export async function disconnectRedis(redis: RedisClient): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}
