import { sql, type Kysely } from 'kysely';

// Mail bodies hold live links and codes: from now on they are stored sealed (AES-GCM under
// a key derived from KEYHOLD_SECRET, in `body_encrypted`) and dropped once a message is sent
// or given up. The clear columns stay, nullable, only for rows queued before this migration.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('mail_outbox').addColumn('body_encrypted', 'text').execute();
  await db.schema.alterTable('mail_outbox').alterColumn('text_body', (col) => col.dropNotNull()).execute();
  await db.schema.alterTable('mail_outbox').alterColumn('html_body', (col) => col.dropNotNull()).execute();
  await sql`update mail_outbox set text_body = null, html_body = null where sent_at is not null or failed_at is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Sealed messages still waiting cannot be sent by the older code, which has no key.
  await sql`delete from mail_outbox where text_body is null and sent_at is null and failed_at is null`.execute(db);
  await sql`update mail_outbox set text_body = coalesce(text_body, ''), html_body = coalesce(html_body, '')`.execute(db);
  await db.schema.alterTable('mail_outbox').alterColumn('text_body', (col) => col.setNotNull()).execute();
  await db.schema.alterTable('mail_outbox').alterColumn('html_body', (col) => col.setNotNull()).execute();
  await db.schema.alterTable('mail_outbox').dropColumn('body_encrypted').execute();
}
