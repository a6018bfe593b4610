// The events outbox, its deliveries, and the webhooks they go to
// (migrations/20261206T181200_events.ts). Workers on every node share the tables: fan-out
// and claims lock the rows they take (SKIP LOCKED), and a claim is a lease, so a worker
// that dies mid-delivery leaves its deliveries to be retried when the lease runs out.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { claimDueRows } from '#src/stores/lease-claim.ts';
import type { Database, DeliveryTarget, WebhookTable } from '#src/stores/schema.ts';
import { isUuid } from '#src/stores/id-shapes.ts';

type Executor = Kysely<Database> | Transaction<Database>;

export type WebhookRow = Selectable<WebhookTable>;

export interface OutboxEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** An event's outbox row (also written beside its audit entry, recordAuditWithEvent). */
export function outboxValues(event: OutboxEvent) {
  return { id: event.id, type: event.type, data: JSON.stringify(event.data) };
}

export async function insertEvent(executor: Executor, event: OutboxEvent): Promise<void> {
  await executor.insertInto('event_outbox').values(outboxValues(event)).execute();
}

export async function insertWebhook(db: Executor, webhook: { id: string; url: string; events: string[]; secretEncrypted: string }): Promise<WebhookRow> {
  return db
    .insertInto('webhooks')
    .values({ id: webhook.id, url: webhook.url, events: JSON.stringify(webhook.events), secret_encrypted: webhook.secretEncrypted })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function listWebhooks(db: Executor): Promise<WebhookRow[]> {
  return db.selectFrom('webhooks').selectAll().orderBy('created_at').execute();
}

export async function deleteWebhook(db: Executor, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const result = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Turns up to `limit` new events into deliveries, one per target: every active webhook that
 * wants the type, plus the `streams` (Redis Stream, NATS) this node is configured with.
 * One transaction: an event is fanned out exactly once, by one node.
 */
export async function fanOutEvents(db: Kysely<Database>, streams: DeliveryTarget[], limit: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const events = await trx
      .selectFrom('event_outbox')
      .select(['id', 'type'])
      .where('fanned_out_at', 'is', null)
      .orderBy('created_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (events.length === 0) return 0;
    const webhooks = await trx.selectFrom('webhooks').select(['id', 'events']).where('active', '=', true).execute();
    const rows = events.flatMap((event) => [
      ...webhooks.filter((webhook) => webhook.events.length === 0 || webhook.events.includes(event.type)).map((webhook) => ({ event_id: event.id, target: 'webhook' as const, webhook_id: webhook.id })),
      ...streams.map((target) => ({ event_id: event.id, target, webhook_id: null })),
    ]);
    if (rows.length > 0) await trx.insertInto('event_deliveries').values(rows).execute();
    await trx.updateTable('event_outbox').set({ fanned_out_at: sql`now()` }).where('id', 'in', events.map((event) => event.id)).execute();
    return events.length;
  });
}

export interface ClaimedDelivery {
  id: string;
  target: DeliveryTarget;
  attempts: number;
  event: { id: string; type: string; createdAt: Date; data: Record<string, unknown> };
  webhook?: { id: string; url: string; secretEncrypted: string };
}

/** Claims up to `limit` due deliveries (the attempt is counted now), leased for `leaseSeconds` (lease-claim.ts). */
export async function claimDueDeliveries(db: Kysely<Database>, options: { limit: number; leaseSeconds: number }): Promise<ClaimedDelivery[]> {
  const claimed = await claimDueRows(db, 'event_deliveries', options);
  if (claimed.length === 0) return [];
  const [events, webhooks] = await Promise.all([
    db.selectFrom('event_outbox').select(['id', 'type', 'created_at', 'data']).where('id', 'in', [...new Set(claimed.map((row) => row.event_id))]).execute(),
    claimed.some((row) => row.webhook_id)
      ? db.selectFrom('webhooks').select(['id', 'url', 'secret_encrypted']).where('id', 'in', [...new Set(claimed.flatMap((row) => (row.webhook_id ? [row.webhook_id] : [])))]).execute()
      : Promise.resolve([]),
  ]);
  const eventById = new Map(events.map((event) => [event.id, event]));
  const webhookById = new Map(webhooks.map((webhook) => [webhook.id, webhook]));
  return claimed.flatMap((row) => {
    const event = eventById.get(row.event_id);
    if (!event) return [];
    const webhook = row.webhook_id ? webhookById.get(row.webhook_id) : undefined;
    return [
      {
        id: String(row.id),
        target: row.target,
        attempts: row.attempts,
        event: { id: event.id, type: event.type, createdAt: new Date(event.created_at), data: event.data },
        ...(webhook ? { webhook: { id: webhook.id, url: webhook.url, secretEncrypted: webhook.secret_encrypted } } : {}),
      },
    ];
  }).sort((a, b) => a.event.createdAt.getTime() - b.event.createdAt.getTime());
}

export async function markDelivered(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable('event_deliveries').set({ delivered_at: sql`now()`, last_error: null }).where('id', '=', id).execute();
}

export async function scheduleDeliveryRetry(db: Kysely<Database>, id: string, error: string, delaySeconds: number): Promise<void> {
  await db
    .updateTable('event_deliveries')
    .set({ next_attempt_at: sql<Date>`now() + make_interval(secs => ${delaySeconds})`, last_error: error })
    .where('id', '=', id)
    .where('delivered_at', 'is', null)
    .execute();
}

export async function markDeliveryFailed(db: Kysely<Database>, id: string, error: string): Promise<void> {
  await db.updateTable('event_deliveries').set({ failed_at: sql`now()`, last_error: error }).where('id', '=', id).where('delivered_at', 'is', null).execute();
}

/** Hands claimed but unattempted deliveries back (a worker stopping mid-batch). */
export async function releaseDeliveries(db: Kysely<Database>, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('event_deliveries')
    .set((eb) => ({ next_attempt_at: sql<Date>`now()`, attempts: eb('attempts', '-', 1) }))
    .where('id', 'in', ids)
    .where('delivered_at', 'is', null)
    .execute();
}

/** Undelivered work by kind, for keyhold_outbox_pending: events not fanned out, deliveries by target, mail. */
export async function pendingOutboxCounts(db: Kysely<Database>): Promise<Record<string, number>> {
  const [events, deliveries, mail] = await Promise.all([
    db.selectFrom('event_outbox').select((eb) => eb.fn.countAll<string>().as('count')).where('fanned_out_at', 'is', null).executeTakeFirst(),
    db
      .selectFrom('event_deliveries')
      .select(['target', (eb) => eb.fn.countAll<string>().as('count')])
      .where('delivered_at', 'is', null)
      .where('failed_at', 'is', null)
      .groupBy('target')
      .execute(),
    db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll<string>().as('count')).where('sent_at', 'is', null).where('failed_at', 'is', null).executeTakeFirst(),
  ]);
  const counts: Record<string, number> = { event: Number(events?.count ?? 0), mail: Number(mail?.count ?? 0), webhook: 0, redis_stream: 0, nats: 0 };
  for (const row of deliveries) counts[row.target] = Number(row.count);
  return counts;
}

/** Removes events whose every delivery is done (delivered or given up) and older than `seconds`. */
export async function deleteFinishedEvents(db: Kysely<Database>, seconds: number): Promise<number> {
  const result = await db
    .deleteFrom('event_outbox')
    .where('fanned_out_at', 'is not', null)
    .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${seconds})`)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('event_deliveries').select('id').whereRef('event_deliveries.event_id', '=', 'event_outbox.id').where('delivered_at', 'is', null).where('failed_at', 'is', null))),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
