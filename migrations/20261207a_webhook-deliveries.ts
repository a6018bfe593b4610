import { sql, type Kysely } from 'kysely';

// A webhook's deliveries, newest first, for the Admin API
// (GET /api/admin/webhooks/{id}/deliveries): one index range per page instead of a scan of
// every event's deliveries.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index event_deliveries_webhook on event_deliveries (webhook_id, id desc) where webhook_id is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists event_deliveries_webhook`.execute(db);
}
