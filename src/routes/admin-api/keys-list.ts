import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { signingKeyListSchema, signingKeyOf } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const listSigningKeys = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/keys',
    operationId: 'adminListSigningKeys',
    summary: 'The signing keys with their stage and times, as `keyhold keys list` shows them (never key material)',
    tag: 'Admin: signing keys',
    security: adminRead,
    success: { status: 200, description: 'Every key, newest activation first', schema: signingKeyListSchema },
    errors: adminErrors(),
    handle: async (ctx) => ({ keys: (await deps.admin.keys.list(adminActorOf(ctx))).map(signingKeyOf) }),
  });
