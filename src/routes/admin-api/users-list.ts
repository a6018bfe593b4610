import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { adminUserOf, pageAnswer, userListQuery, userPageSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const listUsers = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/users',
    operationId: 'adminListUsers',
    summary: 'Finds accounts by email, name, role, tier, tenant and active flag (every filter given must match), in pages. `?email=` with a whole address finds that one account.',
    tag: 'Admin: users',
    security: adminRead,
    query: userListQuery,
    success: { status: 200, description: 'A page of accounts', schema: userPageSchema },
    errors: adminErrors(),
    handle: async (ctx, { query }) => {
      const { cursor, limit, ...filter } = query;
      return pageAnswer(await deps.admin.users.list(adminActorOf(ctx), filter, { cursor, limit }), adminUserOf);
    },
  });
