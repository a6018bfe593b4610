import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { clientListQuery, clientPageSchema, pageAnswer } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const listClients = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/clients',
    operationId: 'adminListClients',
    summary: 'Registered clients, in pages (never their secrets)',
    tag: 'Admin: clients',
    security: adminRead,
    query: clientListQuery,
    success: { status: 200, description: 'A page of clients', schema: clientPageSchema },
    errors: adminErrors(),
    handle: async (ctx, { query }) => pageAnswer(await deps.admin.clients.list(adminActorOf(ctx), query), (client) => client),
  });
