// The Redis connection shared by engine state, rate limits, lockout and the event stream:
// one Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES), or none.
//
// On a Cluster every command is routed by the slot of its keys, so the stores that use it
// never name keys of two slots in one command, script or transaction: each key carries its
// own hash tag, and keys one script must touch together share one (see
// oidc-adapter-redis.ts and lockout-store.ts).
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';

export type RedisClient = Redis | Cluster;

// Commands wait briefly for a lost connection (queued, retried twice) instead of failing
// at the first hiccup, and never hang: a Redis that stays away fails the request.
const commandOptions = { maxRetriesPerRequest: 2, enableOfflineQueue: true } satisfies RedisOptions;

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

function connectCluster(entries: readonly string[]): Cluster {
  const seeds = entries.map(clusterSeed);
  return new Cluster(
    seeds.map((seed) => seed.node),
    {
      redisOptions: { ...commandOptions, ...seeds[0]!.options },
      enableOfflineQueue: true,
      // A failover makes the cluster answer CLUSTERDOWN or MOVED for a moment: retry
      // through it (the replica is promoted within cluster-node-timeout) instead of failing.
      retryDelayOnClusterDown: 200,
      retryDelayOnFailover: 200,
      retryDelayOnTryAgain: 200,
      maxRedirections: 16,
    },
  );
}

/** Connects to the configured Redis, or returns undefined when none is configured. */
export function connectRedis(config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>, logger: Pick<Logger, 'warn'>): RedisClient | undefined {
  let redis: RedisClient;
  if (config.REDIS_CLUSTER_NODES) redis = connectCluster(config.REDIS_CLUSTER_NODES);
  else if (config.REDIS_URL) redis = new Redis(config.REDIS_URL, { ...commandOptions, lazyConnect: false });
  else return undefined;
  // A lost connection is retried by ioredis; it must not crash the process meanwhile.
  redis.on('error', (error: Error) => logger.warn({ err: { message: error.message } }, 'redis connection error'));
  return redis;
}

export async function disconnectRedis(redis: RedisClient): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}
