import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { connectorParams, connectorPatchSchema, connectorSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const updateConnector = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'patch',
    path: '/api/admin/connectors/:id',
    operationId: 'adminUpdateConnector',
    summary: 'Changes a connector, as `keyhold connector update` does: name, credentials, scope, trust_upstream_mfa (id, type and issuer stay). Owners only.',
    tag: 'Admin: connectors',
    security: adminWrite,
    params: connectorParams,
    body: connectorPatchSchema,
    success: { status: 200, description: 'The connector as changed (never its secret)', schema: connectorSchema },
    errors: adminErrors('unknown_connector', 'invalid_connector', 'forbidden'),
    handle: async (ctx, { params, body }) => deps.admin.connectors.update(adminActorOf(ctx), params.id, body),
  });
