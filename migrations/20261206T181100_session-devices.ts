import { sql, type Kysely } from 'kysely';

// What Keyhold knows about each browser session besides the engine's own record: the
// device (user agent), the address, when it started and when it was last used. Keyed by the
// session's storage id (a SHA-256 of the session id, never the cookie value), listed by
// account. Rows end with their session (engine event) or are swept after expires_at.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('session_devices')
    .addColumn('session_key', 'text', (col) => col.primaryKey())
    .addColumn('account_id', 'uuid', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_active_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('session_devices_account').on('session_devices').columns(['account_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('session_devices').ifExists().execute();
}
