import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { connectorCreateSchema, connectorSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const createConnector = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/connectors',
    operationId: 'adminCreateConnector',
    summary: 'Adds a connector, as `keyhold connector create` does; the answer names the redirect URI to register upstream. Owners only (connectors show on every tenant\'s sign-in pages).',
    tag: 'Admin: connectors',
    security: adminWrite,
    body: connectorCreateSchema,
    success: { status: 201, description: 'The connector (never its secret)', schema: connectorSchema },
    errors: adminErrors('invalid_connector', 'connector_exists', 'forbidden'),
    handle: async (ctx, { body }) => {
      const created = await deps.admin.connectors.create(adminActorOf(ctx), body);
      ctx.set('Location', `/api/admin/connectors/${encodeURIComponent(created.id)}`);
      return created;
    },
  });
