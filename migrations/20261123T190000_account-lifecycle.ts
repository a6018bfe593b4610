import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('given_name', 'text')
    .addColumn('family_name', 'text')
    .addColumn('picture', 'text')
    .addColumn('locale', 'text')
    .addColumn('zoneinfo', 'text')
    .addColumn('phone_number', 'text')
    .addColumn('phone_number_verified', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('password_changed_at', 'timestamptz')
    .execute();

  // Hashes of earlier passwords, newest first, to refuse reuse.
  await db.schema
    .createTable('password_history')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('account_id', 'uuid', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('password_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('password_history_account').on('password_history').columns(['account_id', 'created_at']).execute();

  // Self-service flows (registration, verification, recovery, email change, invitation):
  // stored objects with a kind, a state and an expiry; their secrets only as hashes.
  await db.schema
    .createTable('self_service_flows')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('state', 'text', (col) => col.notNull().defaultTo('pending'))
    .addColumn('account_id', 'uuid', (col) => col.references('accounts.id').onDelete('cascade'))
    .addColumn('email', 'text')
    .addColumn('secret_hash', 'text', (col) => col.notNull())
    .addColumn('code_hash', 'text')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('payload', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_sent_at', 'timestamptz')
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('self_service_flows_account').on('self_service_flows').columns(['account_id', 'kind']).execute();
  await db.schema.createIndex('self_service_flows_expires').on('self_service_flows').column('expires_at').execute();

  // Outgoing mail: written in the request's transaction, sent by a worker with retries.
  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('recipient', 'text', (col) => col.notNull())
    .addColumn('template', 'text', (col) => col.notNull())
    .addColumn('subject', 'text', (col) => col.notNull())
    .addColumn('text_body', 'text', (col) => col.notNull())
    .addColumn('html_body', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .addColumn('failed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['sent_at', 'failed_at', 'next_attempt_at']).execute();

  // Lets the SQL engine-state adapter list an account's sessions and grants.
  await db.schema.alterTable('oidc_payloads').addColumn('account_id', 'text').execute();
  await db.schema.createIndex('oidc_payloads_account').on('oidc_payloads').columns(['account_id', 'model']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('oidc_payloads_account').ifExists().execute();
  await db.schema.alterTable('oidc_payloads').dropColumn('account_id').execute();
  await db.schema.dropTable('mail_outbox').ifExists().execute();
  await db.schema.dropTable('self_service_flows').ifExists().execute();
  await db.schema.dropTable('password_history').ifExists().execute();
  await db.schema
    .alterTable('accounts')
    .dropColumn('given_name')
    .dropColumn('family_name')
    .dropColumn('picture')
    .dropColumn('locale')
    .dropColumn('zoneinfo')
    .dropColumn('phone_number')
    .dropColumn('phone_number_verified')
    .dropColumn('password_changed_at')
    .execute();
}
