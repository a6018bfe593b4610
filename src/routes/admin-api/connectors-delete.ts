import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { connectorParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const deleteConnector = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'delete',
    path: '/api/admin/connectors/:id',
    operationId: 'adminDeleteConnector',
    summary: 'Removes a connector and every identity linked through it (accounts stay). Owners only.',
    tag: 'Admin: connectors',
    security: adminWrite,
    params: connectorParams,
    success: { status: 204, description: 'Removed' },
    errors: adminErrors('unknown_connector', 'forbidden'),
    handle: async (ctx, { params }) => {
      await deps.admin.connectors.remove(adminActorOf(ctx), params.id);
    },
  });
