// The engine's interactions: sign-in (login form, registration, then the pipeline's steps)
// and consent, as plain HTML forms, each with a CSRF token bound to the interaction. The
// interaction, and with it the stored login flow, is the one this browser's cookie names.
//
//   GET  /interaction/:uid                   the page the interaction is at (below)
//   POST /interaction/:uid/login             password.ts      email + password
//   POST /interaction/:uid/passkey           passkey.ts       a passkey: passwordless, or as second factor
//   GET|POST /interaction/:uid/register…     register.ts      registration (prompt=create)
//   GET|POST /interaction/:uid/mfa…          mfa-challenge.ts step: a second factor (or a recovery code)
//   POST /interaction/:uid/mfa/enrol…        mfa-enrol.ts     step: enrol one when it is demanded
//   POST /interaction/:uid/verify-email…     verify-email.ts  step: confirm the address
//   POST /interaction/:uid/profile           profile.ts       step: the client's required claims
//   POST /interaction/:uid/confirm           consent.ts       consent
//   POST /interaction/:uid/abort             abort.ts         cancel / deny
import Router from '@koa/router';
import { KeyholdError } from '#src/errors.ts';
import { ACR_STEP_UP } from '#src/oidc/hooks/step-up-check.ts';
import { browserSession } from '#src/oidc/sessions.ts';
import { abortRoutes } from '#src/routes/interaction/abort.ts';
import { consentRoutes, showConsent } from '#src/routes/interaction/consent.ts';
import { mfaChallengeRoutes, mfaChallengeStep } from '#src/routes/interaction/mfa-challenge.ts';
import { mfaEnrolRoutes, mfaEnrolStep } from '#src/routes/interaction/mfa-enrol.ts';
import { passkeyRoutes } from '#src/routes/interaction/passkey.ts';
import { passwordRoutes, renderLogin } from '#src/routes/interaction/password.ts';
import { createSignInPipeline, type SignInPipeline } from '#src/routes/interaction/pipeline.ts';
import { profileRoutes, profileStep } from '#src/routes/interaction/profile.ts';
import { registerRoutes } from '#src/routes/interaction/register.ts';
import { LOGIN_PROMPTS, registrationModeOf, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import { verifyEmailRoutes, verifyEmailStep } from '#src/routes/interaction/verify-email.ts';

export type { InteractionDependencies } from '#src/routes/interaction/shared.ts';

// Login prompt reasons a second factor answers, without a new first one.
const STEP_UP_REASONS = [ACR_STEP_UP, 'essential_acr', 'essential_acrs'];

/** The sign-in pipeline with its steps, in the order they run. */
export function signInPipeline(deps: InteractionDependencies): SignInPipeline {
  return createSignInPipeline(deps, [mfaChallengeStep(deps), mfaEnrolStep(deps), verifyEmailStep(deps), profileStep(deps)]);
}

export function interactionRoutes(deps: InteractionDependencies): Router {
  const router = new Router({ prefix: '/interaction' });
  const pipeline = signInPipeline(deps);

  router.get('/:uid', async (ctx) => {
    const details = await deps.pages.loadInteraction(ctx);
    if (LOGIN_PROMPTS.includes(details.prompt.name)) {
      // Someone already identified in this interaction continues where they were.
      const flow = await pipeline.identifiedFlow(details);
      if (flow) return pipeline.advance(ctx, details, flow, { revisit: true });
      // A signed-in browser asked for more than its session holds (a second factor): only
      // that is asked for. Any other reason (no session, max_age, prompt=login, another
      // subject) means signing in anew.
      if (details.session?.accountId && details.prompt.reasons.length > 0 && details.prompt.reasons.every((reason) => STEP_UP_REASONS.includes(reason))) {
        const session = await browserSession(deps.engine.provider, ctx);
        if (session?.accountId === details.session.accountId) {
          if (await pipeline.stepUp(ctx, details, { accountId: session.accountId, amr: details.session.amr, loginTs: session.authTime })) return;
        }
      }
      if (details.prompt.name === 'create' && ctx.query.mode !== 'login' && (await registrationModeOf(deps, details)).mode !== 'closed') {
        ctx.redirect(`/interaction/${details.uid}/register`);
        return;
      }
      return renderLogin(ctx, deps, details);
    }
    if (details.prompt.name === 'consent') {
      const owed = await pipeline.pendingForSession(details);
      if (owed) return owed.step.show(ctx, details, owed.subject, { revisit: true });
      return showConsent(ctx, deps, details);
    }
    throw new KeyholdError('invalid_request', { key: 'error.invalid_request.unsupported_prompt', params: { prompt: details.prompt.name } });
  });

  for (const routes of [passwordRoutes, passkeyRoutes, registerRoutes, mfaChallengeRoutes, mfaEnrolRoutes, verifyEmailRoutes, profileRoutes, consentRoutes, abortRoutes]) routes(router, deps, pipeline);
  return router;
}
