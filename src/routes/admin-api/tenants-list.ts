import { defineRoute } from '#src/http/route.ts';
import { z } from 'zod';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { pageAnswer, pageQuery, tenantOf, tenantPageSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const listTenants = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/tenants',
    operationId: 'adminListTenants',
    summary: "Tenants and their settings overrides, in pages (a tenant's administrator sees their own)",
    tag: 'Admin: tenants',
    security: adminRead,
    query: z.object(pageQuery).strict(),
    success: { status: 200, description: 'A page of tenants', schema: tenantPageSchema },
    errors: adminErrors(),
    handle: async (ctx, { query }) => pageAnswer(await deps.admin.tenants.list(adminActorOf(ctx), query), tenantOf),
  });
