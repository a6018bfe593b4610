import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { userParams, userSecuritySchema } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const getUserSecurity = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/users/:id/security',
    operationId: 'adminGetUserSecurity',
    summary: "The account's lockout, live browser sessions, second factors and linked upstream identities (no secrets).",
    tag: 'Admin: users',
    security: adminRead,
    params: userParams,
    success: { status: 200, description: "The account's security", schema: userSecuritySchema },
    errors: adminErrors('unknown_account'),
    handle: async (ctx, { params }) => {
      // Visibility first: an account of another tenant is unknown to this administrator.
      const account = await deps.admin.users.get(adminActorOf(ctx), { id: params.id });
      const [security, sessions] = await Promise.all([deps.admin.userSecurity.describe(account.id), deps.sessions.list(account.id)]);
      return {
        ...security,
        sessions: sessions.map((session) => ({ id: session.id, created_at: session.createdAt, last_active_at: session.lastActiveAt, device: session.device, ip: session.ip })),
      };
    },
  });
