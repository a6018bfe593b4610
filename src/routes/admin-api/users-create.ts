import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { adminUserOf, adminUserSchema, userCreateSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const createUser = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/users',
    operationId: 'adminCreateUser',
    summary: 'Creates an account; a password goes through the password policy. Without one, the person sets it through a reset link (POST …/password-reset).',
    tag: 'Admin: users',
    security: adminWrite,
    body: userCreateSchema,
    success: { status: 201, description: 'The new account', schema: adminUserSchema },
    errors: adminErrors('invalid_email', 'password_rejected', 'invalid_account', 'invalid_name', 'invalid_tenant', 'email_taken', 'forbidden'),
    handle: async (ctx, { body }) => {
      const account = await deps.admin.users.create(adminActorOf(ctx), {
        email: body.email,
        password: body.password,
        name: body.name,
        roles: body.roles,
        tier: body.tier,
        tenant: body.tenant,
        emailVerified: body.email_verified,
      });
      ctx.set('Location', `/api/admin/users/${account.id}`);
      return adminUserOf(account);
    },
  });
