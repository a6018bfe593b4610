import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { resourceOf, resourceParams, resourceSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const getResource = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/resources/:identifier',
    operationId: 'adminGetResource',
    summary: 'One API resource (its identifier URL-encoded in the path)',
    tag: 'Admin: API resources',
    security: adminRead,
    params: resourceParams,
    success: { status: 200, description: 'The resource', schema: resourceSchema },
    errors: adminErrors('unknown_resource'),
    handle: async (ctx, { params }) => resourceOf(await deps.admin.resources.get(adminActorOf(ctx), params.identifier)),
  });
