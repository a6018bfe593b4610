import { sql, type Kysely } from 'kysely';

// The audit log says who acted (actor: the account itself, an operator via the CLI, an admin
// token), whether it worked (outcome), and from what (user agent, the request id that ties
// an entry to the request's log lines). Old rows keep nulls. The index serves the Admin
// API's filter by action and the retention clean-up by time.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('audit_log')
    .addColumn('actor', 'text')
    .addColumn('outcome', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'text')
    .execute();
  await db.schema.createIndex('audit_log_event_at').on('audit_log').columns(['event', 'at']).execute();
  await sql`create index audit_log_at on audit_log (at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('audit_log_at').ifExists().execute();
  await db.schema.dropIndex('audit_log_event_at').ifExists().execute();
  for (const column of ['request_id', 'user_agent', 'outcome', 'actor']) await db.schema.alterTable('audit_log').dropColumn(column).execute();
}
