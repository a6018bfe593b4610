import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { webhookListSchema, webhookOf } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const listWebhooks = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/webhooks',
    operationId: 'adminListWebhooks',
    summary: 'The webhooks events are POSTed to, oldest first, as `keyhold webhook list` shows them (never their secrets)',
    tag: 'Admin: webhooks',
    security: adminRead,
    success: { status: 200, description: 'Every webhook', schema: webhookListSchema },
    errors: adminErrors(),
    handle: async (ctx) => ({ webhooks: (await deps.admin.webhooks.list(adminActorOf(ctx))).map(webhookOf) }),
  });
