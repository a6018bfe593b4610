import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { roleParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const deleteRole = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'delete',
    path: '/api/admin/roles/:name',
    operationId: 'adminDeleteRole',
    summary: 'Deletes a role and its grants; accounts keep the name as a label that grants nothing. Owners only.',
    tag: 'Admin: roles',
    security: adminWrite,
    params: roleParams,
    success: { status: 204, description: 'Deleted' },
    errors: adminErrors('unknown_role', 'forbidden'),
    handle: async (ctx, { params }) => deps.admin.roles.remove(adminActorOf(ctx), params.name),
  });
