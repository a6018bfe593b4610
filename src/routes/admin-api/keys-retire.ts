import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { keyParams, signingKeyOf, signingKeySchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const retireSigningKey = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/keys/:kid/retire',
    operationId: 'adminRetireSigningKey',
    summary: 'Retires a key now, as `keyhold keys retire` does: it stops signing and stays in JWKS until what it signed has expired. Refused for the only key of its algorithm that can sign. Owners only.',
    tag: 'Admin: signing keys',
    security: adminWrite,
    params: keyParams,
    success: { status: 200, description: 'The key as retired', schema: signingKeySchema },
    errors: adminErrors('unknown_signing_key', 'signing_key_retired', 'last_signing_key', 'forbidden'),
    handle: async (ctx, { params }) => signingKeyOf(await deps.admin.keys.retire(adminActorOf(ctx), params.kid)),
  });
