import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { roleOf, roleParams, rolePatchSchema, roleSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const updateRole = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'patch',
    path: '/api/admin/roles/:name',
    operationId: 'adminUpdateRole',
    summary: "Changes a role's description (null clears it). Owners only.",
    tag: 'Admin: roles',
    security: adminWrite,
    params: roleParams,
    body: rolePatchSchema,
    success: { status: 200, description: 'The role as changed', schema: roleSchema },
    errors: adminErrors('unknown_role', 'invalid_role', 'forbidden'),
    handle: async (ctx, { params, body }) => roleOf(await deps.admin.roles.update(adminActorOf(ctx), params.name, body)),
  });
