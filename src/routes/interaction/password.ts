// The login form: email address and password, the first factor. Failed logins get one
// message whatever the cause, so the page never tells whether an account exists; attempts
// are counted before the password is checked.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { isKeyholdError } from '#src/errors.ts';
import { FORM_REFUSED, readForm } from '#src/http/form.ts';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import { setErrorHeaders } from '#src/middleware/errors.ts';
import { requestOrigin } from '#src/middleware/request-context.ts';
import type { InteractionDetails } from '#src/routes/page-kit.ts';
import { connectorButtons } from '#src/routes/federation/buttons.ts';
import type { SignInPipeline } from '#src/routes/interaction/pipeline.ts';
import { clientNameOf, clientOf, interactionPurpose, LOGIN_PROMPTS, postedForm, registrationModeOf, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import { passwordMethod } from '#src/services/authentication/methods/password.ts';
import type { PasswordAttempt } from '#src/services/login-throttle.ts';
import { singleLineText } from '#src/text-input.ts';
import { embeddedJson } from '#src/routes/interaction/mfa-challenge.ts';
import { passwordlessPurpose } from '#src/routes/interaction/passkey.ts';

// A malformed form (a field sent twice, an overlong value) gets the same text as a wrong
// password: the page never says more than "invalid email or password".
const loginForm = z.object({
  email: singleLineText(320).default(''),
  password: z.string().max(4096).default(''),
});

export async function renderLogin(ctx: Context, deps: InteractionDependencies, details: InteractionDetails, extra: { error?: string; email?: string; status?: number; passkeyFailed?: boolean } = {}): Promise<void> {
  const { pages } = deps;
  // Passwordless: a challenge for this interaction, offered through the email field's
  // autofill (conditional UI) and a button; assets/passkey.js runs it. After a refused
  // passkey only the button: the browser is not asked again unprompted.
  const passkey = deps.passkeys.enabled()
    ? await deps.passkeys.authenticationOptions(passwordlessPurpose(details.uid)).then(({ challengeId, options }) => ({
        mode: extra.passkeyFailed ? 'authenticate' : 'autofill',
        action: `/interaction/${details.uid}/passkey`,
        challengeId,
        optionsJson: embeddedJson(options),
        label: message('page.login.passkey'),
      }))
    : undefined;
  pages.render(
    ctx,
    'login',
    {
      title: message('page.login.title'),
      clientName: clientNameOf(await clientOf(deps.engine, details)),
      action: `/interaction/${details.uid}/login`,
      abortAction: `/interaction/${details.uid}/abort`,
      registerUrl: (await registrationModeOf(deps, details)).mode === 'closed' ? undefined : `/interaction/${details.uid}/register`,
      recoveryUrl: `/recovery?interaction=${encodeURIComponent(details.uid)}`,
      csrf: pages.csrfToken(ctx, interactionPurpose(details.uid)),
      email: extra.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
      error: extra.error,
      passkey,
      connectors: await connectorButtons(deps.connectors, details.uid),
    },
    extra.status,
  );
}

export function passwordRoutes(router: Router, deps: InteractionDependencies, pipeline: SignInPipeline): void {
  const form = formBody(deps.config.BODY_LIMIT);
  router.post('/:uid/login', form, async (ctx) => {
    const details = await postedForm(deps.pages, ctx, LOGIN_PROMPTS);
    const input = readForm(ctx, loginForm);
    if (!input.ok) return renderLogin(ctx, deps, details, { error: message('page.login.invalid_credentials'), status: FORM_REFUSED });
    const { email, password } = input.data;

    // Counted before the password is checked, so that a burst cannot outrun the limit.
    let attempt: PasswordAttempt;
    try {
      attempt = await deps.loginThrottle.begin(ctx.ip, email);
    } catch (error) {
      if (!isKeyholdError(error, 'rate_limited')) throw error;
      deps.telemetry?.loginAttempts.inc({ outcome: 'rate_limited', method: 'password' });
      setErrorHeaders(ctx, error);
      return renderLogin(ctx, deps, details, { email, status: 429, error: message('page.login.too_many_attempts', error.params) });
    }

    let account: Awaited<ReturnType<typeof deps.accounts.authenticate>>;
    try {
      account = await deps.accounts.authenticate(email, password, requestOrigin(ctx));
    } catch (error) {
      if (!isKeyholdError(error, 'server_busy')) throw error;
      // Nothing was checked: the attempt is given back, and the form shown again with 503.
      await attempt.succeeded();
      setErrorHeaders(ctx, error);
      return renderLogin(ctx, deps, details, { email, status: 503, error: error.message });
    }
    if (!account) {
      ctx.state.log.info({ event: 'login.failed', clientId: details.params.client_id }, 'login failed');
      return renderLogin(ctx, deps, details, { email, error: message('page.login.invalid_credentials'), status: 401 });
    }
    await attempt.succeeded();
    return pipeline.verified(ctx, details, account.id, passwordMethod, account);
  });
}
