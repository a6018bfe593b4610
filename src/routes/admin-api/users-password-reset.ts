import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { userParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const sendPasswordReset = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/users/:id/password-reset',
    operationId: 'adminSendPasswordReset',
    summary: 'Mails the account a password reset link, as "Forgot password?" does (at most one a minute; a disabled account gets none). The administrator never sees the link.',
    tag: 'Admin: users',
    security: adminWrite,
    params: userParams,
    success: { status: 204, description: 'The mail is queued' },
    errors: adminErrors('unknown_account', 'forbidden'),
    handle: async (ctx, { params }) => deps.admin.users.sendPasswordReset(adminActorOf(ctx), { id: params.id }),
  });
