import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { userParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const deleteUser = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'delete',
    path: '/api/admin/users/:id',
    operationId: 'adminDeleteUser',
    summary: 'Erases the account (GDPR Art. 17): every session and token ends; the audit trail is kept without personal data.',
    tag: 'Admin: users',
    security: adminWrite,
    params: userParams,
    success: { status: 204, description: 'Erased' },
    errors: adminErrors('unknown_account', 'forbidden'),
    handle: async (ctx, { params }) => deps.admin.users.remove(adminActorOf(ctx), { id: params.id }),
  });
