import { sql, type Kysely } from 'kysely';

// Account lockout without Redis: one row per account that failed to sign in recently. The
// failure count lives in a window that starts at the first failure; reaching the threshold
// sets locked_until and starts the count over. Every node reads and updates the same row.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('account_lockouts')
    .addColumn('account_id', 'uuid', (col) => col.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('failures', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('window_started_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('locked_until', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('account_lockouts').ifExists().execute();
}
