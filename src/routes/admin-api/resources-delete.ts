import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { resourceParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const deleteResource = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'delete',
    path: '/api/admin/resources/:identifier',
    operationId: 'adminDeleteResource',
    summary: "Removes an API resource and every role grant of it. Owners only; Keyhold's own APIs are fixed.",
    tag: 'Admin: API resources',
    security: adminWrite,
    params: resourceParams,
    success: { status: 204, description: 'Removed' },
    errors: adminErrors('unknown_resource', 'forbidden'),
    handle: async (ctx, { params }) => deps.admin.resources.remove(adminActorOf(ctx), params.identifier),
  });
