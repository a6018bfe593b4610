// Real infrastructure for tests: a fresh Postgres database and a fresh Redis key prefix
// per test file, removed afterwards, so test files run in parallel and leave nothing behind.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';

const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Connections of tests wait longer than production's default: a loaded CI runner is slow, not down. */
export const TEST_DATABASE_CONNECT_TIMEOUT = 60;

/** How long a service may take to accept a TCP connection before the tests call it down. */
const REACHABLE_WITHIN_MS = 3000;

// One TCP connect per service and process: a refused or silent port fails every test file at
// once with one line, instead of each waiting out its connection timeouts. A busy server
// still accepts connections promptly (the kernel does), so load does not trip this.
function reachable(url: string, defaultPort: number): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port || defaultPort), timeout: REACHABLE_WITHIN_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`no answer within ${REACHABLE_WITHIN_MS / 1000} s`);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

const checks = new Map<string, Promise<void>>();
function requireService(name: string, url: string, defaultPort: number, variable: string): Promise<void> {
  let check = checks.get(url);
  if (!check) {
    check = reachable(url, defaultPort).then((problem) => {
      if (problem) {
        const { host } = new URL(url);
        throw new Error(`${name} is not reachable at ${host} (${problem}): start it, or point ${variable} at one`);
      }
    });
    checks.set(url, check);
  }
  return check;
}

/** Fails at once, in one line, when the test Postgres is down. */
export const requirePostgres = () => requireService('Postgres', adminUrl, 5432, 'TEST_POSTGRES_URL');
/** Fails at once, in one line, when the test Redis is down. */
export const requireRedis = () => requireService('Redis', testRedisUrl, 6379, 'TEST_REDIS_URL');

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  await requirePostgres();
  const name = `keyhold_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  // A throw-away database need not wait for the disk at each commit: on a loaded 2-core
  // runner the fsyncs of many parallel test files are what make connections time out.
  await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface TestRedisPrefix {
  prefix: string;
  clear(): Promise<void>;
}

export function createTestRedisPrefix(url = testRedisUrl): TestRedisPrefix {
  const prefix = `keyhold-test:${randomBytes(6).toString('hex')}:`;
  return {
    prefix,
    async clear() {
      const redis = new Redis(url);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      await redis.quit();
    },
  };
}
