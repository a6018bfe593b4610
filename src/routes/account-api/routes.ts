// The Account API: the signed-in person's own profile, password, email address, data
// export and erasure, called by applications with an access token for the Account API
// resource (scopes account:read / account:write). Each route is a declaration
// (src/http/route.ts): its schemas validate the request and make the OpenAPI document.
import type { Context } from 'koa';
import type { Config } from '#src/config.ts';
import { isKeyholdError } from '#src/errors.ts';
import { defineRoute, type AnyRouteSpec } from '#src/http/route.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import { sessionByUid } from '#src/oidc/sessions.ts';
import { accountTokenOf, type AccountToken } from '#src/routes/account-auth.ts';
import type { FactorApiDependencies } from '#src/routes/account-api/factors.ts';
import {
  accountDeletionSchema,
  accountExportSchema,
  emailChangedSchema,
  emailChangeFlowSchema,
  emailChangeSchema,
  emailVerifySchema,
  passwordChangeSchema,
  profileOf,
  profilePatch,
  profileSchema,
} from '#src/routes/account-api/schemas.ts';
import type { AccountDataService } from '#src/services/account-data.ts';
import type { AccountService } from '#src/services/accounts.ts';
import type { CredentialService } from '#src/services/credentials.ts';
import type { EmailOwnershipService } from '#src/services/email-ownership.ts';
import { withPasswordAttempt, type LoginThrottle } from '#src/services/login-throttle.ts';

export interface AccountApiDependencies extends FactorApiDependencies {
  config: Config;
  engine: EngineHost;
  accounts: AccountService;
  accountData: AccountDataService;
  credentials: CredentialService;
  emailOwnership: EmailOwnershipService;
  loginThrottle: LoginThrottle;
}

export const ACCOUNT_TOKEN_SCHEME = 'accountToken';
const read = { scheme: ACCOUNT_TOKEN_SCHEME, scopes: ['account:read'] };
const write = { scheme: ACCOUNT_TOKEN_SCHEME, scopes: ['account:write'] };
const tag = 'Account';

