import { sql, type Kysely } from 'kysely';

// Federation: upstream identity providers (connectors) and the upstream identities linked
// to accounts. A connector's secrets (client secret, Apple's .p8 key) are one AES-GCM
// envelope under a key derived from KEYHOLD_SECRET, never clear text. An upstream identity
// is (connector, subject): unique, and it belongs to exactly one account.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('connectors')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('client_id', 'text', (col) => col.notNull())
    .addColumn('secrets_encrypted', 'text', (col) => col.notNull())
    .addColumn('settings', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('federated_identities')
    .addColumn('connector_id', 'text', (col) => col.notNull().references('connectors.id').onDelete('cascade'))
    .addColumn('subject', 'text', (col) => col.notNull())
    .addColumn('account_id', 'uuid', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('email', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addPrimaryKeyConstraint('federated_identities_pk', ['connector_id', 'subject'])
    .execute();
  await db.schema.createIndex('federated_identities_account').on('federated_identities').column('account_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('federated_identities').ifExists().execute();
  await db.schema.dropTable('connectors').ifExists().execute();
}
