import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { roleGrantsSchema, roleOf, roleParams, roleSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const setRoleGrants = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'put',
    path: '/api/admin/roles/:name/grants',
    operationId: 'adminSetRoleGrants',
    summary: "Replaces everything a role grants (API → scopes, each defined by its API). Accounts' next tokens (issue or refresh) follow. Owners only.",
    tag: 'Admin: roles',
    security: adminWrite,
    params: roleParams,
    body: roleGrantsSchema,
    success: { status: 200, description: 'The role as changed', schema: roleSchema },
    errors: adminErrors('unknown_role', 'unknown_resource', 'invalid_scope', 'forbidden'),
    handle: async (ctx, { params, body }) => roleOf(await deps.admin.roles.setGrants(adminActorOf(ctx), params.name, body.grants)),
  });
