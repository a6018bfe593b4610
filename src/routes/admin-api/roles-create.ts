import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { roleCreateSchema, roleOf, roleSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const createRole = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/roles',
    operationId: 'adminCreateRole',
    summary: 'Defines a role (granting nothing until PUT …/grants). Owners only: roles are shared by every tenant.',
    tag: 'Admin: roles',
    security: adminWrite,
    body: roleCreateSchema,
    success: { status: 201, description: 'The role', schema: roleSchema },
    errors: adminErrors('invalid_role', 'role_exists', 'forbidden'),
    handle: async (ctx, { body }) => roleOf(await deps.admin.roles.create(adminActorOf(ctx), body)),
  });
