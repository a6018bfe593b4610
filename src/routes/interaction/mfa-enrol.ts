// Pipeline step: enrol a second factor, for an account that must use one but has none —
// policy (tier, role, the client's `require_mfa`) with its grace used up, or a client that
// asked for one (acr_values). The person picks a kind that is switched on, proves it with a
// code, and (for a first factor) is shown the recovery codes once before the sign-in goes on.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { FORM_REFUSED, readForm } from '#src/http/form.ts';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import { setErrorHeaders } from '#src/middleware/errors.ts';
import type { InteractionDetails } from '#src/routes/page-kit.ts';
import { embeddedJson, secondFactorDue } from '#src/routes/interaction/mfa-challenge.ts';
import { passkeyMethod } from '#src/services/authentication/methods/passkey.ts';
import { flowFailure } from '#src/services/flows.ts';
import { parseJson } from '#src/text-input.ts';
import type { SignInPipeline, SignInStep, StepSubject } from '#src/routes/interaction/pipeline.ts';
import { beginCodeAttempt, interactionPurpose, LOGIN_PROMPTS, postedForm, type RefusePage, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import { emailCodeMethod } from '#src/services/authentication/methods/email-code.ts';
import { smsCodeMethod } from '#src/services/authentication/methods/sms-code.ts';
import { totpMethod } from '#src/services/authentication/methods/totp.ts';
import type { SignInMethod } from '#src/services/authentication/types.ts';
import type { FactorConfirmation, FactorKind } from '#src/services/mfa/factors.ts';
import { recoveryCodesDownload } from '#src/routes/mfa-pages.ts';
import { singleLineText } from '#src/text-input.ts';

const STEP = 'mfa-enrol';
const GRACE_NOTE = 'mfa-grace';
const methodOf: Record<Exclude<FactorKind, 'passkey'>, SignInMethod> = { totp: totpMethod, email: emailCodeMethod, sms: smsCodeMethod };

const chooseForm = z.object({ kind: z.enum(['totp', 'email', 'sms', 'passkey']), phone_number: singleLineText(32).default('') });
const passkeyForm = z.object({ challenge: singleLineText(64).default(''), response: z.string().max(32_768).default(''), name: singleLineText(64).default('') });
const enrolPurpose = (uid: string) => `enrol:${uid}`;
const confirmForm = z.object({ factor: singleLineText(64).default(''), code: singleLineText(64).default('') });

export function mfaEnrolStep(deps: InteractionDependencies): SignInStep {
  return {
    id: STEP,
    forSessions: false,
    async pending(subject) {
      const { flow, account } = subject;
      const due = await secondFactorDue(deps, subject);
      if (flow && due.grace && !flow.notes?.[GRACE_NOTE]) {
        // One sign-in of the grace is used, once per sign-in however often this is asked.
        await deps.loginFlows.note(flow, GRACE_NOTE, String(await deps.mfaRequirement.useGrace(account.id)));
      }
      return due.due === 'enrol';
    },
    async show(ctx, details, subject) {
      renderChoice(ctx, deps, details, { passkeyOnly: (await secondFactorDue(deps, subject)).passkeyOnly });
    },
  };
}

function renderChoice(ctx: Context, deps: InteractionDependencies, details: InteractionDetails, extra: { error?: string; phoneNumber?: string; status?: number; passkeyOnly?: boolean } = {}): void {
  const kinds = Object.fromEntries(deps.mfa.enabledKinds().filter((kind) => !extra.passkeyOnly || kind === 'passkey').map((kind) => [kind, true]));
  deps.pages.render(
    ctx,
    'mfa-enrol',
    {
      title: message('page.mfa.enrol.title'),
      required: true,
      kinds,
      action: `/interaction/${details.uid}/mfa/enrol`,
      abortAction: `/interaction/${details.uid}/abort`,
      csrf: deps.pages.csrfToken(ctx, interactionPurpose(details.uid)),
      error: extra.error,
      phoneNumber: extra.phoneNumber,
    },
    extra.status,
  );
}

export function mfaEnrolRoutes(router: Router, deps: InteractionDependencies, pipeline: SignInPipeline): void {
  const form = formBody(deps.config.BODY_LIMIT);
  const step = mfaEnrolStep(deps);
  const base = (details: InteractionDetails) => `/interaction/${details.uid}/mfa/enrol`;

  /** The sign-in this browser is in, with enrolment due; anything else is refused. */
  const enrolmentFor = async (details: InteractionDetails): Promise<StepSubject & { passkeyOnly: boolean }> => {
    const flow = await pipeline.identifiedFlow(details);
    if (!flow) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.sign_in_expired' });
    const subject = await pipeline.subject(details, flow);
    if (!(await step.pending(subject))) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.step_complete' });
    return { ...subject, passkeyOnly: (await secondFactorDue(deps, subject)).passkeyOnly };
  };

  const renderPasskeyRegistration = async (ctx: Context, details: InteractionDetails, subject: StepSubject, error?: string, status?: number) => {
    const { challengeId, options } = await deps.passkeys.registrationOptions(subject.account, enrolPurpose(details.uid));
    deps.pages.render(
      ctx,
      'mfa-passkey',
      {
        title: message('page.mfa.passkey.title'),
        csrf: deps.pages.csrfToken(ctx, interactionPurpose(details.uid)),
        passkey: { mode: 'register', action: `${base(details)}/passkey`, challengeId, optionsJson: embeddedJson(options), label: message('page.mfa.add.passkey') },
        error,
      },
      status,
    );
  };

  const renderCodeEntry = async (ctx: Context, details: InteractionDetails, subject: StepSubject, factorId: string, extra: { error?: string; notice?: string; status?: number } = {}) => {
    const csrf = deps.pages.csrfToken(ctx, interactionPurpose(details.uid));
    const totp = await deps.mfa.pendingTotp(subject.account, factorId);
    if (totp) {
      return deps.pages.render(ctx, 'mfa-totp', { title: message('page.mfa.totp.title'), ...totp, action: `${base(details)}/confirm`, csrf, error: extra.error }, extra.status);
    }
    const pending = (await deps.mfa.pendingFactor(subject.account, factorId)) ?? undefined;
    if (!pending) return renderChoice(ctx, deps, details, { error: extra.error, status: extra.status });
    deps.pages.render(
      ctx,
      'mfa-code-enrol',
      { title: message('page.mfa.code_enrol.title'), kind: pending.kind, destination: pending.destination, factorId, action: `${base(details)}/confirm`, resendAction: `${base(details)}/resend`, csrf, error: extra.error, notice: extra.notice },
      extra.status,
    );
  };

  router.post('/:uid/mfa/enrol', form, async (ctx) => {
    const details = await postedForm(deps.pages, ctx, LOGIN_PROMPTS);
    const subject = await enrolmentFor(details);
    const posted = readForm(ctx, chooseForm);
    if (!posted.ok) return renderChoice(ctx, deps, details, { status: FORM_REFUSED });
    const { kind, phone_number: phoneNumber } = posted.data;
    if (kind === 'passkey') return renderPasskeyRegistration(ctx, details, subject);
    if (subject.passkeyOnly) return renderChoice(ctx, deps, details, { passkeyOnly: true, status: 400 });
    try {
      const { factorId } = kind === 'totp' ? await deps.mfa.startTotp(subject.account) : kind === 'email' ? await deps.mfa.startEmail(subject.account) : await deps.mfa.startSms(subject.account, phoneNumber);
      return renderCodeEntry(ctx, details, subject, factorId);
    } catch (error) {
      if (isKeyholdError(error, 'invalid_phone_number')) return renderChoice(ctx, deps, details, { error: message('page.mfa.invalid_phone_number'), phoneNumber, status: 400 });
      if (isKeyholdError(error, 'sms_failed')) return renderChoice(ctx, deps, details, { error: message('page.mfa.sms_failed'), phoneNumber, status: 502 });
      if (isKeyholdError(error, 'rate_limited')) setErrorHeaders(ctx, error);
      if (isKeyholdError(error, 'factor_disabled', 'factor_exists', 'rate_limited')) return renderChoice(ctx, deps, details, { error: error.message, phoneNumber, status: error.status });
      throw error;
    }
  });

  router.post('/:uid/mfa/enrol/passkey', form, async (ctx) => {
    const details = await postedForm(deps.pages, ctx, LOGIN_PROMPTS);
    const subject = await enrolmentFor(details);
    const posted = readForm(ctx, passkeyForm);
    let confirmation;
    try {
      if (!posted.ok) throw flowFailure('invalid');
      confirmation = await deps.passkeys.register(subject.account, { challengeId: posted.data.challenge, purpose: enrolPurpose(details.uid), response: parseJson(posted.data.response), name: posted.data.name });
    } catch (error) {
      if (!isKeyholdError(error, 'invalid_code', 'factor_exists', 'factor_disabled')) throw error;
      return renderPasskeyRegistration(ctx, details, subject, message('page.mfa.passkey_failed'), 400);
    }
    return enrolled(ctx, details, subject, confirmation, passkeyMethod(confirmation.synced));
  });

  router.post('/:uid/mfa/enrol/resend', form, async (ctx) => {
    const details = await postedForm(deps.pages, ctx, LOGIN_PROMPTS);
    const subject = await enrolmentFor(details);
    const posted = readForm(ctx, z.object({ factor: singleLineText(64).default('') }));
    const factorId = posted.ok ? posted.data.factor : '';
    try {
      const outcome = await deps.mfa.resendEnrolmentCode(subject.account, factorId);
      return renderCodeEntry(ctx, details, subject, factorId, { notice: message(outcome === 'sent' ? 'page.mfa.sent' : 'page.mfa.wait'), status: outcome === 'sent' ? 200 : 429 });
    } catch (error) {
      if (!isKeyholdError(error, 'invalid_code', 'sms_failed')) throw error;
      return renderChoice(ctx, deps, details, { error: message(isKeyholdError(error, 'sms_failed') ? 'page.mfa.sms_failed' : 'page.mfa.invalid_code'), status: 400 });
    }
  });

  router.post('/:uid/mfa/enrol/confirm', form, async (ctx) => {
    const details = await postedForm(deps.pages, ctx, LOGIN_PROMPTS);
    const subject = await enrolmentFor(details);
    const posted = readForm(ctx, confirmForm);
    const factorId = posted.ok ? posted.data.factor : (posted.values.factor ?? '');
    const refuse: RefusePage = (key, status, params) => renderCodeEntry(ctx, details, subject, factorId, { error: message(key, params), status });
    if (!posted.ok) return refuse('page.mfa.invalid_code', FORM_REFUSED);

    const attempt = await beginCodeAttempt(ctx, deps.loginThrottle, subject.account.email, refuse);
    if (!attempt) return;
    let confirmation;
    try {
      confirmation = await deps.mfa.confirmEnrolment(subject.account, factorId, posted.data.code);
    } catch (error) {
      if (!isKeyholdError(error, 'invalid_code', 'factor_disabled')) throw error;
      return refuse('page.mfa.invalid_code', 400);
    }
    await attempt.succeeded();
    return enrolled(ctx, details, subject, confirmation, methodOf[confirmation.factor.kind as Exclude<FactorKind, 'passkey'>]);
  });

  /** The new factor proved itself: this sign-in now holds it; the first one's recovery codes are shown once. */
  const enrolled = async (ctx: Context, details: InteractionDetails, subject: StepSubject, confirmation: FactorConfirmation, method: SignInMethod) => {
    await pipeline.record(details, subject.account.id, method);
    if (!confirmation.recoveryCodes) {
      const flow = await pipeline.identifiedFlow(details);
      return pipeline.advance(ctx, details, flow!);
    }
    deps.pages.render(ctx, 'mfa-recovery-codes', {
      title: message('page.mfa.recovery_codes.title'),
      codes: confirmation.recoveryCodes,
      download: recoveryCodesDownload(confirmation.recoveryCodes),
      continueAction: `/interaction/${details.uid}/mfa/continue`,
      csrf: deps.pages.csrfToken(ctx, interactionPurpose(details.uid)),
    });
  };
}
