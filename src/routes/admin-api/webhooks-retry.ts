import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { deliveryParams, deliverySchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const retryWebhookDelivery = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/webhooks/:id/deliveries/:deliveryId/retry',
    operationId: 'adminRetryWebhookDelivery',
    summary: 'Makes an undelivered delivery due now: the event worker sends it at its next pass. One given up (failed) gets one more attempt. Owners only.',
    tag: 'Admin: webhooks',
    security: adminWrite,
    params: deliveryParams,
    success: { status: 202, description: 'Scheduled; the delivery as it is now', schema: deliverySchema },
    errors: adminErrors('unknown_webhook', 'unknown_delivery', 'delivery_delivered', 'forbidden'),
    handle: async (ctx, { params }) => deps.admin.webhooks.retry(adminActorOf(ctx), params.id, params.deliveryId),
  });
