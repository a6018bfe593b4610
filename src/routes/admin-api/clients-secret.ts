import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { clientParams, clientSecretSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const rotateClientSecret = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/clients/:id/secret',
    operationId: 'adminRotateClientSecret',
    summary: 'Gives the client a new secret, shown in this answer only; the old one stops working at once.',
    tag: 'Admin: clients',
    security: adminWrite,
    params: clientParams,
    success: { status: 200, description: 'The new secret', schema: clientSecretSchema },
    errors: adminErrors('unknown_client', 'invalid_client_metadata', 'forbidden'),
    handle: async (ctx, { params }) => {
      ctx.set('Cache-Control', 'no-store');
      return deps.admin.clients.rotateSecret(adminActorOf(ctx), params.id);
    },
  });
