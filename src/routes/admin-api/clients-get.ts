import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { clientParams, clientSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const getClient = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/clients/:id',
    operationId: 'adminGetClient',
    summary: 'One client (never its secret)',
    tag: 'Admin: clients',
    security: adminRead,
    params: clientParams,
    success: { status: 200, description: 'The client', schema: clientSchema },
    errors: adminErrors('unknown_client'),
    handle: async (ctx, { params }) => deps.admin.clients.get(adminActorOf(ctx), params.id),
  });
