import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { deliveryListQuery, deliveryPageSchema, webhookParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const listWebhookDeliveries = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/webhooks/:id/deliveries',
    operationId: 'adminListWebhookDeliveries',
    summary: "A webhook's deliveries (one per event it received or will receive), newest first, by status, in pages (never the event's data)",
    tag: 'Admin: webhooks',
    security: adminRead,
    params: webhookParams,
    query: deliveryListQuery,
    success: { status: 200, description: 'A page of deliveries', schema: deliveryPageSchema },
    errors: adminErrors('unknown_webhook', 'validation_failed'),
    handle: async (ctx, { params, query }) => {
      const { status, cursor, limit } = query;
      const page = await deps.admin.webhooks.deliveries(adminActorOf(ctx), params.id, { status }, { cursor, limit });
      return { deliveries: page.items, next_cursor: page.nextCursor };
    },
  });
