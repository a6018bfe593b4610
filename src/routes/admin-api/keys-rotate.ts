import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { keyRotateSchema, keyRotationSchema, signingKeyOf } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const rotateSigningKeys = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/keys/rotate',
    operationId: 'adminRotateSigningKeys',
    summary: 'Starts a rotation, as `keyhold keys rotate` does: a new key per algorithm is published now and signs after KEY_ACTIVATION_DELAY, when the current one retires. This node serves the new JWKS at once, other nodes at their next reload. Owners only (the keys sign for every tenant).',
    tag: 'Admin: signing keys',
    security: adminWrite,
    body: keyRotateSchema,
    success: { status: 200, description: 'Every key after the rotation, and which are new', schema: keyRotationSchema },
    errors: adminErrors('validation_failed', 'invalid_signing_alg', 'forbidden'),
    handle: async (ctx, { body }) => {
      const actor = adminActorOf(ctx);
      const created = await deps.admin.keys.rotate(actor, body?.alg);
      return { keys: (await deps.admin.keys.list(actor)).map(signingKeyOf), rotated: created.map((key) => key.kid) };
    },
  });
