import { defineRoute } from '#src/http/route.ts';
import { z } from 'zod';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { pageAnswer, pageQuery, roleOf, rolePageSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const listRoles = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/roles',
    operationId: 'adminListRoles',
    summary: 'Roles and the API scopes each grants, in pages',
    tag: 'Admin: roles',
    security: adminRead,
    query: z.object(pageQuery).strict(),
    success: { status: 200, description: 'A page of roles', schema: rolePageSchema },
    errors: adminErrors(),
    handle: async (ctx, { query }) => pageAnswer(await deps.admin.roles.list(adminActorOf(ctx), query), roleOf),
  });
