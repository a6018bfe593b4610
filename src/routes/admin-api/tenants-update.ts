import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { tenantOf, tenantParams, tenantPatchSchema, tenantSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const updateTenant = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'patch',
    path: '/api/admin/tenants/:id',
    operationId: 'adminUpdateTenant',
    summary: "Changes a tenant's name or overrides (null: back to the node setting). Owners only.",
    tag: 'Admin: tenants',
    security: adminWrite,
    params: tenantParams,
    body: tenantPatchSchema,
    success: { status: 200, description: 'The tenant as changed', schema: tenantSchema },
    errors: adminErrors('unknown_tenant', 'invalid_tenant', 'forbidden'),
    handle: async (ctx, { params, body }) => {
      const { mfa_required_tiers: mfaRequiredTiers, ...rest } = body;
      return tenantOf(await deps.admin.tenants.update(adminActorOf(ctx), params.id, { ...rest, ...(mfaRequiredTiers !== undefined ? { mfaRequiredTiers } : {}) }));
    },
  });
