// Tells an outage of a dependency (Redis or Postgres down, restarting, unreachable or too
// slow) from a bug. An outage is answered with service_unavailable (503 + Retry-After) and
// counted; anything else stays an internal error. The shapes recognised are the ones the
// clients really produce while their server is away, not guesses: ioredis with no offline
// queue (src/stores/redis.ts), pg and pg-pool, and the servers' own "not now" replies.

export type Dependency = 'redis' | 'database';

// ioredis rejects commands with these while it has no usable connection.
const REDIS_ERROR_NAMES = new Set(['MaxRetriesPerRequestError', 'AbortError', 'ClusterAllFailedError']);
const REDIS_MESSAGES = [/enableOfflineQueue options is false/, /^Connection is closed\.?$/, /^Command timed out$/, /^None of startup nodes is available$/];
// Redis replies meaning "not now": loading its data set after a restart, a replica cut off
// from its master, a failover in progress, a script running too long.
const REDIS_BUSY_REPLY = /^(LOADING|MASTERDOWN|READONLY|BUSY|TRYAGAIN|CLUSTERDOWN)\b/;

// pg-pool and pg while the server is away or restarting.
const DATABASE_MESSAGES = [/^timeout exceeded when trying to connect$/, /^Connection terminated/, /^Client has encountered a connection error and is not queryable$/, /^Client was closed and is not queryable$/];
// SQLSTATE: class 08 connection exception; 57P01–57P03 admin/crash shutdown and "cannot
// connect now" (starting up, shutting down, in recovery); 53300 too many connections.
const DATABASE_STATES = /^(08...|57P0[1-3]|53300)$/;
// Socket errors reach callers only from pg: ioredis reports them on its 'error' event and
// rejects commands with its own errors (above).
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

function classifyOne(error: ErrorLike): Dependency | undefined {
  const name = typeof error.name === 'string' ? error.name : '';
  const text = typeof error.message === 'string' ? error.message : '';
  const code = typeof error.code === 'string' ? error.code : '';
  if (REDIS_ERROR_NAMES.has(name) || REDIS_MESSAGES.some((pattern) => pattern.test(text))) return 'redis';
  if (name === 'ReplyError' && REDIS_BUSY_REPLY.test(text)) return 'redis';
  if (DATABASE_MESSAGES.some((pattern) => pattern.test(text)) || DATABASE_STATES.test(code)) return 'database';
  if (SOCKET_CODES.has(code)) return 'database';
  return undefined;
}

/** The dependency whose outage `error` (or an error it wraps) reports; undefined for anything else. */
export function unavailableDependency(error: unknown): Dependency | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const found = classifyOne(current as ErrorLike);
    if (found) return found;
    current = (current as ErrorLike).cause;
  }
  return undefined;
}
