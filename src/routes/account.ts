// Keyhold's REST APIs on one router: every route is a declaration (src/http/route.ts),
// mounted with its guard, and the same declarations make /api/openapi.json.
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { KeyholdError } from '#src/errors.ts';
import { openApiDocument } from '#src/http/openapi.ts';
import { defineRoute, mountRoutes, type AnyRouteSpec } from '#src/http/route.ts';
import { accountGone, requireAccountToken, type AccountScope } from '#src/routes/account-auth.ts';
import { ACCOUNT_TOKEN_SCHEME, accountApiRoutes, type AccountApiDependencies } from '#src/routes/account-api/routes.ts';
import { AccountError } from '#src/services/accounts.ts';
import { FlowError } from '#src/services/flows.ts';
import { PasswordRejectedError, TooManyRequestsError } from '#src/services/lifecycle.ts';
import { ACCOUNT_SCOPES, accountResourceFor } from '#src/services/resources.ts';

export type { AccountApiDependencies };

function documentOptions(issuer: string) {
  const resource = accountResourceFor(issuer);
  return {
    title: 'Keyhold API',
    issuer,
    description: [
      'Self-service for the signed-in person (Account API): profile, password, email address, data export (GDPR Art. 15/20) and erasure (Art. 17).',
      `Access tokens: authorization code flow with PKCE, requesting \`resource=${resource}\` (RFC 8707) and the scopes account:read and/or account:write.`,
      'The tokens are opaque and checked on every call, so revocation (logout, password change or reset) takes effect at once.',
      `Endpoints are listed in ${issuer}/.well-known/openid-configuration.`,
      'Every error is `{ error, error_description, request_id }` with a stable `error` code; account responses are not cacheable (Cache-Control: no-store).',
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
    },
    securityRequirements: (_scheme: string, scopes: string[]): Array<Record<string, string[]>> => [{ oauth2: scopes }, { bearer: [] }],
  };
}

// The services' refusals that are not yet KeyholdErrors, as the API's stable codes.
function serviceErrors(deps: AccountApiDependencies): Middleware {
  return async (_ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof PasswordRejectedError) throw new KeyholdError('password_rejected', error.message, {}, { violations: error.violations });
      if (error instanceof FlowError) throw new KeyholdError('invalid_code', error.message);
      if (error instanceof TooManyRequestsError) throw new KeyholdError('rate_limited', error.message, { 'Retry-After': String(error.retryAfterSeconds) });
      if (error instanceof AccountError) {
        if (error.code === 'invalid_account') throw accountGone(deps.config);
        throw new KeyholdError(error.code, error.message);
      }
      throw error;
    }
  };
}

/** Every declared REST route, the OpenAPI document's own included. */
export function apiRouteSpecs(deps: AccountApiDependencies, document: () => unknown): AnyRouteSpec[] {
  return [
    ...accountApiRoutes(deps),
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

export function apiDocument(deps: AccountApiDependencies): Record<string, unknown> {
  return openApiDocument(apiRouteSpecs(deps, () => ({})), documentOptions(deps.config.ISSUER));
}

export function accountRoutes(deps: AccountApiDependencies): Router {
  const router = new Router();
  let document: Record<string, unknown> | undefined;
  const specs = apiRouteSpecs(deps, () => (document ??= openApiDocument(specs, documentOptions(deps.config.ISSUER))));
  router.use('/api/account', async (ctx, next) => {
    // Personal data: never kept by a browser or proxy cache.
    ctx.set('Cache-Control', 'no-store');
    return next();
  });
  router.use(serviceErrors(deps));
  return mountRoutes(router, specs, {
    bodyLimit: deps.config.BODY_LIMIT,
    authenticators: { [ACCOUNT_TOKEN_SCHEME]: (scopes) => requireAccountToken(deps, scopes[0] as AccountScope) },
    checkResponses: deps.config.NODE_ENV !== 'production',
  });
}
