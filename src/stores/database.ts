// Opens the relational database: Postgres when DATABASE_URL is set (plus a pool on its read
// replica when DATABASE_REPLICA_URL is set), otherwise an embedded PGlite database under
// DATA_DIR. The embedded one is a single-process database, so it is
// guarded by a lock file: a second process (the CLI while the server runs) is refused with
// a clear message instead of corrupting it.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';
import { ensurePrivateDirectory, keepNewFilesPrivate, PRIVATE_FILE_MODE, restrictTree } from '#src/stores/data-dir.ts';
import type { Database } from '#src/stores/schema.ts';

export interface DatabaseHandle {
  db: Kysely<Database>;
  /** A pool on the read replica (DATABASE_REPLICA_URL), for read-mostly lookups; see read-replica.ts. */
  replica?: Kysely<Database>;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export class DatabaseLockedError extends Error {
  override name = 'DatabaseLockedError';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function acquireLock(lockPath: string): () => void {
  try {
    writeFileSync(lockPath, String(process.pid), { flag: 'wx', mode: PRIVATE_FILE_MODE });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new DatabaseLockedError(
        `the embedded database in ${path.dirname(lockPath)} is in use by process ${holder} (a running Keyhold server); stop it first, or set DATABASE_URL to use Postgres`,
      );
    }
    writeFileSync(lockPath, String(process.pid));
  }
  return () => rmSync(lockPath, { force: true });
}

// Postgres returns int8 (bigserial, count(*)) as strings by default; keep it that way for
// ids, but parse counts where used.
export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX' | 'DATA_DIR'> & Partial<Pick<Config, 'DATABASE_CONNECT_TIMEOUT' | 'DATABASE_REPLICA_URL'>>,
  logger?: Pick<Logger, 'warn'>,
): Promise<DatabaseHandle> {
  if (config.DATABASE_URL) {
    const connect = (connectionString: string) => {
      // A silent host must not hold a request (or the CLI) for the kernel's TCP timeout.
      const pool = new pg.Pool({ connectionString, max: config.DATABASE_POOL_MAX, connectionTimeoutMillis: (config.DATABASE_CONNECT_TIMEOUT ?? 10) * 1000 });
      // An idle client's error (server restart) must not crash the process; the pool replaces it.
      pool.on('error', () => {});
      // Nor may a checked-out client's (pg-pool listens only while a client is idle): a
      // connection that dies between checkout and query, or between two queries of a
      // transaction (a restart, a replica stopped, a failover), emits 'error' with no
      // listener. The query in flight, if any, fails with it (answered 503), and the
      // broken client is dropped when released.
      pool.on('connect', (client) => client.on('error', () => {}));
      return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    };
    const db = connect(config.DATABASE_URL);
    if (!config.DATABASE_REPLICA_URL) return { db, kind: 'postgres', close: () => db.destroy() };
    const replica = connect(config.DATABASE_REPLICA_URL);
    return { db, replica, kind: 'postgres', close: async () => void (await Promise.all([db.destroy(), replica.destroy()])) };
  }
  const directory = path.resolve(config.DATA_DIR, 'pglite');
  keepNewFilesPrivate();
  ensurePrivateDirectory(path.resolve(config.DATA_DIR), (details, message) => logger?.warn(details, message));
  ensurePrivateDirectory(directory, (details, message) => logger?.warn(details, message));
  const release = acquireLock(path.join(config.DATA_DIR, 'pglite.lock'));
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGliteDialect } = await import('kysely-pglite-dialect');
    const pglite = await PGlite.create(directory);
    restrictTree(directory);
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    return {
      db,
      kind: 'pglite',
      close: async () => {
        await db.destroy();
        await pglite.close().catch(() => {});
        // Files PGlite created while open (new tables, WAL segments) sat behind the 0700
        // directory; they leave private as well.
        restrictTree(directory);
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

/** One round trip to the database (readiness). */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
