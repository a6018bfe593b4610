// The Account API's second factors: list, enrol (and confirm with a code), remove, and new
// recovery codes. Every change needs re-authentication — the password, a sign-in within
// RECENT_LOGIN_WINDOW seconds (first_party clients), or, to remove a factor, a fresh code
// from an authenticator app or a recovery code — so a stolen token alone can neither add an
// attacker's factor nor strip the owner's. Changes are audited and mailed by the service.
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '#src/config.ts';
import { defineRoute, type AnyRouteSpec } from '#src/http/route.ts';
import { accountTokenOf, type AccountToken } from '#src/routes/account-auth.ts';
import type { MfaService } from '#src/services/mfa/factors.ts';
import type { MfaRequirement } from '#src/services/mfa/requirement.ts';
import type { LoginThrottle } from '#src/services/login-throttle.ts';
import type { Reauthentication } from '#src/services/mfa/reauthentication.ts';
import { singleLineText } from '#src/text-input.ts';

export interface FactorApiDependencies {
  config: Config;
  reauthentication: Reauthentication;
  mfa: MfaService;
  mfaRequirement: MfaRequirement;
  loginThrottle: LoginThrottle;
}

const kind = z.enum(['totp', 'email', 'sms', 'passkey']);
// Passkeys are registered in the browser (the security page), where WebAuthn runs.
const enrolKind = z.enum(['totp', 'email', 'sms']);
const password = z
  .string()
  .max(4096)
  .optional()
  .describe('The account password, for an account without a second factor; not needed within RECENT_LOGIN_WINDOW seconds of signing in (first_party clients).');
const code = singleLineText(32)
  .optional()
  .describe('A current authenticator-app code or an unused recovery code. With a second factor on the account, this (or a recent sign-in that used one) is required: the password alone is refused.');

