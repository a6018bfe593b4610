import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { statsQuery, statsSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

const DEFAULT_DAYS = 14;

export const getStats = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/stats',
    operationId: 'adminGetStats',
    summary: 'Sign-ins, failed sign-ins and lockouts per UTC day (from the audit log), and the browser sessions alive now; of the caller\'s tenant unless an owner asks.',
    tag: 'Admin: audit',
    security: adminRead,
    query: statsQuery,
    success: { status: 200, description: 'Activity per day', schema: statsSchema },
    errors: adminErrors(),
    handle: async (ctx, { query }) => deps.admin.stats.summary(adminActorOf(ctx), query.days ?? DEFAULT_DAYS),
  });
