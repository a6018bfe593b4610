// The security settings page of the account signed in in this browser: its second factors
// (add, confirm, remove) and recovery codes. Each change needs the password, or a sign-in
// within RECENT_LOGIN_WINDOW seconds (removal also takes a fresh app or recovery code):
// an unlocked browser alone cannot change how the account is protected.
//
//   GET  /account/security                  the page
//   POST /account/security/enrol            kind (+ phone_number), password
//   POST /account/security/confirm          factor, code
//   POST /account/security/remove           factor, password (or code)
//   POST /account/security/recovery-codes   password
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '#src/config.ts';
import { isKeyholdError } from '#src/errors.ts';
import { readForm } from '#src/http/form.ts';
import { message, type MessageKey } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import { setErrorHeaders } from '#src/middleware/errors.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import { signedInBrowser, type PageKit } from '#src/routes/page-kit.ts';
import type { Account, AccountService } from '#src/services/accounts.ts';
import type { FactorKind, MfaService } from '#src/services/mfa/factors.ts';
import type { MfaRequirement } from '#src/services/mfa/requirement.ts';
import type { Reauthentication } from '#src/services/mfa/reauthentication.ts';
import { embeddedJson } from '#src/routes/interaction/mfa-challenge.ts';
import { flowFailure } from '#src/services/flows.ts';
import type { PasskeyService } from '#src/services/mfa/passkeys.ts';
import { parseJson, singleLineText } from '#src/text-input.ts';

export interface SecurityPageDependencies {
  config: Config;
  engine: EngineHost;
  pages: PageKit;
  accounts: AccountService;
  mfa: MfaService;
  mfaRequirement: MfaRequirement;
  reauthentication: Reauthentication;
  passkeys: PasskeyService;
}

const PURPOSE = 'security';
const PASSKEY_PURPOSE = 'security-passkey';
const BASE = '/account/security';
const kindLabels: Record<FactorKind, MessageKey> = { totp: 'factor.kind.totp', email: 'factor.kind.email', sms: 'factor.kind.sms', passkey: 'factor.kind.passkey' };
const addLabels: Record<FactorKind, MessageKey> = { totp: 'page.mfa.use.totp', email: 'page.mfa.use.email', sms: 'page.mfa.use.sms', passkey: 'page.mfa.add.passkey' };

const secret = z.string().max(4096).default('');
const enrolForm = z.object({ kind: z.enum(['totp', 'email', 'sms', 'passkey']), phone_number: singleLineText(32).default(''), password: secret });
const confirmForm = z.object({ factor: singleLineText(64).default(''), code: singleLineText(64).default('') });
const removeForm = z.object({ factor: singleLineText(64).default(''), password: secret });
const passwordForm = z.object({ password: secret });
const passkeyForm = z.object({ challenge: singleLineText(64).default(''), response: z.string().max(32_768).default(''), name: singleLineText(64).default('') });
const renameForm = z.object({ factor: singleLineText(64).default(''), name: singleLineText(64).default('') });

/**
 * One field takes the password or a code: a six-digit or recovery-code shape is tried as a
 * code, anything else as the password (an account with a factor needs the code).
 */
function secretProof(typed: string): { password?: string; code?: string } {
  if (!typed) return {};
  return /^\d{6}$|^[a-z0-9]{5}-?[a-z0-9]{5}$/i.test(typed) ? { code: typed } : { password: typed };
}

/** The codes as a text file the browser saves (a data: URL: they are never served again). */
export function recoveryCodesDownload(codes: readonly string[]): string {
  return `data:text/plain;charset=utf-8,${encodeURIComponent(`Keyhold recovery codes. Each works once.\n\n${codes.join('\n')}\n`)}`;
}

