import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { userParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const logoutUser = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/users/:id/logout',
    operationId: 'adminLogoutUser',
    summary: 'Signs the account out everywhere: every session, grant, refresh and access token ends.',
    tag: 'Admin: users',
    security: adminWrite,
    params: userParams,
    success: { status: 204, description: 'Signed out' },
    errors: adminErrors('unknown_account', 'forbidden'),
    handle: async (ctx, { params }) => deps.admin.users.logout(adminActorOf(ctx), { id: params.id }),
  });
