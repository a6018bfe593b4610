import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { webhookCreatedSchema, webhookCreateSchema, webhookOf } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const createWebhook = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/webhooks',
    operationId: 'adminCreateWebhook',
    summary: 'Adds a webhook, as `keyhold webhook create` does; the answer holds its signing secret, shown this once. Owners only (a webhook receives the events of every tenant).',
    tag: 'Admin: webhooks',
    security: adminWrite,
    body: webhookCreateSchema,
    success: { status: 201, description: 'The webhook and its secret', schema: webhookCreatedSchema },
    errors: adminErrors('validation_failed', 'forbidden'),
    handle: async (ctx, { body }) => {
      const created = await deps.admin.webhooks.create(adminActorOf(ctx), body);
      ctx.set('Cache-Control', 'no-store');
      return { ...webhookOf(created), secret: created.secret };
    },
  });