const factorSchema = z
  .object({
    id: z.uuid(),
    kind,
    destination: z.string().nullable().describe('Where codes go, partly hidden (email and SMS factors); a passkey\'s name.'),
    created_at: z.iso.datetime(),
    last_used_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Factor' });

const factorListSchema = z
  .object({
    factors: z.array(factorSchema),
    recovery_codes_left: z.number().int(),
    available_kinds: z.array(kind),
    required: z.boolean().describe('Policy requires a second factor of this account: the last one cannot be removed.'),
  })
  .meta({ id: 'FactorList' });

const enrolmentSchema = z
  .object({ kind: enrolKind, phone_number: singleLineText(32).optional().describe('E.164, for kind sms.'), password, code })
  .strict()
  .meta({ id: 'FactorEnrolment' });

const pendingFactorSchema = z
  .object({
    factor_id: z.uuid(),
    kind: enrolKind,
    secret: z.string().optional().describe('TOTP: the base32 secret, shown once.'),
    otpauth_uri: z.string().optional().describe('TOTP: the otpauth:// URI for a QR code.'),
  })
  .meta({ id: 'PendingFactor' });

const confirmationSchema = z.object({ code: singleLineText(32) }).strict().meta({ id: 'FactorConfirmation' });

const confirmedSchema = z
  .object({ factor: factorSchema, recovery_codes: z.array(z.string()).optional().describe('Issued with the first factor only; shown once.') })
  .meta({ id: 'ConfirmedFactor' });

const removalSchema = z
  .object({ password, code })
  .strict()
  .meta({ id: 'FactorRemoval' });

const reauthenticationSchema = z.object({ password, code }).strict().meta({ id: 'Reauthentication' });
const recoveryCodesSchema = z.object({ recovery_codes: z.array(z.string()) }).meta({ id: 'RecoveryCodes' });
const factorParams = z.object({ id: singleLineText(64) });

const ACCOUNT_TOKEN_SCHEME = 'accountToken';
const read = { scheme: ACCOUNT_TOKEN_SCHEME, scopes: ['account:read'] };
const write = { scheme: ACCOUNT_TOKEN_SCHEME, scopes: ['account:write'] };
const tag = 'Second factors';

export function factorApiRoutes(deps: FactorApiDependencies): AnyRouteSpec[] {
  const { mfa } = deps;

  const reauthenticate = (ctx: Context, caller: AccountToken, proof: { password?: string; code?: string }) =>
    deps.reauthentication.confirm(caller.account, ctx.ip, { ...proof, authTime: caller.authTime, acr: caller.acr });

  return [
    defineRoute({
      method: 'get',
      path: '/api/account/factors',
      operationId: 'listFactors',
      summary: 'The second factors of the account, how many recovery codes are left, and which kinds can be added',
      tag,
      security: read,
      success: { status: 200, description: 'The factors', schema: factorListSchema },
      handle: async (ctx) => {
        const { account } = accountTokenOf(ctx);
        return {
          factors: await mfa.listFactors(account),
          recovery_codes_left: await mfa.recoveryCodesLeft(account.id),
          available_kinds: mfa.enabledKinds(),
          required: deps.mfaRequirement.requiredByPolicy(account),
        };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/account/factors',
      operationId: 'enrolFactor',
      summary:
        'Starts an enrolment after re-authentication. TOTP: the answer carries the secret and otpauth:// URI; email and SMS: a code is sent. Confirm with POST /api/account/factors/{id}/confirm; until then the factor does not count.',
      tag,
      security: write,
      body: enrolmentSchema,
      success: { status: 201, description: 'Enrolment started', schema: pendingFactorSchema },
      errors: ['invalid_password', 'reauthentication_required', 'factor_disabled', 'factor_exists', 'invalid_phone_number', 'sms_failed', 'rate_limited'],
      handle: async (ctx, { body }) => {
        const caller = accountTokenOf(ctx);
        await reauthenticate(ctx, caller, { password: body.password, code: body.code });
        if (body.kind === 'totp') {
          const totp = await mfa.startTotp(caller.account);
          return { factor_id: totp.factorId, kind: body.kind, secret: totp.secret, otpauth_uri: totp.uri };
        }
        const started = body.kind === 'email' ? await mfa.startEmail(caller.account) : await mfa.startSms(caller.account, body.phone_number ?? '');
        return { factor_id: started.factorId, kind: body.kind };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/account/factors/:id/confirm',
      operationId: 'confirmFactor',
      summary: 'Completes an enrolment with a code from the new factor. The first factor of an account also issues 10 recovery codes, shown only in this answer.',
      tag,
      security: write,
      params: factorParams,
      body: confirmationSchema,
      success: { status: 200, description: 'The factor counts from now on', schema: confirmedSchema },
      errors: ['invalid_code', 'factor_disabled', 'rate_limited'],
      handle: async (ctx, { params, body }) => {
        const caller = accountTokenOf(ctx);
        const attempt = await deps.loginThrottle.begin(ctx.ip, caller.account.email);
        const confirmed = await mfa.confirmEnrolment(caller.account, params.id, body.code);
        await attempt.succeeded();
        return { factor: confirmed.factor, ...(confirmed.recoveryCodes ? { recovery_codes: confirmed.recoveryCodes } : {}) };
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/api/account/factors/:id',
      operationId: 'removeFactor',
      summary:
        'Removes a factor after re-authentication (password, recent sign-in, or a fresh authenticator or recovery code). Refused with factor_required for the last factor of an account that policy requires to have one. Removing the last factor also voids the recovery codes.',
      tag,
      security: write,
      params: factorParams,
      body: removalSchema,
      success: { status: 204, description: 'Removed' },
      errors: ['invalid_password', 'invalid_code', 'reauthentication_required', 'unknown_factor', 'factor_required', 'rate_limited'],
      handle: async (ctx, { params, body }) => {
        const caller = accountTokenOf(ctx);
        await reauthenticate(ctx, caller, body ?? {});
        await mfa.removeFactor(caller.account, params.id, { mustKeepOne: deps.mfaRequirement.requiredByPolicy(caller.account) });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/account/factors/recovery-codes',
      operationId: 'regenerateRecoveryCodes',
      summary: 'Issues 10 new recovery codes after re-authentication; the old ones stop working. Shown only in this answer.',
      tag,
      security: write,
      body: reauthenticationSchema,
      success: { status: 200, description: 'The new codes', schema: recoveryCodesSchema },
      errors: ['invalid_password', 'reauthentication_required', 'unknown_factor', 'rate_limited'],
      handle: async (ctx, { body }) => {
        const caller = accountTokenOf(ctx);
        await reauthenticate(ctx, caller, body ?? {});
        return { recovery_codes: await mfa.regenerateRecoveryCodes(caller.account) };
      },
    }),
  ];
}
