import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { roleOf, roleParams, roleSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const getRole = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/roles/:name',
    operationId: 'adminGetRole',
    summary: 'One role and what it grants',
    tag: 'Admin: roles',
    security: adminRead,
    params: roleParams,
    success: { status: 200, description: 'The role', schema: roleSchema },
    errors: adminErrors('unknown_role'),
    handle: async (ctx, { params }) => roleOf(await deps.admin.roles.get(adminActorOf(ctx), params.name)),
  });
