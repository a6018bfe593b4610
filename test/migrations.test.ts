// Every migration has a working down: the schema can be rolled back to nothing and
// re-applied, on Postgres and on the embedded PGlite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { sql, type Kysely } from 'kysely';
import { NO_MIGRATIONS } from 'kysely/migration';
import { openDatabase } from '#src/stores/database.ts';
import { createMigrator, migrateToLatest } from '#src/stores/migrations.ts';
import type { Database } from '#src/stores/schema.ts';
import { openTestDatabase } from './helpers/database.ts';

async function tableNames(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public' and table_name not like 'kysely_%' order by 1`.execute(db);
  return rows.map((row) => row.name);
}

async function roundTrip(t: import('ava').ExecutionContext, db: Kysely<Database>) {
  const applied = await migrateToLatest(db);
  t.true(applied.length >= 2);
  const tables = await tableNames(db);
  for (const table of ['accounts', 'clients', 'resources', 'signing_keys', 'oidc_payloads', 'audit_log', 'password_history', 'self_service_flows', 'mail_outbox']) t.true(tables.includes(table), table);

  const down = await createMigrator(db).migrateTo(NO_MIGRATIONS);
  t.is(down.error, undefined);
  t.deepEqual(down.results?.map((result) => result.direction), applied.map(() => 'Down'));
  t.deepEqual(await tableNames(db), []);

  t.deepEqual(await migrateToLatest(db), applied);
  t.deepEqual(await migrateToLatest(db), []);
}

test('Postgres: migrations go down to nothing and up again', async (t) => {
  const database = await openTestDatabase({ poolMax: 2, migrate: false });
  try {
    await roundTrip(t, database.db);
  } finally {
    await database.close();
  }
});

test('PGlite: migrations go down to nothing and up again', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'keyhold-migrations-'));
  const handle = await openDatabase({ DATABASE_URL: undefined, DATABASE_POOL_MAX: 1, DATA_DIR: dataDir });
  try {
    await roundTrip(t, handle.db);
  } finally {
    await handle.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// A start finds the schema up to date without the migrator; anything else still goes
// through it, so a database that ran a migration this build does not have is refused.
test('Postgres: a database with a migration unknown to this build is refused, not taken as up to date', async (t) => {
  const database = await openTestDatabase({ poolMax: 2 });
  try {
    t.deepEqual(await migrateToLatest(database.db), []);
    await sql`insert into kysely_migration (name, timestamp) values ('29991231T000000_from-a-newer-build', ${new Date().toISOString()})`.execute(database.db);
    await t.throwsAsync(() => migrateToLatest(database.db), { message: /29991231T000000_from-a-newer-build/ });
  } finally {
    await database.close();
  }
});
