// Sign-in with a passkey: passwordless from the login page (a discoverable credential tells
// who the account is; the email field offers passkeys through conditional UI), or as the
// second factor on the challenge page (only the identified account's passkeys are allowed).
// The assertion's challenge is bound to this interaction and works once.
import type Router from '@koa/router';
import { z } from 'zod';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { readForm } from '#src/http/form.ts';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import { setErrorHeaders } from '#src/middleware/errors.ts';
import { challengePurpose } from '#src/routes/interaction/mfa-challenge.ts';
import { renderLogin } from '#src/routes/interaction/password.ts';
import type { SignInPipeline } from '#src/routes/interaction/pipeline.ts';
import { LOGIN_PROMPTS, postedForm, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import { passkeyMethod } from '#src/services/authentication/methods/passkey.ts';
import { flowFailure } from '#src/services/flows.ts';
import { parseJson, singleLineText } from '#src/text-input.ts';

/** Passwordless challenges are issued by the login page, for that interaction only. */
export const passwordlessPurpose = (uid: string) => `passwordless:${uid}`;

const assertionForm = z.object({ challenge: singleLineText(64).default(''), response: z.string().max(32_768).default('') });

export function passkeyRoutes(router: Router, deps: InteractionDependencies, pipeline: SignInPipeline): void {
  const form = formBody(deps.config.BODY_LIMIT);

  router.post('/:uid/passkey', form, async (ctx) => {
    const details = await postedForm(deps.pages, ctx, LOGIN_PROMPTS);
    const flow = await pipeline.identifiedFlow(details);
    const posted = readForm(ctx, assertionForm);
    // Counted before the assertion is checked, like a password (src/services/passkey-throttle.ts).
    let attempt;
    try {
      attempt = await deps.passkeyThrottle.begin(ctx.ip, flow?.accountId);
    } catch (error) {
      if (!isKeyholdError(error, 'rate_limited') || flow) throw error;
      setErrorHeaders(ctx, error);
      return renderLogin(ctx, deps, details, { status: 429, error: message('page.login.too_many_attempts', error.params), passkeyFailed: true });
    }
    let use;
    try {
      if (!posted.ok) throw flowFailure('invalid');
      const input = { challengeId: posted.data.challenge, response: parseJson(posted.data.response) };
      use = flow?.accountId
        ? await deps.passkeys.authenticate({ ...input, purpose: challengePurpose(details.uid), accountId: flow.accountId })
        : await deps.passkeys.authenticate({ ...input, purpose: passwordlessPurpose(details.uid) });
    } catch (error) {
      if (!isKeyholdError(error, 'invalid_code', 'factor_disabled')) throw error;
      ctx.state.log.info({ event: 'login.passkey_failed', clientId: details.params.client_id }, 'passkey refused');
      if (!flow) return renderLogin(ctx, deps, details, { error: message('page.mfa.passkey_failed'), status: 401, passkeyFailed: true });
      throw new KeyholdError('invalid_code', { key: 'error.invalid_code.passkey' });
    }
    // A locked account is not signed in by a passkey either (the lock is the operator's or the failures').
    if (await deps.lockout.isLocked(use.accountId)) {
      if (!flow) return renderLogin(ctx, deps, details, { error: message('page.mfa.passkey_failed'), status: 401, passkeyFailed: true });
      throw new KeyholdError('invalid_code', { key: 'error.invalid_code.passkey' });
    }
    await attempt.succeeded();
    return pipeline.verified(ctx, details, use.accountId, passkeyMethod(use.synced));
  });
}
