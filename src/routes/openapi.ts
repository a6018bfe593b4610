// OpenAPI 3.1 description of Keyhold's own REST API (the Account API), served at
// /api/openapi.json. Written by hand next to the routes it describes: a change to
// routes/account.ts changes this file too.
import Router from '@koa/router';
import type { Config } from '#src/config.ts';
import { errorStatus } from '#src/errors.ts';
import { ACCOUNT_SCOPES, accountResourceFor } from '#src/services/resources.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
const jsonRequest = (schema: string) => ({ required: true, content: { 'application/json': { schema: ref(schema) } } });
const nullableString = (extra: Record<string, unknown> = {}) => ({ type: ['string', 'null'], ...extra });

const unauthorized = errorResponse(
  'unauthorized: no access token, or one that is unknown, expired, revoked, not for the Account API, or whose account is gone or disabled. The WWW-Authenticate header carries error="invalid_token" (RFC 6750).',
);
const forbidden = errorResponse('forbidden: the access token lacks the scope (WWW-Authenticate: error="insufficient_scope").');
const bodyErrors = {
  '400': errorResponse('invalid_body (malformed JSON) or validation_failed (see `issues`).'),
  '413': errorResponse('payload_too_large'),
  '415': errorResponse('unsupported_media_type: send application/json.'),
};
const tooManyPasswords = errorResponse('rate_limited: too many wrong passwords (shared with the login form); see Retry-After.');

const read = [{ oauth2: ['account:read'] }, { bearer: [] }];
const write = [{ oauth2: ['account:write'] }, { bearer: [] }];

