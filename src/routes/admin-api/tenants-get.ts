import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { tenantOf, tenantParams, tenantSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const getTenant = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/tenants/:id',
    operationId: 'adminGetTenant',
    summary: 'One tenant and its settings overrides',
    tag: 'Admin: tenants',
    security: adminRead,
    params: tenantParams,
    success: { status: 200, description: 'The tenant', schema: tenantSchema },
    errors: adminErrors('unknown_tenant'),
    handle: async (ctx, { params }) => tenantOf(await deps.admin.tenants.get(adminActorOf(ctx), params.id)),
  });
