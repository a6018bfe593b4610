// Account API: the caller's browser sessions (Contract, "Security operations"). Listed with
// device, address and times; one ends by id (an id of another account's session is simply
// not found), or all but the session the calling token came from.
import { z } from 'zod';
import { defineRoute, type AnyRouteSpec } from '#src/http/route.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import { sessionByUid } from '#src/oidc/sessions.ts';
import { ACCOUNT_TOKEN_SCHEME } from '#src/routes/account-api/routes.ts';
import { accountTokenOf, type AccountToken } from '#src/routes/account-auth.ts';
import type { AccountSession, SessionService } from '#src/services/sessions.ts';

export interface SessionRouteDependencies {
  engine: EngineHost;
  sessions: SessionService;
}

const sessionSchema = z.object({
  id: z.string().describe('Opaque session id (not the session cookie)'),
  created_at: z.string().describe('When the session started (ISO 8601)'),
  last_active_at: z.string().describe('When it was last used to sign in to an application (ISO 8601)'),
  user_agent: z.string().nullable(),
  device: z.string().nullable().describe('Browser and system, from the user agent'),
  ip: z.string().nullable(),
  current: z.boolean().describe('The session the calling token was issued from'),
});

const sessionIdParams = z.object({ id: z.string().max(128) });

const toJson = (session: AccountSession): z.input<typeof sessionSchema> => ({
  id: session.id,
  created_at: session.createdAt,
  last_active_at: session.lastActiveAt,
  user_agent: session.userAgent,
  device: session.device,
  ip: session.ip,
  current: session.current,
});

const tag = 'Account';

export function accountSessionRoutes(deps: SessionRouteDependencies): AnyRouteSpec[] {
  // The engine's id of the session the token was issued from, when it still exists.
  const currentSessionId = async (caller: AccountToken) => {
    const session = caller.sessionUid ? await sessionByUid(deps.engine.provider, caller.sessionUid) : undefined;
    return session?.accountId === caller.accountId ? session.id : undefined;
  };

  return [
    defineRoute({
      method: 'get',
      path: '/api/account/sessions',
      operationId: 'listSessions',
      summary: 'The browser sessions of the account, newest first, with the current one marked',
      tag,
      security: { scheme: ACCOUNT_TOKEN_SCHEME, scopes: ['account:read'] },
      success: { status: 200, description: 'The sessions', schema: z.array(sessionSchema) },
      handle: async (ctx) => {
        const caller = accountTokenOf(ctx);
        return (await deps.sessions.list(caller.accountId, await currentSessionId(caller))).map(toJson);
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/api/account/sessions/:id',
      operationId: 'revokeSession',
      summary: 'Ends one session of the account, and every grant given from it (their refresh tokens stop working)',
      tag,
      security: { scheme: ACCOUNT_TOKEN_SCHEME, scopes: ['account:write'] },
      params: sessionIdParams,
      success: { status: 204, description: 'Ended' },
      errors: ['not_found'],
      handle: async (ctx, { params }) => {
        await deps.sessions.revoke(accountTokenOf(ctx).accountId, params.id);
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/account/sessions/revoke-others',
      operationId: 'revokeOtherSessions',
      summary: 'Ends every session of the account except the one the calling token was issued from',
      tag,
      security: { scheme: ACCOUNT_TOKEN_SCHEME, scopes: ['account:write'] },
      success: { status: 200, description: 'How many sessions ended', schema: z.object({ revoked: z.number().int() }) },
      handle: async (ctx) => {
        const caller = accountTokenOf(ctx);
        return { revoked: await deps.sessions.revokeOthers(caller.accountId, await currentSessionId(caller)) };
      },
    }),
  ];
}