export function accountApiRoutes(deps: AccountApiDependencies): AnyRouteSpec[] {
  // A stolen token must not make guessing the password any faster than the login form:
  // attempts count against the same limits, per address and account, before the check.
  const confirmPassword = (ctx: Context, caller: AccountToken, action: () => Promise<void>) =>
    withPasswordAttempt(deps.loginThrottle, ctx.ip, caller.account.email, action, (error) => isKeyholdError(error, 'invalid_password'));

  return [
    defineRoute({
      method: 'get',
      path: '/api/account',
      operationId: 'getAccount',
      summary: 'The profile of the account the token belongs to',
      tag,
      security: read,
      success: { status: 200, description: 'The profile', schema: profileSchema },
      handle: (ctx) => profileOf(accountTokenOf(ctx).account),
    }),

    defineRoute({
      method: 'patch',
      path: '/api/account',
      operationId: 'updateAccount',
      summary: 'Changes profile fields; null (or an empty string) clears one, absent fields stay. Unknown fields are refused.',
      tag,
      security: write,
      body: profilePatch,
      success: { status: 200, description: 'The updated profile', schema: profileSchema },
      handle: async (ctx, { body }) => profileOf(await deps.accountData.updateProfile(accountTokenOf(ctx).accountId, body)),
    }),

    defineRoute({
      method: 'post',
      path: '/api/account/password',
      operationId: 'changePassword',
      summary:
        'Changes the password. Unless keep_other_sessions is true, every other session, grant and refresh token of the account ends; the calling token keeps working. A notice is mailed to the account address.',
      tag,
      security: write,
      body: passwordChangeSchema,
      success: { status: 204, description: 'Changed' },
      errors: ['invalid_password', 'password_rejected', 'rate_limited'],
      handle: async (ctx, { body }) => {
        const caller = accountTokenOf(ctx);
        // The calling application's grant (and the sign-in session it came from) stay; with
        // keep_other_sessions false, everything else of the account ends.
        const session = caller.sessionUid ? await sessionByUid(deps.engine.provider, caller.sessionUid) : undefined;
        await confirmPassword(ctx, caller, () =>
          deps.credentials.changePassword({
            accountId: caller.accountId,
            currentPassword: body.current_password,
            newPassword: body.new_password,
            keepOtherSessions: body.keep_other_sessions ?? false,
            current: { grantIds: [caller.grantId], sessionIds: session ? [session.id] : [] },
            ip: ctx.ip,
            clientId: caller.clientId,
          }),
        );
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/account/email',
      operationId: 'requestEmailChange',
      summary:
        'Starts an email change after re-authentication (the password, which a first_party client may leave out within RECENT_LOGIN_WINDOW seconds of signing in): a six-digit code is mailed to the new address, and the current address is told at once with a link that cancels the change. The answer is the same when the address belongs to another account (nothing is mailed to it then). A password reset or change voids a pending email change.',
      tag,
      security: write,
      body: emailChangeSchema,
      success: { status: 202, description: 'Code sent', schema: emailChangeFlowSchema },
      errors: ['invalid_email', 'invalid_password', 'rate_limited'],
      handle: async (ctx, { body }) => {
        const caller = accountTokenOf(ctx);
        const request = () => deps.emailOwnership.requestEmailChange(caller.accountId, body.email, { password: body.password, authTime: caller.authTime }, ctx.ip);
        let flow: Awaited<ReturnType<typeof request>> | undefined;
        const start = async () => void (flow = await request());
        // Without a password nothing is guessed (a recent sign-in stands in for it).
        await (body.password === undefined ? start() : confirmPassword(ctx, caller, start));
        return { flow_id: flow!.flowId, expires_at: flow!.expiresAt };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/account/email/verify',
      operationId: 'verifyEmailChange',
      summary: 'Completes an email change with the mailed code (wrong codes are counted and end the flow); the old address is told, with a link that undoes the change. Pending password resets and email changes of the account are voided.',
      tag,
      security: write,
      body: emailVerifySchema,
      success: { status: 200, description: 'The account now uses the new address (verified)', schema: emailChangedSchema },
      errors: ['invalid_code', 'email_taken'],
      handle: (ctx, { body }) => deps.emailOwnership.completeEmailChange({ flowId: body.flow_id, code: body.code, accountId: accountTokenOf(ctx).accountId }),
    }),

    defineRoute({
      method: 'get',
      path: '/api/account/export',
      operationId: 'exportAccount',
      summary: 'Everything Keyhold holds about the account, as one JSON document (served as an attachment)',
      tag,
      security: read,
      success: {
        status: 200,
        description: 'The export',
        schema: accountExportSchema,
        headers: { 'Content-Disposition': { description: 'attachment; filename="keyhold-account-<id>.json"' } },
      },
      handle: async (ctx) => {
        const caller = accountTokenOf(ctx);
        ctx.set('Content-Disposition', `attachment; filename="keyhold-account-${caller.accountId}.json"`);
        return (await deps.accountData.exportAccount(caller.accountId)) as never;
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/api/account',
      operationId: 'deleteAccount',
      summary:
        'Erases the account after confirming its password (which a first_party client may leave out within RECENT_LOGIN_WINDOW seconds of signing in); every session and token of it ends. The audit trail is kept without personal data.',
      tag,
      security: write,
      body: accountDeletionSchema,
      success: { status: 204, description: 'Erased' },
      errors: ['invalid_password', 'rate_limited'],
      handle: async (ctx, { body }) => {
        const caller = accountTokenOf(ctx);
        const erase = () => deps.accountData.deleteAccount(caller.accountId, { password: body.password, authTime: caller.authTime });
        // Without a password nothing is guessed (a recent sign-in stands in for it).
        await (body.password === undefined ? erase() : confirmPassword(ctx, caller, erase));
      },
    }),
  ];
}
