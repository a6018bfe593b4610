import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { clientParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const deleteClient = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'delete',
    path: '/api/admin/clients/:id',
    operationId: 'adminDeleteClient',
    summary: 'Removes a client: its tokens stop working at once (they are checked against the client on use).',
    tag: 'Admin: clients',
    security: adminWrite,
    params: clientParams,
    success: { status: 204, description: 'Removed' },
    errors: adminErrors('unknown_client', 'forbidden'),
    handle: async (ctx, { params }) => deps.admin.clients.remove(adminActorOf(ctx), params.id),
  });
