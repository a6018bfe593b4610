import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { tenantParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const deleteTenant = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'delete',
    path: '/api/admin/tenants/:id',
    operationId: 'adminDeleteTenant',
    summary: 'Removes a tenant without accounts or clients (default stays). Owners only.',
    tag: 'Admin: tenants',
    security: adminWrite,
    params: tenantParams,
    success: { status: 204, description: 'Removed' },
    errors: adminErrors('unknown_tenant', 'tenant_in_use', 'forbidden'),
    handle: async (ctx, { params }) => deps.admin.tenants.remove(adminActorOf(ctx), params.id),
  });
