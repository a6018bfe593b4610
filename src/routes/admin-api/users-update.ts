import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { adminUserOf, adminUserSchema, userParams, userPatchSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const updateUser = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'patch',
    path: '/api/admin/users/:id',
    operationId: 'adminUpdateUser',
    summary:
      'Changes name, roles, tier, tenant or active; absent fields stay. Roles take effect at the next token (issue or refresh). active: false disables the account and ends its sessions and tokens; true enables it again.',
    tag: 'Admin: users',
    security: adminWrite,
    params: userParams,
    body: userPatchSchema,
    success: { status: 200, description: 'The account as changed', schema: adminUserSchema },
    errors: adminErrors('unknown_account', 'invalid_account', 'invalid_name', 'invalid_tenant', 'forbidden'),
    handle: async (ctx, { params, body }) =>
      adminUserOf(
        await deps.admin.users.update(
          adminActorOf(ctx),
          { id: params.id },
          {
            ...(body.name !== undefined ? { name: body.name ?? '' } : {}),
            ...(body.roles !== undefined ? { roles: body.roles } : {}),
            ...(body.tier !== undefined ? { tier: body.tier ?? '' } : {}),
            ...(body.tenant !== undefined ? { tenant: body.tenant } : {}),
            ...(body.active !== undefined ? { active: body.active } : {}),
          },
        ),
      ),
  });
