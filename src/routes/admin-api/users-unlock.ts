import { z } from 'zod';
import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { userParams } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminWrite, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

const unlockedSchema = z
  .object({ id: z.uuid(), was_locked: z.boolean() })
  .meta({ id: 'AdminUnlocked', examples: [{ id: '4b2f6a2e-6a0d-4f7b-9d1c-3f1f5b2a9e10', was_locked: true }] });

export const unlockUser = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'post',
    path: '/api/admin/users/:id/unlock',
    operationId: 'adminUnlockUser',
    summary: 'Lifts a sign-in lockout (LOCKOUT_THRESHOLD failed sign-ins) and forgets the failures; says whether the account was locked.',
    tag: 'Admin: users',
    security: adminWrite,
    params: userParams,
    success: { status: 200, description: 'Unlocked', schema: unlockedSchema },
    errors: adminErrors('unknown_account', 'forbidden'),
    handle: async (ctx, { params }) => deps.admin.users.unlock(adminActorOf(ctx), { id: params.id }),
  });
