// Administration of webhooks and their deliveries. Webhooks receive the events of every
// tenant, so adding, removing and retrying are for owners and the CLI; any administrator
// may read them (never a secret, never an event's data). The rules of a webhook (its URL,
// its event types, its secret) are the webhook service's (src/services/webhooks.ts), the
// same as `keyhold webhook create`.
import type { Kysely } from 'kysely';
import { KeyholdError } from '#src/errors.ts';
import { assertEveryTenant, auditDetails, type AdminActor } from '#src/services/admin/actor.ts';
import { loadPage, type Page, type PageRequest } from '#src/services/admin/page.ts';
import { SERIAL_SHAPE } from '#src/stores/id-shapes.ts';
import { LEASE_SECONDS } from '#src/services/event-delivery.ts';
import type { CreatedWebhook, Webhook, WebhookService } from '#src/services/webhooks.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import type { Database } from '#src/stores/schema.ts';
import {
  deliveryStatus,
  findWebhookDelivery,
  listWebhookDeliveries,
  retryWebhookDelivery,
  webhookExists,
  type DeliveryRow,
  type DeliveryStatus,
} from '#src/stores/webhook-delivery-store.ts';

/** One delivery of one event to one webhook, as an operator sees it. */
export interface WebhookDelivery {
  id: string;
  event_id: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  /** Why the last attempt failed (bounded, one line: the worker's own summary); null after success. */
  last_error: string | null;
  /** When the worker tries next; null when done. */
  next_attempt_at: string | null;
  delivered_at: string | null;
  /** When the worker gave up (EVENTS_MAX_ATTEMPTS). */
  failed_at: string | null;
  /** When the event happened. */
  created_at: string;
}

const deliveryOf = (row: DeliveryRow): WebhookDelivery => {
  const status = deliveryStatus(row);
  return {
    id: row.id,
    event_id: row.event_id,
    type: row.type,
    status,
    attempts: row.attempts,
    last_error: row.last_error,
    next_attempt_at: status === 'delivered' || status === 'failed' ? null : new Date(row.next_attempt_at).toISOString(),
    delivered_at: row.delivered_at ? new Date(row.delivered_at).toISOString() : null,
    failed_at: row.failed_at ? new Date(row.failed_at).toISOString() : null,
    created_at: new Date(row.event_created_at).toISOString(),
  };
};

export function createWebhookAdmin(db: Kysely<Database>, webhooks: WebhookService) {
  const audit = (actor: AdminActor, event: string, id: string, details: Record<string, unknown> = {}) =>
    recordAudit(db, { event, ip: actor.ip, details: { ...auditDetails(actor), webhook: id, ...details } });

  const assertWebhook = async (id: string) => {
    if (!(await webhookExists(db, id))) throw new KeyholdError('unknown_webhook', { params: { id } });
  };

  return {
    list: (_actor: AdminActor): Promise<Webhook[]> => webhooks.list(),

    /** The new webhook with its secret, shown this once. */
    async create(actor: AdminActor, input: { url: string; events?: readonly string[] }): Promise<CreatedWebhook> {
      assertEveryTenant(actor);
      const created = await webhooks.create(input);
      await audit(actor, 'admin.webhook_created', created.id, { url: created.url, events: created.events });
      return created;
    },

    /** Removes the webhook; its undelivered deliveries go with it. */
    async remove(actor: AdminActor, id: string): Promise<void> {
      assertEveryTenant(actor);
      if (!(await webhooks.remove(id))) throw new KeyholdError('unknown_webhook', { params: { id } });
      await audit(actor, 'admin.webhook_deleted', id);
    },

    /** The webhook's deliveries, newest first, optionally of one status. */
    async deliveries(_actor: AdminActor, webhookId: string, filter: { status?: DeliveryStatus }, page: PageRequest): Promise<Page<WebhookDelivery>> {
      await assertWebhook(webhookId);
      return loadPage(page, (request) => listWebhookDeliveries(db, webhookId, { ...filter, ...request }), (row) => row.id, deliveryOf, SERIAL_SHAPE);
    },

    /** Makes an undelivered delivery due now (one more attempt for one given up); refused (delivery_scheduled) while the worker has it in hand. The delivery as it is then. */
    async retry(actor: AdminActor, webhookId: string, deliveryId: string): Promise<WebhookDelivery> {
      assertEveryTenant(actor);
      await assertWebhook(webhookId);
      const unknown = () => new KeyholdError('unknown_delivery', { params: { webhook: webhookId, id: deliveryId } });
      const before = await findWebhookDelivery(db, webhookId, deliveryId);
      if (!before) throw unknown();
      if (!(await retryWebhookDelivery(db, webhookId, deliveryId, LEASE_SECONDS))) {
        const now = await findWebhookDelivery(db, webhookId, deliveryId);
        if (!now) throw unknown();
        if (now.delivered_at) throw new KeyholdError('delivery_delivered', { params: { id: deliveryId } });
        // Due now, being sent, or tried again within minutes: the worker has it in hand.
        throw new KeyholdError('delivery_scheduled', { params: { id: deliveryId } });
      }
      await audit(actor, 'admin.webhook_delivery_retried', webhookId, { delivery: deliveryId, event_id: before.event_id });
      const after = await findWebhookDelivery(db, webhookId, deliveryId);
      if (!after) throw unknown();
      return deliveryOf(after);
    },
  };
}

export type WebhookAdmin = ReturnType<typeof createWebhookAdmin>;
