// A fresh Postgres database for tests of stores and services on their own (no HTTP, no
// engine): opened as Keyhold opens it, migrated to the latest schema unless asked not to,
// and dropped on close().
import type { Kysely } from 'kysely';
import { openDatabase, type DatabaseHandle } from '#src/stores/database.ts';
import { migrateToLatest } from '#src/stores/migrations.ts';
import type { Database } from '#src/stores/schema.ts';
import { createTestDatabase, TEST_DATABASE_CONNECT_TIMEOUT } from './infra.ts';

export interface TestDatabaseHandle {
  db: Kysely<Database>;
  url: string;
  /** Another pool on the same database, like a second Keyhold node; closed by close(). */
  connect(): Promise<DatabaseHandle>;
  /** Closes every pool, then drops the database. */
  close(): Promise<void>;
}

export async function openTestDatabase(options: { poolMax?: number; migrate?: boolean } = {}): Promise<TestDatabaseHandle> {
  const database = await createTestDatabase();
  const handles: DatabaseHandle[] = [];
  const connect = async () => {
    const handle = await openDatabase({ DATABASE_URL: database.url, DATABASE_POOL_MAX: options.poolMax ?? 4, DATABASE_CONNECT_TIMEOUT: TEST_DATABASE_CONNECT_TIMEOUT, DATA_DIR: 'unused' });
    handles.push(handle);
    return handle;
  };
  const close = async () => {
    await Promise.allSettled(handles.map((handle) => handle.close()));
    await database.drop();
  };
  try {
    const { db } = await connect();
    if (options.migrate !== false) await migrateToLatest(db);
    return { db, url: database.url, connect, close };
  } catch (error) {
    await close();
    throw error;
  }
}
