// Pipeline step: confirm the email address at sign-in, when REQUIRE_VERIFIED_EMAIL is set
// and the account's address is not verified yet. Only someone who passed the first factor
// gets here. The code is bound to this interaction; the mailed link works too (the
// self-service /interaction/:uid/verify-link route).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { FORM_REFUSED } from '#src/http/form.ts';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import type { InteractionDetails } from '#src/routes/page-kit.ts';
import type { LoginFlow } from '#src/services/authentication/login-flow.ts';
import type { SignInPipeline, SignInStep } from '#src/routes/interaction/pipeline.ts';
import { interactionPurpose, LOGIN_PROMPTS, postedForm, readCodeForm, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import { flowFailure } from '#src/services/flows.ts';

const STEP = 'verify-email';

function renderEmailCheck(ctx: Context, deps: InteractionDependencies, details: InteractionDetails, flowId: string, email: string, extra: { error?: string; notice?: string; status?: number } = {}) {
  deps.pages.render(
    ctx,
    'verify-code',
    {
      title: message('page.confirm_email.title'),
      email,
      flowId,
      action: `/interaction/${details.uid}/verify-email`,
      resendAction: `/interaction/${details.uid}/verify-email/resend`,
      csrf: deps.pages.csrfToken(ctx, interactionPurpose(details.uid)),
      error: extra.error,
      notice: extra.notice,
    },
    extra.status,
  );
}

/** Starts a verification for this sign-in (a code is mailed) and notes it with the login flow. */
async function newVerification(deps: InteractionDependencies, details: InteractionDetails, accountId: string, flow: LoginFlow | undefined): Promise<{ flowId: string; fresh: boolean }> {
  const { flowId } = await deps.emailOwnership.startVerification(accountId, details.uid);
  if (flow) await deps.loginFlows.note(flow, STEP, flowId);
  return { flowId, fresh: true };
}

/**
 * The verification this sign-in noted while its code can still be used; otherwise (too many
 * wrong codes, or a password reset or an email change cancelled it) a new one, so a dead code
 * never locks the person in. Only the noted flow is replaced: posting an old id again mails nothing.
 */
async function currentVerification(deps: InteractionDependencies, details: InteractionDetails, accountId: string, flow: LoginFlow | undefined): Promise<{ flowId: string; fresh: boolean }> {
  const noted = flow?.notes?.[STEP];
  if (noted && (await deps.emailOwnership.verificationPending(noted))) return { flowId: noted, fresh: false };
  return newVerification(deps, details, accountId, flow);
}

export function verifyEmailStep(deps: InteractionDependencies): SignInStep {
  return {
    id: STEP,
    forSessions: false,
    pending: ({ account }) => deps.config.REQUIRE_VERIFIED_EMAIL && !account.emailVerified,
    async show(ctx, details, { account, flow }, { revisit }) {
      // Entered after a verification: a fresh code is mailed. Shown again (the page
      // reloaded): the code already mailed stands, so reloading cannot send mail.
      const { flowId } = revisit ? await currentVerification(deps, details, account.id, flow) : await newVerification(deps, details, account.id, flow);
      renderEmailCheck(ctx, deps, details, flowId, account.email);
    },
  };
}

export function verifyEmailRoutes(router: Router, deps: InteractionDependencies, pipeline: SignInPipeline): void {
  const form = formBody(deps.config.BODY_LIMIT);

  const readCode = (ctx: Context, details: InteractionDetails) =>
    readCodeForm(ctx, (flow) => renderEmailCheck(ctx, deps, details, flow, '', { error: message('page.code.invalid'), status: FORM_REFUSED }));

  router.post('/:uid/verify-email', form, async (ctx) => {
    const details = await postedForm(deps.pages, ctx, LOGIN_PROMPTS);
    const posted = readCode(ctx, details);
    if (!posted) return;
    const { flow: flowId, code } = posted;
    const flow = await pipeline.identifiedFlow(details);
    try {
      if (!flow) throw flowFailure('invalid');
      const verified = await deps.emailOwnership.completeVerification({ flowId, code, interactionUid: details.uid });
      if (verified.accountId !== flow.accountId) throw flowFailure('invalid');
    } catch (error) {
      if (!isKeyholdError(error, 'invalid_code')) throw error;
      return renderEmailCheck(ctx, deps, details, flowId, '', { error: message('page.code.invalid'), status: 400 });
    }
    return pipeline.advance(ctx, details, flow);
  });

  router.post('/:uid/verify-email/resend', form, async (ctx) => {
    const details = await postedForm(deps.pages, ctx, LOGIN_PROMPTS);
    const posted = readCode(ctx, details);
    if (!posted) return;
    const loginFlow = await pipeline.identifiedFlow(details);
    if (!loginFlow) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.sign_in_expired' });
    let flow = posted.flow;
    let outcome = await deps.emailOwnership.resendVerification(flow, details.uid);
    if (outcome === 'gone') {
      // The posted code is dead (or not this sign-in's): act on this sign-in's current
      // verification instead, replaced and mailed at once when it is dead too.
      const current = await currentVerification(deps, details, loginFlow.accountId!, loginFlow);
      flow = current.flowId;
      outcome = current.fresh ? 'sent' : await deps.emailOwnership.resendVerification(flow, details.uid);
    }
    return renderEmailCheck(ctx, deps, details, flow, '', {
      notice: message(outcome === 'sent' ? 'page.code.sent' : 'page.code.wait'),
      status: outcome === 'sent' ? 200 : 429,
    });
  });
}
