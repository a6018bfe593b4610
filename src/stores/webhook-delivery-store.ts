// A webhook and its deliveries as operators look at them (the Admin API): one
// event_deliveries row per event per webhook (event-store.ts fans them out), with its
// event's type and time, newest first, and a manual retry. Never the secret, never the
// event's data.
import { sql, type Kysely } from 'kysely';
import type { Database } from '#src/stores/schema.ts';
import { isUuid, SERIAL_SHAPE } from '#src/stores/id-shapes.ts';


/** What a delivery is now, from its columns: done (delivered or given up), waiting after a failure, or not tried yet. */
export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: string;
  event_id: string;
  type: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  delivered_at: Date | null;
  failed_at: Date | null;
  /** When the event happened (a delivery row has no time of its own; it is made at fan-out, just after). */
  event_created_at: Date;
}

export function webhookExists(db: Kysely<Database>, id: string): Promise<boolean> {
  if (!isUuid(id)) return Promise.resolve(false);
  return db
    .selectFrom('webhooks')
    .select('id')
    .where('id', '=', id)
    .executeTakeFirst()
    .then((row) => row !== undefined);
}

const deliveries = (db: Kysely<Database>, webhookId: string) =>
  db
    .selectFrom('event_deliveries as d')
    .innerJoin('event_outbox as e', 'e.id', 'd.event_id')
    .select([
      sql<string>`d.id::text`.as('id'),
      'd.event_id',
      'e.type',
      'd.attempts',
      'd.last_error',
      'd.next_attempt_at',
      'd.delivered_at',
      'd.failed_at',
      'e.created_at as event_created_at',
    ])
    .where('d.webhook_id', '=', webhookId);

/** A page of the webhook's deliveries, newest first; `cursor` is the id of the last one of the previous page. */
export function listWebhookDeliveries(db: Kysely<Database>, webhookId: string, options: { status?: DeliveryStatus; cursor?: string; limit: number }): Promise<DeliveryRow[]> {
  let query = deliveries(db, webhookId);
  if (options.cursor !== undefined) query = query.where('d.id', '<', options.cursor);
  switch (options.status) {
    case 'delivered':
      query = query.where('d.delivered_at', 'is not', null);
      break;
    case 'failed':
      query = query.where('d.failed_at', 'is not', null);
      break;
    case 'retrying':
      query = query.where('d.delivered_at', 'is', null).where('d.failed_at', 'is', null).where('d.last_error', 'is not', null);
      break;
    case 'pending':
      query = query.where('d.delivered_at', 'is', null).where('d.failed_at', 'is', null).where('d.last_error', 'is', null);
      break;
  }
  return query.orderBy('d.id', 'desc').limit(options.limit).execute() as Promise<DeliveryRow[]>;
}

export async function findWebhookDelivery(db: Kysely<Database>, webhookId: string, id: string): Promise<DeliveryRow | undefined> {
  if (!isUuid(webhookId) || !SERIAL_SHAPE.test(id)) return undefined;
  return (await deliveries(db, webhookId).where('d.id', '=', id).executeTakeFirst()) as DeliveryRow | undefined;
}

/**
 * Makes an undelivered delivery due now. One given up comes back for one more attempt (its
 * attempts stay counted, so a failure gives it up again); attempts already made stay in the
 * count. Only a delivery no worker can be holding: given up, or waiting longer than a
 * worker's lease (`leaseSeconds`). A claim sets next_attempt_at to the lease's end, so a
 * delivery being sent looks like one waiting a short back-off; making it due would let
 * another pass send it a second time while the first request is still open. False when
 * nothing changed (delivered, due already, being sent, or tried again within the lease).
 */
export async function retryWebhookDelivery(db: Kysely<Database>, webhookId: string, id: string, leaseSeconds: number): Promise<boolean> {
  const result = await db
    .updateTable('event_deliveries')
    .set({ next_attempt_at: sql<Date>`now()`, failed_at: null })
    .where('id', '=', id)
    .where('webhook_id', '=', webhookId)
    .where('delivered_at', 'is', null)
    .where((eb) => eb.or([eb('failed_at', 'is not', null), eb('next_attempt_at', '>', sql<Date>`now() + make_interval(secs => ${leaseSeconds})`)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export function deliveryStatus(row: Pick<DeliveryRow, 'delivered_at' | 'failed_at' | 'last_error'>): DeliveryStatus {
  if (row.delivered_at) return 'delivered';
  if (row.failed_at) return 'failed';
  return row.last_error ? 'retrying' : 'pending';
}
