// The Account API: the signed-in person's own profile, password, email address, data
// export and erasure, called by applications with an access token for the Account API
// resource (scopes account:read / account:write). JSON in and out; every refusal has a
// stable code.
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Config } from '#src/config.ts';
import { KeyholdError } from '#src/errors.ts';
import { jsonBody } from '#src/middleware/body.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import { accountGone, accountTokenOf, requireAccountToken, type AccountToken } from '#src/routes/account-auth.ts';
import { profilePatchSchema, type AccountDataService } from '#src/services/account-data.ts';
import { AccountError, type Account, type AccountService } from '#src/services/accounts.ts';
import type { CredentialService } from '#src/services/credentials.ts';
import type { EmailOwnershipService } from '#src/services/email-ownership.ts';
import { FlowError } from '#src/services/flows.ts';
import { PasswordRejectedError, TooManyRequestsError } from '#src/services/lifecycle.ts';
import type { LoginThrottle } from '#src/services/login-throttle.ts';
import { singleLineText } from '#src/text-input.ts';

export interface AccountApiDependencies {
  config: Config;
  engine: EngineHost;
  accounts: AccountService;
  accountData: AccountDataService;
  credentials: CredentialService;
  emailOwnership: EmailOwnershipService;
  loginThrottle: LoginThrottle;
}

const password = z.string().max(4096);

export const passwordChangeSchema = z
  .object({ current_password: password, new_password: password, keep_other_sessions: z.boolean().optional() })
  .strict();
export const emailChangeSchema = z.object({ email: singleLineText(320) }).strict();
export const emailVerifySchema = z.object({ flow_id: z.uuid(), code: singleLineText(32) }).strict();
// The password may be left out right after a sign-in (RECENT_LOGIN_WINDOW).
export const accountDeletionSchema = z.object({ password: password.optional() }).strict();

export function profileOf(account: Account) {
  return {
    id: account.id,
    email: account.email,
    email_verified: account.emailVerified,
    name: account.name,
    given_name: account.givenName,
    family_name: account.familyName,
    picture: account.picture,
    locale: account.locale,
    zoneinfo: account.zoneinfo,
    phone_number: account.phoneNumber,
    phone_number_verified: account.phoneNumberVerified,
    roles: account.roles,
    tier: account.tier,
    tenant: account.tenant,
    created_at: account.createdAt,
    updated_at: account.updatedAt,
    last_login_at: account.lastLoginAt,
  };
}

function parseBody<T>(schema: z.ZodType<T>, ctx: Context): T {
  const parsed = schema.safeParse(ctx.request.body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  throw new KeyholdError('validation_failed', 'the request body is not valid', {}, { issues });
}

export function accountRoutes(deps: AccountApiDependencies): Router {
  const { config } = deps;
  const router = new Router();
  const json = jsonBody(config.BODY_LIMIT);
  const read = requireAccountToken(deps, 'account:read');
  const write = requireAccountToken(deps, 'account:write');

  // The services' refusals, as the API's stable codes.
  const serviceErrors: Middleware = async (_ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof PasswordRejectedError) throw new KeyholdError('password_rejected', error.message, {}, { violations: error.violations });
      if (error instanceof FlowError) throw new KeyholdError('invalid_code', error.message);
      if (error instanceof TooManyRequestsError) throw new KeyholdError('rate_limited', error.message, { 'Retry-After': String(error.retryAfterSeconds) });
      if (error instanceof AccountError) {
        if (error.code === 'invalid_account') throw accountGone(config);
        throw new KeyholdError(error.code, error.message);
      }
      throw error;
    }
  };
  router.use(async (ctx, next) => {
    // Personal data: never kept by a browser or proxy cache.
    ctx.set('Cache-Control', 'no-store');
    return next();
  }, serviceErrors);

  // A stolen token must not make guessing the password any faster than the login form:
  // failures count against the same limits, per address and account.
  const confirmPassword = async (ctx: Context, caller: AccountToken, action: () => Promise<void>) => {
    const retryAfter = await deps.loginThrottle.retryAfter(ctx.ip, caller.account.email);
    if (retryAfter > 0) throw new KeyholdError('rate_limited', 'too many wrong passwords; try again later', { 'Retry-After': String(retryAfter) });
    try {
      await action();
    } catch (error) {
      if (error instanceof AccountError && error.code === 'invalid_password') await deps.loginThrottle.recordFailure(ctx.ip, caller.account.email);
      throw error;
    }
    await deps.loginThrottle.recordSuccess(ctx.ip, caller.account.email);
  };

  router.get('/api/account', read, (ctx) => {
    ctx.body = profileOf(accountTokenOf(ctx).account);
  });

  router.patch('/api/account', write, json, async (ctx) => {
    const patch = parseBody(profilePatchSchema, ctx);
    ctx.body = profileOf(await deps.accountData.updateProfile(accountTokenOf(ctx).accountId, patch));
  });

  router.post('/api/account/password', write, json, async (ctx) => {
    const caller = accountTokenOf(ctx);
    const input = parseBody(passwordChangeSchema, ctx);
    // The calling application's grant (and the sign-in session it came from) stay; with
    // keep_other_sessions false, everything else of the account ends.
    const session = caller.sessionUid ? await deps.engine.provider.Session.findByUid(caller.sessionUid) : undefined;
    await confirmPassword(ctx, caller, () =>
      deps.credentials.changePassword({
        accountId: caller.accountId,
        currentPassword: input.current_password,
        newPassword: input.new_password,
        keepOtherSessions: input.keep_other_sessions ?? false,
        current: { grantIds: [caller.grantId], sessionIds: session ? [session.jti] : [] },
        ip: ctx.ip,
        clientId: caller.clientId,
      }),
    );
    ctx.status = 204;
  });

  router.post('/api/account/email', write, json, async (ctx) => {
    const input = parseBody(emailChangeSchema, ctx);
    const flow = await deps.emailOwnership.requestEmailChange(accountTokenOf(ctx).accountId, input.email, ctx.ip);
    ctx.status = 202;
    ctx.body = { flow_id: flow.flowId, expires_at: flow.expiresAt };
  });

  router.post('/api/account/email/verify', write, json, async (ctx) => {
    const input = parseBody(emailVerifySchema, ctx);
    ctx.body = await deps.emailOwnership.completeEmailChange({ flowId: input.flow_id, code: input.code, accountId: accountTokenOf(ctx).accountId });
  });

  router.get('/api/account/export', read, async (ctx) => {
    const caller = accountTokenOf(ctx);
    ctx.set('Content-Disposition', `attachment; filename="keyhold-account-${caller.accountId}.json"`);
    ctx.body = await deps.accountData.exportAccount(caller.accountId);
  });

  router.delete('/api/account', write, json, async (ctx) => {
    const caller = accountTokenOf(ctx);
    const input = parseBody(accountDeletionSchema, ctx);
    await confirmPassword(ctx, caller, () => deps.accountData.deleteAccount(caller.accountId, { password: input.password, authTime: caller.authTime }));
    ctx.status = 204;
  });

  return router;
}
