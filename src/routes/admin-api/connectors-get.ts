import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { connectorParams, connectorSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const getConnector = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/connectors/:id',
    operationId: 'adminGetConnector',
    summary: 'One connector (never its secret) and the redirect URI to register upstream',
    tag: 'Admin: connectors',
    security: adminRead,
    params: connectorParams,
    success: { status: 200, description: 'The connector', schema: connectorSchema },
    errors: adminErrors('unknown_connector'),
    handle: async (ctx, { params }) => deps.admin.connectors.get(adminActorOf(ctx), params.id),
  });
