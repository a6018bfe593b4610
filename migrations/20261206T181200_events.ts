import { sql, type Kysely } from 'kysely';

// Events for other services. An event is one row of event_outbox, written in the same
// transaction as the change it reports where the change is SQL; a worker on any node fans
// each event out to its targets (one event_deliveries row per webhook that wants it, the
// Redis Stream, NATS) and delivers each at least once, with back-off. Webhook secrets are
// stored encrypted (key derived from KEYHOLD_SECRET).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('url', 'text', (col) => col.notNull())
    .addColumn('events', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('secret_encrypted', 'text', (col) => col.notNull())
    .addColumn('active', 'boolean', (col) => col.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('event_outbox')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('data', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('fanned_out_at', 'timestamptz')
    .execute();
  await sql`create index event_outbox_pending on event_outbox (created_at) where fanned_out_at is null`.execute(db);

  await db.schema
    .createTable('event_deliveries')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('event_id', 'uuid', (col) => col.notNull().references('event_outbox.id').onDelete('cascade'))
    .addColumn('target', 'text', (col) => col.notNull())
    .addColumn('webhook_id', 'uuid', (col) => col.references('webhooks.id').onDelete('cascade'))
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('failed_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .execute();
  await sql`create index event_deliveries_due on event_deliveries (next_attempt_at) where delivered_at is null and failed_at is null`.execute(db);
  await sql`create unique index event_deliveries_once on event_deliveries (event_id, target, coalesce(webhook_id, '00000000-0000-0000-0000-000000000000'::uuid))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['event_deliveries', 'event_outbox', 'webhooks']) await db.schema.dropTable(table).ifExists().execute();
}