export function securityPageRoutes(deps: SecurityPageDependencies): Router {
  const { pages, mfa } = deps;
  const router = new Router();
  const form = formBody(deps.config.BODY_LIMIT);

  const signedIn = async (ctx: Context): Promise<{ account: Account; authTime?: number; acr?: string }> => {
    const { session, account } = await signedInBrowser(deps, ctx);
    return { account, ...(session.authTime !== undefined ? { authTime: session.authTime } : {}), ...(session.acr ? { acr: session.acr } : {}) };
  };

  const renderPage = async (ctx: Context, account: Account, extra: { notice?: string; error?: string; status?: number } = {}) => {
    const factors = await mfa.listFactors(account);
    pages.render(
      ctx,
      'security',
      {
        title: message('page.security.title'),
        username: account.email,
        factors: factors.map((factor) => ({ ...factor, label: message(kindLabels[factor.kind]) })),
        recoveryCodesLeft: await mfa.recoveryCodesLeft(account.id),
        kinds: mfa.enabledKinds().map((kind) => ({ id: kind, label: message(addLabels[kind]) })),
        enrolAction: `${BASE}/enrol`,
        removeAction: `${BASE}/remove`,
        recoveryAction: `${BASE}/recovery-codes`,
        renameAction: `${BASE}/rename`,
        sessionsUrl: '/account/sessions',
        sessionsLabel: message('page.security.sessions_link'),
        csrf: pages.csrfToken(ctx, PURPOSE),
        notice: extra.notice,
        error: extra.error,
      },
      extra.status,
    );
  };

  /** A refusal the page shows in place (wrong password, code, limits); anything else is thrown. */
  const refused = async (ctx: Context, account: Account, error: unknown) => {
    if (isKeyholdError(error, 'rate_limited')) setErrorHeaders(ctx, error);
    if (isKeyholdError(error, 'invalid_password', 'invalid_code', 'reauthentication_required', 'rate_limited', 'factor_required', 'factor_exists', 'factor_disabled', 'invalid_phone_number', 'sms_failed', 'unknown_factor')) {
      return renderPage(ctx, account, { error: error.message, status: error.status });
    }
    throw error;
  };

  const renderCodeEntry = async (ctx: Context, account: Account, factorId: string, error?: string, status?: number) => {
    const csrf = pages.csrfToken(ctx, PURPOSE);
    const totp = await mfa.pendingTotp(account, factorId);
    if (totp) return pages.render(ctx, 'mfa-totp', { title: message('page.mfa.totp.title'), ...totp, action: `${BASE}/confirm`, csrf, error }, status);
    const pending = await mfa.pendingFactor(account, factorId);
    if (!pending) return renderPage(ctx, account, { error, status });
    pages.render(ctx, 'mfa-code-enrol', { title: message('page.mfa.code_enrol.title'), kind: pending.kind, destination: pending.destination, factorId, action: `${BASE}/confirm`, resendAction: `${BASE}/enrol`, csrf, error }, status);
  };

  // The registration options carry a challenge bound to this account; the page's script runs the ceremony.
  const renderPasskeyRegistration = async (ctx: Context, account: Account, error?: string, status?: number) => {
    const { challengeId, options } = await deps.passkeys.registrationOptions(account, PASSKEY_PURPOSE);
    pages.render(
      ctx,
      'mfa-passkey',
      { title: message('page.mfa.passkey.title'), csrf: pages.csrfToken(ctx, PURPOSE), passkey: { mode: 'register', action: `${BASE}/passkey`, challengeId, optionsJson: embeddedJson(options), label: message('page.mfa.add.passkey') }, error },
      status,
    );
  };

  router.post(`${BASE}/passkey`, form, async (ctx) => {
    pages.assertCsrf(ctx, PURPOSE);
    const { account } = await signedIn(ctx);
    const posted = readForm(ctx, passkeyForm);
    try {
      if (!posted.ok) throw flowFailure('invalid');
      // The challenge was issued only after re-authentication (enrol above), to this account.
      const confirmed = await deps.passkeys.register(account, { challengeId: posted.data.challenge, purpose: PASSKEY_PURPOSE, response: parseJson(posted.data.response), name: posted.data.name });
      if (!confirmed.recoveryCodes) return renderPage(ctx, account, { notice: message('page.mfa.enabled') });
      pages.render(ctx, 'mfa-recovery-codes', { title: message('page.mfa.recovery_codes.title'), codes: confirmed.recoveryCodes, download: recoveryCodesDownload(confirmed.recoveryCodes), backUrl: BASE });
    } catch (error) {
      if (!isKeyholdError(error, 'invalid_code')) return refused(ctx, account, error);
      await renderPage(ctx, account, { error: message('page.mfa.passkey_failed'), status: 400 });
    }
  });

  router.post(`${BASE}/rename`, form, async (ctx) => {
    pages.assertCsrf(ctx, PURPOSE);
    const { account } = await signedIn(ctx);
    const posted = readForm(ctx, renameForm);
    try {
      await deps.passkeys.rename(account, posted.ok ? posted.data.factor : '', posted.ok ? posted.data.name : '');
      await renderPage(ctx, account, { notice: message('page.mfa.renamed') });
    } catch (error) {
      await refused(ctx, account, error);
    }
  });

  router.get(BASE, async (ctx) => {
    const { account } = await signedIn(ctx);
    await renderPage(ctx, account);
  });

  router.post(`${BASE}/enrol`, form, async (ctx) => {
    pages.assertCsrf(ctx, PURPOSE);
    const { account, authTime, acr } = await signedIn(ctx);
    const posted = readForm(ctx, enrolForm);
    if (!posted.ok) return renderPage(ctx, account, { error: message('page.mfa.invalid_code'), status: 400 });
    const { kind, password, phone_number: phone } = posted.data;
    try {
      await deps.reauthentication.confirm(account, ctx.ip, { ...secretProof(password), authTime, acr });
      if (kind === 'passkey') return await renderPasskeyRegistration(ctx, account);
      const { factorId } = kind === 'totp' ? await mfa.startTotp(account) : kind === 'email' ? await mfa.startEmail(account) : await mfa.startSms(account, phone);
      await renderCodeEntry(ctx, account, factorId);
    } catch (error) {
      await refused(ctx, account, error);
    }
  });

  router.post(`${BASE}/confirm`, form, async (ctx) => {
    pages.assertCsrf(ctx, PURPOSE);
    const { account } = await signedIn(ctx);
    const posted = readForm(ctx, confirmForm);
    const factorId = posted.ok ? posted.data.factor : '';
    try {
      const confirmed = await mfa.confirmEnrolment(account, factorId, posted.ok ? posted.data.code : '');
      if (!confirmed.recoveryCodes) return renderPage(ctx, account, { notice: message('page.mfa.enabled') });
      pages.render(ctx, 'mfa-recovery-codes', { title: message('page.mfa.recovery_codes.title'), codes: confirmed.recoveryCodes, download: recoveryCodesDownload(confirmed.recoveryCodes), backUrl: BASE });
    } catch (error) {
      if (!isKeyholdError(error, 'invalid_code')) return refused(ctx, account, error);
      await renderCodeEntry(ctx, account, factorId, message('page.mfa.invalid_code'), 400);
    }
  });

  router.post(`${BASE}/remove`, form, async (ctx) => {
    pages.assertCsrf(ctx, PURPOSE);
    const { account, authTime, acr } = await signedIn(ctx);
    const posted = readForm(ctx, removeForm);
    if (!posted.ok) return renderPage(ctx, account, { error: message('page.mfa.invalid_code'), status: 400 });
    const typed = posted.data.password;
    try {
      await deps.reauthentication.confirm(account, ctx.ip, { ...secretProof(typed), authTime, acr });
      await mfa.removeFactor(account, posted.data.factor, { mustKeepOne: await deps.mfaRequirement.requiredByPolicy(account) });
      await renderPage(ctx, account, { notice: message('page.mfa.removed') });
    } catch (error) {
      await refused(ctx, account, error);
    }
  });

  router.post(`${BASE}/recovery-codes`, form, async (ctx) => {
    pages.assertCsrf(ctx, PURPOSE);
    const { account, authTime, acr } = await signedIn(ctx);
    const posted = readForm(ctx, passwordForm);
    try {
      await deps.reauthentication.confirm(account, ctx.ip, { ...secretProof(posted.ok ? posted.data.password : ''), authTime, acr });
      const codes = await mfa.regenerateRecoveryCodes(account);
      pages.render(ctx, 'mfa-recovery-codes', { title: message('page.mfa.recovery_codes.title'), codes, download: recoveryCodesDownload(codes), backUrl: BASE });
    } catch (error) {
      await refused(ctx, account, error);
    }
  });

  return router;
}
