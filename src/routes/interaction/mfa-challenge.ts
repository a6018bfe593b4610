// Pipeline step: a second factor, for an account that has one (its owner's choice, or
// policy's) and a sign-in that has not used one yet. Entered after the first factor, or
// inside an existing session for a step-up (acr_values, require_mfa: see the engine's
// step-up check). The person can switch to another of their factors or use a recovery code.
// Guesses count against the same limits as passwords, per address and account; emailed and
// texted codes are bound to this interaction.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { FORM_REFUSED, readForm } from '#src/http/form.ts';
import { message, type MessageKey } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import type { InteractionDetails } from '#src/routes/page-kit.ts';
import type { SignInPipeline, SignInStep, StepSubject } from '#src/routes/interaction/pipeline.ts';
import { beginCodeAttempt, interactionPurpose, LOGIN_PROMPTS, postedForm, type RefusePage, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import { achievedLevel, atLeast } from '#src/services/authentication/assurance.ts';
import type { LoginFlow } from '#src/services/authentication/login-flow.ts';
import { emailCodeMethod } from '#src/services/authentication/methods/email-code.ts';
import { recoveryCodeMethod } from '#src/services/authentication/methods/recovery-code.ts';
import { smsCodeMethod } from '#src/services/authentication/methods/sms-code.ts';
import { totpMethod } from '#src/services/authentication/methods/totp.ts';
import type { SignInMethod } from '#src/services/authentication/types.ts';
import { flowFailure } from '#src/services/flows.ts';
import type { FactorKind, FactorView } from '#src/services/mfa/factors.ts';
import { singleLineText } from '#src/text-input.ts';

const STEP = 'mfa';
const RECOVERY = 'recovery';
// Typed codes; a passkey is proven by an assertion instead (passkey.ts).
const methodOf: Record<Exclude<FactorKind, 'passkey'>, SignInMethod> = { totp: totpMethod, email: emailCodeMethod, sms: smsCodeMethod };

const codeForm = z.object({ factor: singleLineText(64).default(''), code: singleLineText(64).default('') });
const factorForm = z.object({ factor: singleLineText(64).default('') });

/**
 * A sign-in asked for a second factor: acr_values naming mfa, or an essential acr claim at
 * mfa or above. acr_values naming a level nothing here reaches (phr without passkeys) stay
 * voluntary: the sign-in ends with what it achieved.
 */
export const flowWantsMfa = (flow: LoginFlow): boolean => flow.required === 'mfa' || (flow.essential !== undefined && atLeast(flow.essential, 'mfa'));

export interface SecondFactorDue {
  due: 'none' | 'challenge' | 'enrol';
  /** Phishing-resistant was asked for (acr_values or an essential claim naming phr): passkeys only. */
  passkeyOnly: boolean;
  /** Policy demands a factor the account lacks, but sign-ins of its grace remain. */
  grace: boolean;
}

// The answer for one subject (built once per pipeline pass, see pipeline.ts): both steps ask
// while the pipeline looks for the pending one, and the step found asks again to show its
// page; the account's factors and its tenant's policy are read once for all of them.
const dueBySubject = new WeakMap<StepSubject, Promise<SecondFactorDue>>();

/** What a sign-in still owes in second factors: asked by the challenge and enrolment steps alike. */
export function secondFactorDue(deps: InteractionDependencies, subject: StepSubject): Promise<SecondFactorDue> {
  let due = dueBySubject.get(subject);
  if (!due) {
    due = computeSecondFactorDue(deps, subject);
    dueBySubject.set(subject, due);
  }
  return due;
}

async function computeSecondFactorDue(deps: InteractionDependencies, { account, client, flow }: StepSubject): Promise<SecondFactorDue> {
  const none = { due: 'none', passkeyOnly: false, grace: false } as const;
  if (!flow) return none;
  const achieved = achievedLevel(flow.verifications) ?? 'password';
  if (deps.passkeys.enabled() && (flow.required === 'phr' || flow.essential === 'phr')) {
    if (atLeast(achieved, 'phr')) return none;
    return { due: (await deps.passkeys.hasPasskeys(account.id)) ? 'challenge' : 'enrol', passkeyOnly: true, grace: false };
  }
  if (atLeast(achieved, 'mfa')) return none;
  const demand = await deps.mfaRequirement.demand(account, client as unknown as Record<string, unknown>, flowWantsMfa(flow));
  return { due: demand === 'challenge' || demand === 'enrol' ? demand : 'none', passkeyOnly: false, grace: demand === 'grace' };
}

/** The factors the challenge may offer: passkeys only when phishing-resistance was asked for; passkeys first. */
async function offeredFactors(deps: InteractionDependencies, subject: StepSubject, passkeyOnly: boolean): Promise<FactorView[]> {
  const factors = (await deps.mfa.listFactors(subject.account)).filter((entry) => !passkeyOnly || entry.kind === 'passkey');
  const rank = (entry: FactorView) => ['passkey', 'totp', 'sms', 'email'].indexOf(entry.kind);
  return factors.sort((a, b) => rank(a) - rank(b));
}

/** The JSON a page embeds for assets/passkey.js: `<` escaped, so no value can close the script element. */
export const embeddedJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/** Emailed and texted sign-in codes work only in the interaction they were sent for. */
export const challengePurpose = (uid: string) => `login:${uid}`;

interface ChallengeView {
  factor?: FactorView;
  recovery: boolean;
  passkeyOnly?: boolean;
  error?: string;
  notice?: string;
  status?: number;
}

export function mfaChallengeStep(deps: InteractionDependencies): SignInStep {
  return {
    id: STEP,
    forSessions: false,
    async pending(subject) {
      return (await secondFactorDue(deps, subject)).due === 'challenge';
    },
    async show(ctx, details, subject, { revisit }) {
      const { passkeyOnly } = await secondFactorDue(deps, subject);
      const factors = await offeredFactors(deps, subject, passkeyOnly);
      // A passkey or an app code needs nothing sent; they come first. Else a code goes out
      // as the page opens (after a verification only: a reload sends nothing).
      const factor = factors[0]!;
      let notice: string | undefined;
      if (!revisit && (factor.kind === 'email' || factor.kind === 'sms')) notice = await sendNotice(deps, ctx, details, subject, factor);
      return renderChallenge(ctx, deps, details, subject, factors, { factor, recovery: false, notice, passkeyOnly });
    },
  };
}

async function sendNotice(deps: InteractionDependencies, ctx: Context, details: InteractionDetails, subject: StepSubject, factor: FactorView): Promise<string> {
  try {
    const outcome = await deps.mfa.sendChallenge(subject.account, factor.id, challengePurpose(details.uid));
    if (outcome === 'wait') ctx.status = 429;
    return message(outcome === 'sent' ? 'page.mfa.sent' : 'page.mfa.wait');
  } catch (error) {
    if (!isKeyholdError(error, 'sms_failed')) throw error;
    return message('page.mfa.sms_failed');
  }
}

const useLabels: Record<FactorKind, MessageKey> = { totp: 'page.mfa.use.totp', email: 'page.mfa.use.email', sms: 'page.mfa.use.sms', passkey: 'page.mfa.use.passkey' };

async function renderChallenge(ctx: Context, deps: InteractionDependencies, details: InteractionDetails, subject: StepSubject, factors: FactorView[], view: ChallengeView): Promise<void> {
  const base = `/interaction/${details.uid}/mfa`;
  const current = view.recovery ? undefined : view.factor;
  // A passkey: the browser signs a fresh challenge for this sign-in, with this account's passkeys only.
  const passkey =
    current?.kind === 'passkey'
      ? await deps.passkeys.authenticationOptions(challengePurpose(details.uid), subject.account.id).then(({ challengeId, options }) => ({
          mode: 'authenticate',
          action: `/interaction/${details.uid}/passkey`,
          challengeId,
          optionsJson: embeddedJson(options),
          label: message('page.mfa.use.passkey'),
        }))
      : undefined;
  deps.pages.render(
    ctx,
    'mfa-challenge',
    {
      title: message('page.mfa.title'),
      factor: current,
      recovery: view.recovery,
      action: base,
      passkey,
      sendAction: current && (current.kind === 'email' || current.kind === 'sms') ? `${base}/send` : undefined,
      abortAction: `/interaction/${details.uid}/abort`,
      others: factors.filter((entry) => entry.id !== current?.id).map((entry) => ({ url: `${base}?factor=${entry.id}`, label: message(useLabels[entry.kind]) })),
      // A recovery code stands in for a lost factor, not for phishing resistance.
      recoveryUrl: view.recovery || view.passkeyOnly ? undefined : `${base}?factor=${RECOVERY}`,
      csrf: deps.pages.csrfToken(ctx, interactionPurpose(details.uid)),
      error: view.error,
      notice: view.notice,
    },
    view.status ?? (ctx.status === 429 ? 429 : undefined),
  );
}

export function mfaChallengeRoutes(router: Router, deps: InteractionDependencies, pipeline: SignInPipeline): void {
  const form = formBody(deps.config.BODY_LIMIT);

  /** The sign-in this browser is in, with the challenge due; anything else is refused. */
  const challengeFor = async (details: InteractionDetails) => {
    const flow = await pipeline.identifiedFlow(details);
    if (!flow) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.sign_in_expired' });
    const subject = await pipeline.subject(details, flow);
    const due = await secondFactorDue(deps, subject);
    if (due.due !== 'challenge') throw new KeyholdError('invalid_request', { key: 'error.invalid_request.step_complete' });
    return { flow, subject, passkeyOnly: due.passkeyOnly, factors: await offeredFactors(deps, subject, due.passkeyOnly) };
  };

  const chosenFrom = (factors: FactorView[], id: string, passkeyOnly: boolean): ChallengeView =>
    id === RECOVERY && !passkeyOnly ? { recovery: true } : { recovery: false, passkeyOnly, factor: factors.find((entry) => entry.id === id) ?? factors[0] };

  // Another factor, or a recovery code, in place of the one offered. Nothing is sent here.
  router.get('/:uid/mfa', async (ctx) => {
    const details = await deps.pages.loadInteraction(ctx);
    if (!LOGIN_PROMPTS.includes(details.prompt.name)) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.step_complete' });
    const { subject, factors, passkeyOnly } = await challengeFor(details);
    await renderChallenge(ctx, deps, details, subject, factors, chosenFrom(factors, typeof ctx.query.factor === 'string' ? ctx.query.factor : '', passkeyOnly));
  });

  router.post('/:uid/mfa/send', form, async (ctx) => {
    const details = await postedForm(deps.pages, ctx, LOGIN_PROMPTS);
    const { subject, factors, passkeyOnly } = await challengeFor(details);
    const posted = readForm(ctx, factorForm);
    const view = chosenFrom(factors, posted.ok ? posted.data.factor : '', passkeyOnly);
    if (view.factor?.kind !== 'email' && view.factor?.kind !== 'sms') return renderChallenge(ctx, deps, details, subject, factors, view);
    const notice = await sendNotice(deps, ctx, details, subject, view.factor);
    await renderChallenge(ctx, deps, details, subject, factors, { ...view, notice });
  });

  router.post('/:uid/mfa', form, async (ctx) => {
    const details = await postedForm(deps.pages, ctx, LOGIN_PROMPTS);
    const { subject, factors, passkeyOnly } = await challengeFor(details);
    const posted = readForm(ctx, codeForm);
    const input = posted.ok ? posted.data : { factor: posted.values.factor ?? '', code: '' };
    const view = chosenFrom(factors, input.factor, passkeyOnly);
    const refuse: RefusePage = (key, status, params) => renderChallenge(ctx, deps, details, subject, factors, { ...view, error: message(key, params), status });
    if (!posted.ok) return refuse('page.mfa.invalid_code', FORM_REFUSED);

    const attempt = await beginCodeAttempt(ctx, deps.loginThrottle, subject.account.email, refuse);
    if (!attempt) return;

    let method: SignInMethod;
    let recoveryLeft: number | undefined;
    try {
      // A locked account gets the answer a wrong code gets, whatever was typed.
      if (await deps.lockout.isLocked(subject.account.id)) throw flowFailure('invalid');
      if (view.recovery && !passkeyOnly) {
        recoveryLeft = await deps.mfa.useRecoveryCode(subject.account, input.code);
        method = recoveryCodeMethod;
      } else {
        const factor = await deps.mfa.verify(subject.account, view.factor!.id, input.code, challengePurpose(details.uid));
        if (factor.kind === 'passkey' || (passkeyOnly && view.recovery)) throw new KeyholdError('unknown_factor');
        method = methodOf[factor.kind];
      }
    } catch (error) {
      if (!isKeyholdError(error, 'invalid_code', 'unknown_factor')) throw error;
      ctx.state.log.info({ event: 'login.mfa_failed', accountId: subject.account.id, factor: view.recovery ? RECOVERY : view.factor?.kind }, 'second factor refused');
      await deps.lockout.recordFailure(subject.account.id, { ip: ctx.ip });
      deps.telemetry?.loginAttempts.inc({ outcome: 'failure', method: view.recovery ? 'recovery_code' : (view.factor?.kind ?? 'unknown') });
      return refuse('page.mfa.invalid_code', 401);
    }
    await attempt.succeeded();
    if (recoveryLeft === undefined) return pipeline.verified(ctx, details, subject.account.id, method);
    // Recorded now; the page says how many codes are left before the sign-in goes on.
    await pipeline.record(details, subject.account.id, method);
    deps.pages.render(ctx, 'mfa-recovery-used', {
      title: message('page.mfa.title'),
      message: message('page.mfa.recovery_used', { remaining: recoveryLeft }),
      continueAction: `/interaction/${details.uid}/mfa/continue`,
      csrf: deps.pages.csrfToken(ctx, interactionPurpose(details.uid)),
    });
  });

  // After a page that only informs (recovery codes shown, a recovery code used): the next
  // pending step, or the end of the sign-in. The pipeline decides; nothing is skipped.
  router.post('/:uid/mfa/continue', form, async (ctx) => {
    const details = await postedForm(deps.pages, ctx, LOGIN_PROMPTS);
    const flow = await pipeline.identifiedFlow(details);
    if (!flow) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.sign_in_expired' });
    return pipeline.advance(ctx, details, flow);
  });
}
