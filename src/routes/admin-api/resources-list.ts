import { defineRoute } from '#src/http/route.ts';
import { z } from 'zod';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { pageAnswer, pageQuery, resourceOf, resourcePageSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const listResources = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/resources',
    operationId: 'adminListResources',
    summary: 'Registered API resources (RFC 8707) and their scopes, in pages',
    tag: 'Admin: API resources',
    security: adminRead,
    query: z.object(pageQuery).strict(),
    success: { status: 200, description: 'A page of resources', schema: resourcePageSchema },
    errors: adminErrors(),
    handle: async (ctx, { query }) => pageAnswer(await deps.admin.resources.list(adminActorOf(ctx), query), resourceOf),
  });
