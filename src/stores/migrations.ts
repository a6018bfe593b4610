import { promises as fs } from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { FileMigrationProvider, Migrator, type MigrationResultSet } from 'kysely/migration';
import { migrationDirectory } from '#src/paths.ts';
import type { Database } from '#src/stores/schema.ts';

const migrationFolder = migrationDirectory;

export function createMigrator(db: Kysely<Database>): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder }),
  });
}

// The names Kysely's FileMigrationProvider gives the folder's migrations.
async function migrationNames(): Promise<string[]> {
  const files = await fs.readdir(migrationFolder);
  return files.filter((file) => /\.(js|ts|mjs|mts)$/.test(file) && !file.endsWith('.d.ts')).map((file) => file.slice(0, file.lastIndexOf('.')));
}

/**
 * Whether the database has applied exactly the folder's migrations (a restart: the usual
 * start). Then there is nothing to do, and the migrator's lock and the import of every
 * migration module are skipped; anything else (a new database, a pending or an unknown
 * migration) goes through the migrator, which applies or refuses as before.
 */
async function upToDate(db: Kysely<Database>): Promise<boolean> {
  const [names, table] = await Promise.all([migrationNames(), sql<{ table: string | null }>`select to_regclass('kysely_migration')::text as table`.execute(db)]);
  if (!table.rows[0]?.table) return false;
  const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  const appliedNames = new Set(applied.rows.map((row) => row.name));
  return appliedNames.size === names.length && names.every((name) => appliedNames.has(name));
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  if (await upToDate(db)) return [];
  const result: MigrationResultSet = await createMigrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((entry) => entry.status === 'Error');
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${reason}`);
  }
  return (result.results ?? []).filter((entry) => entry.status === 'Success').map((entry) => entry.migrationName);
}
