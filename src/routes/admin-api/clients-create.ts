import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { clientCreatedSchema, clientCreateSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const createClient = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/clients',
    operationId: 'adminCreateClient',
    summary: 'Registers a client from RFC 7591 metadata, as `keyhold client create` does; a generated client_secret is in this answer only.',
    tag: 'Admin: clients',
    security: adminWrite,
    body: clientCreateSchema,
    success: { status: 201, description: 'The client and, when it has one, its secret', schema: clientCreatedSchema },
    errors: adminErrors('invalid_client_metadata', 'invalid_redirect_uri', 'invalid_tenant', 'client_exists', 'forbidden'),
    handle: async (ctx, { body }) => {
      const created = await deps.admin.clients.create(adminActorOf(ctx), body.metadata, { tenant: body.tenant });
      ctx.set('Location', `/api/admin/clients/${encodeURIComponent(created.client.client_id)}`);
      // Secrets in answers must not be kept by any cache.
      ctx.set('Cache-Control', 'no-store');
      return { client: created.client, ...(created.clientSecret ? { client_secret: created.clientSecret } : {}) };
    },
  });
