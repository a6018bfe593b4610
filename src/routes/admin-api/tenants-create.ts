import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { tenantCreateSchema, tenantOf, tenantSchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const createTenant = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/tenants',
    operationId: 'adminCreateTenant',
    summary: 'Creates a tenant, optionally overriding REGISTRATION and MFA_REQUIRED_TIERS for it. Owners only.',
    tag: 'Admin: tenants',
    security: adminWrite,
    body: tenantCreateSchema,
    success: { status: 201, description: 'The tenant', schema: tenantSchema },
    errors: adminErrors('invalid_tenant', 'tenant_exists', 'forbidden'),
    handle: async (ctx, { body }) => {
      const { id, mfa_required_tiers: mfaRequiredTiers, ...rest } = body;
      return tenantOf(await deps.admin.tenants.create(adminActorOf(ctx), id, { ...rest, mfaRequiredTiers }));
    },
  });