export function openApiDocument(issuer: string) {
  const resource = accountResourceFor(issuer);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Keyhold Account API',
      version: '1',
      description: [
        'Self-service for the signed-in person: profile, password, email address, data export (GDPR Art. 15/20) and erasure (Art. 17).',
        `Access tokens: authorization code flow with PKCE, requesting \`resource=${resource}\` (RFC 8707) and the scopes account:read and/or account:write.`,
        'The tokens are opaque and checked on every call, so revocation (logout, password change or reset) takes effect at once.',
        `Endpoints are listed in ${issuer}/.well-known/openid-configuration.`,
        'Every error is `{ error, error_description, request_id }` with a stable `error` code; responses are not cacheable (Cache-Control: no-store).',
      ].join('\n\n'),
    },
    servers: [{ url: issuer }],
    security: read,
    paths: {
      '/api/account': {
        get: {
          operationId: 'getAccount',
          summary: 'The profile of the account the token belongs to',
          security: read,
          responses: { '200': { description: 'The profile', content: { 'application/json': { schema: ref('Profile') } } }, '401': unauthorized, '403': forbidden },
        },
        patch: {
          operationId: 'updateAccount',
          summary: 'Changes profile fields; null (or an empty string) clears one, absent fields stay. Unknown fields are refused.',
          security: write,
          requestBody: jsonRequest('ProfilePatch'),
          responses: { '200': { description: 'The updated profile', content: { 'application/json': { schema: ref('Profile') } } }, ...bodyErrors, '401': unauthorized, '403': forbidden },
        },
        delete: {
          operationId: 'deleteAccount',
          summary: 'Erases the account after confirming its password (which may be left out within RECENT_LOGIN_WINDOW seconds of signing in); every session and token of it ends. The audit trail is kept without personal data.',
          security: write,
          requestBody: jsonRequest('AccountDeletion'),
          responses: {
            '204': { description: 'Erased' },
            ...bodyErrors,
            '400': errorResponse('invalid_password, invalid_body or validation_failed.'),
            '401': unauthorized,
            '403': forbidden,
            '429': tooManyPasswords,
          },
        },
      },
      '/api/account/password': {
        post: {
          operationId: 'changePassword',
          summary: 'Changes the password. Unless keep_other_sessions is true, every other session, grant and refresh token of the account ends; the calling token keeps working.',
          security: write,
          requestBody: jsonRequest('PasswordChange'),
          responses: {
            '204': { description: 'Changed; a notice is mailed to the account address' },
            ...bodyErrors,
            '400': errorResponse('invalid_password (current password wrong), password_rejected (see `violations`), invalid_body or validation_failed.'),
            '401': unauthorized,
            '403': forbidden,
            '429': tooManyPasswords,
          },
        },
      },
      '/api/account/email': {
        post: {
          operationId: 'requestEmailChange',
          summary:
            'Starts an email change after re-authentication (the password, which may be left out within RECENT_LOGIN_WINDOW seconds of signing in): a six-digit code is mailed to the new address, and the current address is told at once with a link that cancels the change. The answer is the same when the address belongs to another account (nothing is mailed to it then). A password reset or change voids a pending email change.',
          security: write,
          requestBody: jsonRequest('EmailChange'),
          responses: {
            '202': { description: 'Code sent', content: { 'application/json': { schema: ref('EmailChangeFlow') } } },
            ...bodyErrors,
            '400': errorResponse('invalid_email (not an address, or already the account address), invalid_password (wrong password, or none and no recent sign-in), invalid_body or validation_failed.'),
            '401': unauthorized,
            '403': forbidden,
            '429': tooManyPasswords,
          },
        },
      },
      '/api/account/email/verify': {
        post: {
          operationId: 'verifyEmailChange',
          summary: 'Completes an email change with the mailed code; the old address is told, with a link that undoes the change. Pending password resets and email changes of the account are voided.',
          security: write,
          requestBody: jsonRequest('EmailVerification'),
          responses: {
            '200': { description: 'The account now uses the new address (verified)', content: { 'application/json': { schema: ref('EmailChanged') } } },
            ...bodyErrors,
            '400': errorResponse('invalid_code (wrong, expired or used code; wrong codes are counted and end the flow), invalid_body or validation_failed.'),
            '401': unauthorized,
            '403': forbidden,
            '409': errorResponse('email_taken: another account took the address meanwhile.'),
          },
        },
      },
      '/api/account/export': {
        get: {
          operationId: 'exportAccount',
          summary: 'Everything Keyhold holds about the account, as one JSON document (served as an attachment)',
          security: read,
          responses: {
            '200': {
              description: 'The export',
              headers: { 'Content-Disposition': { schema: { type: 'string' }, description: 'attachment; filename="keyhold-account-<id>.json"' } },
              content: { 'application/json': { schema: ref('AccountExport') } },
            },
            '401': unauthorized,
            '403': forbidden,
          },
        },
      },
      '/api/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
    components: {
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
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'error_description', 'request_id'],
          properties: {
            error: {
              type: 'string',
              enum: Object.keys(errorStatus),
            },
            error_description: { type: 'string' },
            request_id: { type: 'string' },
            issues: {
              description: 'validation_failed: what was wrong and where (`path` is dotted; empty for the body itself, e.g. an unknown field).',
              type: 'array',
              items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
            },
            violations: {
              description: 'password_rejected: every rule the new password breaks.',
              type: 'array',
              items: {
                type: 'object',
                required: ['code', 'message'],
                properties: { code: { type: 'string', enum: ['too_short', 'too_long', 'common', 'contains_email', 'breached', 'reused'] }, message: { type: 'string' } },
              },
            },
          },
        },
        Profile: {
          type: 'object',
          required: [
            'id',
            'email',
            'email_verified',
            'name',
            'given_name',
            'family_name',
            'picture',
            'locale',
            'zoneinfo',
            'phone_number',
            'phone_number_verified',
            'roles',
            'tier',
            'tenant',
            'created_at',
            'updated_at',
            'last_login_at',
          ],
          properties: {
            id: { type: 'string', format: 'uuid' },
            email: { type: 'string', format: 'email' },
            email_verified: { type: 'boolean' },
            name: nullableString(),
            given_name: nullableString(),
            family_name: nullableString(),
            picture: nullableString({ format: 'uri' }),
            locale: nullableString(),
            zoneinfo: nullableString(),
            phone_number: nullableString(),
            phone_number_verified: { type: 'boolean' },
            roles: { type: 'array', items: { type: 'string' } },
            tier: nullableString(),
            tenant: nullableString(),
            created_at: { type: 'string', format: 'date-time' },
            updated_at: { type: 'string', format: 'date-time' },
            last_login_at: nullableString({ format: 'date-time' }),
          },
        },
        ProfilePatch: {
          type: 'object',
          additionalProperties: false,
          properties: {
            name: nullableString({ maxLength: 200 }),
            given_name: nullableString({ maxLength: 100 }),
            family_name: nullableString({ maxLength: 100 }),
            picture: nullableString({ format: 'uri', pattern: '^https://', maxLength: 2048, description: 'an https URL' }),
            locale: nullableString({ pattern: '^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$', maxLength: 35, description: 'BCP 47 language tag, e.g. en-GB' }),
            zoneinfo: nullableString({ description: 'IANA time zone, e.g. Europe/Paris' }),
            phone_number: nullableString({ pattern: '^\\+[1-9]\\d{6,14}$', description: 'E.164; a new number is not verified' }),
          },
        },
        PasswordChange: {
          type: 'object',
          additionalProperties: false,
          required: ['current_password', 'new_password'],
          properties: {
            current_password: { type: 'string', maxLength: 4096 },
            new_password: { type: 'string', maxLength: 4096 },
            keep_other_sessions: { type: 'boolean', default: false },
          },
        },
        EmailChange: {
          type: 'object',
          additionalProperties: false,
          required: ['email'],
          properties: {
            email: { type: 'string', format: 'email', maxLength: 320 },
            password: { type: 'string', maxLength: 4096, description: 'Required unless the session behind the token signed in within RECENT_LOGIN_WINDOW seconds.' },
          },
        },
        EmailChangeFlow: {
          type: 'object',
          required: ['flow_id', 'expires_at'],
          properties: { flow_id: { type: 'string', format: 'uuid' }, expires_at: { type: 'string', format: 'date-time' } },
        },
        EmailVerification: {
          type: 'object',
          additionalProperties: false,
          required: ['flow_id', 'code'],
          properties: { flow_id: { type: 'string', format: 'uuid' }, code: { type: 'string', pattern: '^\\d{6}$' } },
        },
        EmailChanged: { type: 'object', required: ['email'], properties: { email: { type: 'string', format: 'email' } } },
        AccountDeletion: {
          type: 'object',
          additionalProperties: false,
          properties: { password: { type: 'string', maxLength: 4096, description: 'Required unless the session behind the token signed in within RECENT_LOGIN_WINDOW seconds.' } },
        },
        AccountExport: {
          type: 'object',
          required: ['format', 'exportedAt', 'issuer', 'account', 'passwordHistory', 'selfServiceFlows', 'mails', 'auditLog'],
          properties: {
            format: { const: 'keyhold-account-export/1' },
            exportedAt: { type: 'string', format: 'date-time' },
            issuer: { type: 'string', format: 'uri' },
            account: { type: 'object', description: 'Every stored account field (camelCase), plus active and hasPassword; never the password hash.' },
            passwordHistory: { type: 'array', items: { type: 'object', properties: { replacedAt: { type: 'string', format: 'date-time' } } } },
            selfServiceFlows: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  kind: { type: 'string' },
                  state: { type: 'string' },
                  email: nullableString(),
                  created_at: { type: 'string', format: 'date-time' },
                  expires_at: { type: 'string', format: 'date-time' },
                  completed_at: nullableString({ format: 'date-time' }),
                },
              },
            },
            mails: {
              type: 'array',
              items: { type: 'object', properties: { template: { type: 'string' }, created_at: { type: 'string', format: 'date-time' }, sent_at: nullableString({ format: 'date-time' }) } },
            },
            auditLog: {
              type: 'array',
              items: {
                type: 'object',
                properties: { at: { type: 'string', format: 'date-time' }, event: { type: 'string' }, clientId: nullableString(), ip: nullableString(), details: { type: 'object' } },
              },
            },
          },
        },
      },
    },
  };
}

export function openApiRoutes(config: Config): Router {
  const router = new Router();
  const document = JSON.stringify(openApiDocument(config.ISSUER));
  router.get('/api/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = document;
  });
  return router;
}
