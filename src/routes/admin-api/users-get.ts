import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { adminUserOf, adminUserSchema, userParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const getUser = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/users/:id',
    operationId: 'adminGetUser',
    summary: 'One account',
    tag: 'Admin: users',
    security: adminRead,
    params: userParams,
    success: { status: 200, description: 'The account', schema: adminUserSchema },
    errors: adminErrors('unknown_account'),
    handle: async (ctx, { params }) => adminUserOf(await deps.admin.users.get(adminActorOf(ctx), { id: params.id })),
  });
