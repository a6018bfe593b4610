import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { webhookParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const deleteWebhook = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'delete',
    path: '/api/admin/webhooks/:id',
    operationId: 'adminDeleteWebhook',
    summary: 'Removes a webhook and its deliveries (undelivered ones are not sent). Owners only.',
    tag: 'Admin: webhooks',
    security: adminWrite,
    params: webhookParams,
    success: { status: 204, description: 'Removed' },
    errors: adminErrors('unknown_webhook', 'forbidden'),
    handle: async (ctx, { params }) => {
      await deps.admin.webhooks.remove(adminActorOf(ctx), params.id);
    },
  });
