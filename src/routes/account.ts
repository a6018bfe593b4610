// Keyhold's REST APIs on one router: every route is a declaration (src/http/route.ts),
// mounted with its guard, and the same declarations make /api/openapi.json.
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { isKeyholdError } from '#src/errors.ts';
import { openApiDocument } from '#src/http/openapi.ts';
import { defineRoute, mountRoutes, type AnyRouteSpec } from '#src/http/route.ts';
import { accountGone, requireAccountToken, type AccountScope } from '#src/routes/account-auth.ts';
import { ACCOUNT_TOKEN_SCHEME, accountApiRoutes, type AccountApiDependencies as ProfileApiDependencies } from '#src/routes/account-api/routes.ts';
import { accountSessionRoutes, type SessionRouteDependencies } from '#src/routes/account-api/sessions.ts';
import { factorApiRoutes } from '#src/routes/account-api/factors.ts';
import { ADMIN_TOKEN_SCHEME, adminApiRoutes, type AdminApiDependencies } from '#src/routes/admin-api/routes.ts';
import { requireAdminToken, type AdminScope } from '#src/routes/admin-auth.ts';
import { ACCOUNT_SCOPES, accountResourceFor, adminResourceFor } from '#src/services/resources.ts';
import { identityRoutes } from '#src/routes/account-api/identities.ts';

export type AccountApiDependencies = ProfileApiDependencies & SessionRouteDependencies;
/** What Keyhold's REST APIs (Account and Admin) need. */
export type ApiDependencies = AccountApiDependencies & AdminApiDependencies;

function documentOptions(issuer: string) {
  const resource = accountResourceFor(issuer);
  const adminResource = adminResourceFor(issuer);
  return {
    title: 'Keyhold API',
    issuer,
    description: [
      'Self-service for the signed-in person (Account API): profile, password, email address, data export (GDPR Art. 15/20) and erasure (Art. 17).',
      `Access tokens: authorization code flow with PKCE, requesting \`resource=${resource}\` (RFC 8707) and the scopes account:read and/or account:write.`,
      'The tokens are opaque and checked on every call, so revocation (logout, password change or reset) takes effect at once.',
      `Endpoints are listed in ${issuer}/.well-known/openid-configuration.`,
      `Administration (Admin API, under /api/admin): an access token for \`resource=${adminResource}\` with scope admin (read and write) or admin:read — a user's (role admin grants both by default) or a client's own (client_credentials, the scopes in its allow-list). An administrator without the owner role sees and changes only their own tenant; other tenants' objects answer 404. Lists take \`?cursor=&limit=\` and answer \`{ items, next_cursor }\`.`,
      'Every error is `{ error, error_description, request_id }` with a stable `error` code; account and admin responses are not cacheable (Cache-Control: no-store).',
    ].join('\n\n'),
    securitySchemes: {
      oauth2: {
        type: 'oauth2',
        description: `Authorization code with PKCE; add resource=${resource} to the authorization and token requests.`,
        flows: {
          authorizationCode: {
            authorizationUrl: `${issuer}/auth`,
            tokenUrl: `${issuer}/token`,
            refreshUrl: `${issuer}/token`,
            scopes: Object.fromEntries(ACCOUNT_SCOPES.map((scope) => [scope, scope === 'account:read' ? 'Read the profile and export the account data' : 'Change the profile, password and email address; delete the account'])),
          },
        },
      },
      bearer: { type: 'http', scheme: 'bearer', description: `An access token whose audience is ${resource}.` },
      adminOauth2: {
        type: 'oauth2',
        description: `A user's token (authorization code with PKCE) or a client's own (client_credentials), with resource=${adminResource}.`,
        flows: {
          authorizationCode: { authorizationUrl: `${issuer}/auth`, tokenUrl: `${issuer}/token`, refreshUrl: `${issuer}/token`, scopes: adminScopes },
          clientCredentials: { tokenUrl: `${issuer}/token`, scopes: adminScopes },
        },
      },
      adminBearer: { type: 'http', scheme: 'bearer', description: `An access token whose audience is ${adminResource}.` },
    },
    securityRequirements: (scheme: string, scopes: string[]): Array<Record<string, string[]>> =>
      scheme === ADMIN_TOKEN_SCHEME ? [{ adminOauth2: scopes }, { adminBearer: [] }] : [{ oauth2: scopes }, { bearer: [] }],
  };
}

const adminScopes = { admin: 'Read and change users, clients, API resources, roles and tenants', 'admin:read': 'Read them and the audit log' };

// An account that disappeared while the request ran is, to a bearer-token API, a token
// that stopped working: 401 with the RFC 6750 challenge.
function accountGoneAsInvalidToken(deps: AccountApiDependencies): Middleware {
  return async (_ctx, next) => {
    try {
      await next();
    } catch (error) {
      throw isKeyholdError(error, 'account_gone') ? accountGone(deps.config) : error;
    }
  };
}

/** Every declared REST route, the OpenAPI document's own included. */
export function apiRouteSpecs(deps: ApiDependencies, document: () => unknown): AnyRouteSpec[] {
  return [
    ...accountApiRoutes(deps),
    ...accountSessionRoutes(deps),
    ...factorApiRoutes(deps),
    ...adminApiRoutes(deps),
    ...identityRoutes(deps),
    defineRoute({
      method: 'get',
      path: '/api/openapi.json',
      operationId: 'openApi',
      summary: 'This document (OpenAPI 3.1)',
      tag: 'Meta',
      success: { status: 200, description: 'OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) },
      handle: (ctx) => {
        ctx.set('Cache-Control', 'public, max-age=300');
        return document() as Record<string, unknown>;
      },
    }),
  ];
}

export function apiDocument(deps: ApiDependencies): Record<string, unknown> {
  return openApiDocument(apiRouteSpecs(deps, () => ({})), documentOptions(deps.config.ISSUER));
}

export function accountRoutes(deps: ApiDependencies): Router {
  const router = new Router();
  let document: Record<string, unknown> | undefined;
  const specs = apiRouteSpecs(deps, () => (document ??= openApiDocument(specs, documentOptions(deps.config.ISSUER))));
  for (const prefix of ['/api/account', '/api/admin']) {
    router.use(prefix, async (ctx, next) => {
      // Personal data and secrets: never kept by a browser or proxy cache.
      ctx.set('Cache-Control', 'no-store');
      return next();
    });
  }
  router.use(accountGoneAsInvalidToken(deps));
  return mountRoutes(router, specs, {
    bodyLimit: deps.config.BODY_LIMIT,
    authenticators: {
      [ACCOUNT_TOKEN_SCHEME]: (scopes) => requireAccountToken(deps, scopes[0] as AccountScope),
      [ADMIN_TOKEN_SCHEME]: (scopes) => requireAdminToken({ ...deps, clientTenant: (clientId) => deps.admin.clients.tenantOf(clientId) }, scopes[0] as AdminScope),
    },
    checkResponses: deps.config.NODE_ENV !== 'production',
  });
}
