import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { clientParams, clientPatchSchema, clientSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const updateClient = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'patch',
    path: '/api/admin/clients/:id',
    operationId: 'adminUpdateClient',
    summary: 'Changes a client: each metadata property given replaces the stored one (null removes it), and the result is checked as a new client would be. Takes effect at the next request.',
    tag: 'Admin: clients',
    security: adminWrite,
    params: clientParams,
    body: clientPatchSchema,
    success: { status: 200, description: 'The client as changed', schema: clientSchema },
    errors: adminErrors('unknown_client', 'invalid_client_metadata', 'invalid_redirect_uri', 'invalid_tenant', 'forbidden'),
    handle: async (ctx, { params, body }) =>
      deps.admin.clients.update(adminActorOf(ctx), params.id, { metadata: body.metadata, firstParty: body.first_party, tenant: body.tenant }),
  });
