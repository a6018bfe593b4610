import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { resourceCreateSchema, resourceOf, resourceSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const createResource = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/resources',
    operationId: 'adminCreateResource',
    summary: 'Registers an API resource and its scopes (its permissions); tokens for it are JWTs. Owners only: resources are shared by every tenant.',
    tag: 'Admin: API resources',
    security: adminWrite,
    body: resourceCreateSchema,
    success: { status: 201, description: 'The resource', schema: resourceSchema },
    errors: adminErrors('invalid_resource', 'resource_exists', 'forbidden'),
    handle: async (ctx, { body }) =>
      resourceOf(await deps.admin.resources.create(adminActorOf(ctx), { identifier: body.identifier, scopes: body.scopes, accessTokenTtl: body.access_token_ttl })),
  });
