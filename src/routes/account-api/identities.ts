// Account API: the upstream identities (federation) linked to the signed-in account. Linking
// happens through a sign-in with the connector (it needs the account's password or session);
// unlinking is here, refused for the account's last way to sign in.
import { z } from 'zod';
import { defineRoute, type AnyRouteSpec } from '#src/http/route.ts';
import { accountTokenOf } from '#src/routes/account-auth.ts';
import { ACCOUNT_TOKEN_SCHEME } from '#src/routes/account-api/routes.ts';
import type { FederatedIdentityService } from '#src/services/federation/identities.ts';

const identitySchema = z
  .object({
    connector_id: z.string(),
    subject: z.string(),
    email: z.string().nullable(),
    created_at: z.iso.datetime(),
    last_used_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'LinkedIdentity' });

const tag = 'Account';

export function identityRoutes(deps: { federatedIdentities: FederatedIdentityService }): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/account/identities',
      operationId: 'listIdentities',
      summary: 'The upstream identities (connectors) linked to the account',
      tag,
      security: { scheme: ACCOUNT_TOKEN_SCHEME, scopes: ['account:read'] },
      success: { status: 200, description: 'Linked identities, oldest first', schema: z.array(identitySchema) },
      handle: (ctx) => deps.federatedIdentities.list(accountTokenOf(ctx).accountId),
    }),

    defineRoute({
      method: 'delete',
      path: '/api/account/identities/:connector/:subject',
      operationId: 'unlinkIdentity',
      summary: 'Unlinks an upstream identity. Refused (409 last_sign_in_method) when the account has no password and no other linked identity.',
      tag,
      security: { scheme: ACCOUNT_TOKEN_SCHEME, scopes: ['account:write'] },
      params: z.object({ connector: z.string().max(64), subject: z.string().max(1024) }),
      success: { status: 204, description: 'Unlinked' },
      errors: ['not_found', 'last_sign_in_method'],
      handle: async (ctx, { params }) => {
        await deps.federatedIdentities.unlink(accountTokenOf(ctx).accountId, params.connector, params.subject, ctx.ip);
      },
    }),
  ];
}
