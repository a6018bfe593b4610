import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { resourceOf, resourceParams, resourcePatchSchema, resourceSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const updateResource = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'patch',
    path: '/api/admin/resources/:identifier',
    operationId: 'adminUpdateResource',
    summary: "Replaces a resource's scopes (role grants of removed scopes go) or its access token lifetime. Owners only; Keyhold's own APIs are fixed.",
    tag: 'Admin: API resources',
    security: adminWrite,
    params: resourceParams,
    body: resourcePatchSchema,
    success: { status: 200, description: 'The resource as changed', schema: resourceSchema },
    errors: adminErrors('unknown_resource', 'invalid_resource', 'forbidden'),
    handle: async (ctx, { params, body }) =>
      resourceOf(await deps.admin.resources.update(adminActorOf(ctx), params.identifier, { scopes: body.scopes, accessTokenTtl: body.access_token_ttl })),
  });
