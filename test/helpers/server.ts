// Starts a real Keyhold on a random loopback port against a fresh Postgres database and
// (optionally) a fresh Redis key prefix, exactly as `npm start` builds it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '#src/config.ts';
import { createKeyhold, type Keyhold } from '#src/keyhold.ts';
import { createLogger } from '#src/logger.ts';
import { createTestDatabase, createTestRedisPrefix, requireRedis, TEST_DATABASE_CONNECT_TIMEOUT, testRedisUrl, type TestDatabase, type TestRedisPrefix } from './infra.ts';

export interface TestServer {
  keyhold: Keyhold;
  issuer: string;
  databaseUrl?: string;
  redisPrefix?: string;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Use Redis for engine state (default true). */
  redis?: boolean;
  /** Use the embedded PGlite database in a temporary DATA_DIR instead of Postgres. */
  embedded?: boolean;
  /** Share an existing database / Redis prefix (for multi-node tests). */
  databaseUrl?: string;
  redisPrefix?: string;
  /** Another Redis than the shared one (a test's own, to stop and start). */
  redisUrl?: string;
  /** Keep state in this directory (not removed on stop), e.g. to restart an embedded server. */
  dataDir?: string;
  env?: Record<string, string>;
  /** The issuer's host name (default 127.0.0.1); WebAuthn needs a domain, e.g. localhost. */
  host?: string;
}

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

async function listenOnRandomPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { server, port } = await listenOnRandomPort();
  const issuer = `http://${options.host ?? '127.0.0.1'}:${port}`;
  let database: TestDatabase | undefined;
  let redisPrefix: TestRedisPrefix | undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'keyhold-test-'));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    ISSUER: issuer,
    KEYHOLD_SECRET: TEST_SECRET,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Fast hashing in tests; the production parameters are exercised by the bench.
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_ITERATIONS: '1',
    DATABASE_CONNECT_TIMEOUT: String(TEST_DATABASE_CONNECT_TIMEOUT),
    ...options.env,
  };
  // Before any database is made: a missing Redis must not leave one behind.
  if (options.redis !== false && !options.embedded) await requireRedis();
  if (!options.embedded) {
    if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
    else {
      database = await createTestDatabase();
      env.DATABASE_URL = database.url;
    }
  }
  if (options.redis !== false && !options.embedded) {
    env.REDIS_URL = options.redisUrl ?? testRedisUrl;
    if (options.redisPrefix) env.REDIS_PREFIX = options.redisPrefix;
    else {
      redisPrefix = createTestRedisPrefix(env.REDIS_URL);
      env.REDIS_PREFIX = redisPrefix.prefix;
    }
  }
  const config = loadConfig(env);
  const keyhold = await createKeyhold(config, createLogger(config.LOG_LEVEL));
  server.on('request', keyhold.app.callback());
  return {
    keyhold,
    issuer,
    databaseUrl: env.DATABASE_URL,
    redisPrefix: env.REDIS_PREFIX,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await keyhold.close();
      await redisPrefix?.clear();
      await database?.drop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
