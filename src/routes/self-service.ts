// Pages reached from mailed links and from the login page, outside an authorization
// request: confirm an email address, forgot/reset password, change password (signed in at
// Keyhold), and a plain home page.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { KeyholdError } from '#src/errors.ts';
import { formBody } from '#src/middleware/body.ts';
import { signInPipeline, type InteractionDependencies } from '#src/routes/interaction/index.ts';
import { LOGIN_PROMPTS } from '#src/routes/interaction/shared.ts';
import { AccountError } from '#src/services/accounts.ts';
import { passwordMethod } from '#src/services/authentication/methods/password.ts';
import { browserSession } from '#src/oidc/sessions.ts';
import type { CredentialService } from '#src/services/credentials.ts';
import { FlowError, type FlowFailure } from '#src/services/flows.ts';
import { PasswordRejectedError } from '#src/services/lifecycle.ts';
import { RegistrationError } from '#src/services/registration.ts';
import { withPasswordAttempt } from '#src/services/login-throttle.ts';
import { RateLimitedError } from '#src/services/rate-limits.ts';
import { setRateLimitHeaders } from '#src/middleware/rate-limit.ts';
import { afterResponse } from '#src/middleware/after-response.ts';
import { singleLine, singleLineText } from '#src/text-input.ts';

export interface SelfServiceDependencies extends InteractionDependencies {
  credentials: CredentialService;
}

const linkFailures: Record<FlowFailure, { title: string; message: string; status: number }> = {
  expired: { title: 'Link expired', message: 'This link has expired. Ask for a new one and use the newest email.', status: 410 },
  used: { title: 'Link already used', message: 'This link was already used. If you still need to, ask for a new one.', status: 410 },
  invalid: { title: 'Link not valid', message: 'This link is not valid. It may be incomplete, or a newer email replaced it.', status: 400 },
  address_changed: { title: 'Link no longer valid', message: 'This link was sent to an email address the account no longer uses. Ask for a new one.', status: 410 },
};

const tokenField = singleLine(z.string().trim().max(256));

export function selfServiceRoutes(deps: SelfServiceDependencies): Router {
  const { config, pages } = deps;
  const router = new Router();
  const form = formBody(config.BODY_LIMIT);
  const pipeline = signInPipeline(deps);

  const linkFailed = (ctx: Context, error: unknown) => {
    if (!(error instanceof FlowError)) throw error;
    const failure = linkFailures[error.reason];
    pages.message(ctx, failure.title, failure.message, { status: failure.status });
  };

  const tokenOf = (value: unknown) => {
    const parsed = tokenField.safeParse(value);
    return parsed.success ? parsed.data : '';
  };

  router.get('/', (ctx) => {
    pages.message(ctx, 'Keyhold', 'This is the sign-in service. To sign in, open the application you want to use.');
  });

  // Confirming takes a POST: mail scanners that open links must not use them up.
  router.get('/verify', async (ctx) => {
    const token = tokenOf(ctx.query.token);
    try {
      const flow = await deps.emailOwnership.describeLink(token);
      // A link from a sign-in is confirmed under that sign-in's path: the engine scopes its
      // interaction cookie to /interaction/<uid>, so only there does the browser that
      // started it send the cookie and carry on to the application.
      const interactionUid = typeof flow.payload.interactionUid === 'string' ? flow.payload.interactionUid : undefined;
      const action = interactionUid ? `/interaction/${encodeURIComponent(interactionUid)}/verify-link` : '/verify';
      pages.render(ctx, 'confirm-link', { title: 'Confirm your email address', email: flow.email, token, action, csrf: pages.csrfToken(ctx, 'verify') });
    } catch (error) {
      linkFailed(ctx, error);
    }
  });

  const confirmLink = async (ctx: Context) => {
    pages.assertCsrf(ctx, 'verify');
    const body = ctx.request.body as Record<string, unknown>;
    const token = tokenOf(body.token);
    try {
      const flow = await deps.emailOwnership.describeLink(token);
      // The browser that started the sign-in still holds its interaction: that binds a
      // registration link to it. Elsewhere, registration asks for the chosen password.
      const startedBy = typeof flow.payload.interactionUid === 'string' ? flow.payload.interactionUid : undefined;
      const interaction = startedBy ? await pages.findInteraction(ctx, startedBy) : undefined;
      if (flow.kind === 'email_change') {
        const { email } = await deps.emailOwnership.completeEmailChange({ token });
        return pages.message(ctx, 'Email address changed', `Your account now uses ${email}.`);
      }
      const completed =
        flow.kind === 'registration'
          ? await deps.registration.complete({ token, browserBound: interaction !== undefined, password: z.string().max(4096).optional().catch(undefined).parse(body.password) }, ctx.ip)
          : await deps.emailOwnership.completeVerification({ token }).then(async (done) => ({
              account: await deps.accounts.findById(done.accountId!),
              interactionUid: typeof done.payload.interactionUid === 'string' ? done.payload.interactionUid : undefined,
            }));
      // Opened in the browser that started the sign-in: carry on to the application.
      if (interaction && completed.account?.active && LOGIN_PROMPTS.includes(interaction.prompt.name)) {
        return await pipeline.continueAs(ctx, interaction, completed.account.id, passwordMethod);
      }
      return pages.message(ctx, 'Email address confirmed', 'Thank you. Return to the application and sign in.');
    } catch (error) {
      if (error instanceof RegistrationError && (error.code === 'password_required' || error.code === 'password_mismatch')) {
        const errors = error.code === 'password_mismatch' ? [error.message] : [];
        return pages.render(ctx, 'confirm-link', { title: 'Confirm your email address', token, action: ctx.path, csrf: pages.csrfToken(ctx, 'verify'), askPassword: true, errors }, errors.length ? 400 : 200);
      }
      if (error instanceof AccountError && error.code === 'email_taken') {
        return pages.message(ctx, 'Already registered', 'This email address already has an account. Sign in instead, or reset your password.', { status: 409 });
      }
      return linkFailed(ctx, error);
    }
  };
  router.post('/verify', form, confirmLink);
  router.post('/interaction/:uid/verify-link', form, confirmLink);

  // Reached from a login page: the way back to that sign-in.
  const signInLink = (value: unknown) => {
    const uid = z.string().regex(/^[\w-]{1,64}$/).safeParse(value);
    return uid.success ? { href: `/interaction/${uid.data}?mode=login`, label: 'Back to sign in' } : undefined;
  };

  router.get('/recovery', (ctx) => {
    const back = signInLink(ctx.query.interaction);
    pages.render(ctx, 'recovery', { title: 'Reset your password', action: '/recovery', csrf: pages.csrfToken(ctx, 'recovery'), interaction: back ? ctx.query.interaction : undefined, back });
  });

  router.post('/recovery', form, async (ctx) => {
    pages.assertCsrf(ctx, 'recovery');
    const body = ctx.request.body as Record<string, unknown>;
    const email = singleLineText(320).catch('').parse(body.email);
    // After answering: whether an account exists must not show in how long the answer takes.
    const ip = ctx.ip;
    afterResponse(ctx, 'password reset request', () => deps.credentials.requestReset(email, ip));
    pages.message(ctx, 'Check your email', 'If an account exists for that address, we sent it a link to choose a new password. The link works once and expires soon.', {
      link: signInLink(body.interaction),
    });
  });

  const renderReset = (ctx: Context, token: string, errors: string[] = [], status = 200) =>
    pages.render(ctx, 'reset-password', { title: 'Choose a new password', token, errors, minLength: config.PASSWORD_MIN_LENGTH, action: '/recovery/reset', csrf: pages.csrfToken(ctx, 'reset') }, status);

  router.get('/recovery/reset', async (ctx) => {
    const token = tokenOf(ctx.query.token);
    try {
      await deps.credentials.peekReset(token);
      renderReset(ctx, token);
    } catch (error) {
      linkFailed(ctx, error);
    }
  });

  router.post('/recovery/reset', form, async (ctx) => {
    pages.assertCsrf(ctx, 'reset');
    const body = ctx.request.body as Record<string, unknown>;
    const token = tokenOf(body.token);
    const password = z.string().max(4096).catch('').parse(body.password);
    try {
      await deps.credentials.resetPassword(token, password, ctx.ip);
      pages.message(ctx, 'Password changed', 'Your password was changed and you were signed out everywhere. Return to the application and sign in with the new password.');
    } catch (error) {
      if (error instanceof PasswordRejectedError) return renderReset(ctx, token, error.violations.map((violation) => violation.message), 400);
      linkFailed(ctx, error);
    }
  });

  /** The account signed in at Keyhold in this browser, with its session. */
  const signedIn = async (ctx: Context) => {
    const session = await browserSession(deps.engine.provider, ctx);
    const account = session?.accountId ? await deps.accounts.findById(session.accountId) : undefined;
    if (!session || !account?.active) throw new KeyholdError('unauthorized', 'Sign in to Keyhold from your application first, then come back to this page.');
    return { account, keep: { sessionIds: [session.id], grantIds: session.grantIds } };
  };

  const renderChange = (ctx: Context, extra: { errors?: string[]; done?: boolean } = {}, status = 200) =>
    pages.render(ctx, 'change-password', { title: 'Change your password', action: '/account/password', csrf: pages.csrfToken(ctx, 'password'), minLength: config.PASSWORD_MIN_LENGTH, errors: extra.errors ?? [], done: extra.done }, status);

  router.get('/account/password', async (ctx) => {
    await signedIn(ctx);
    renderChange(ctx);
  });

  router.post('/account/password', form, async (ctx) => {
    pages.assertCsrf(ctx, 'password');
    const { account, keep } = await signedIn(ctx);
    const body = ctx.request.body as Record<string, unknown>;
    const text = z.string().max(4096).catch('');
    const change = () =>
      deps.credentials.changePassword({
        accountId: account.id,
        currentPassword: text.parse(body.current_password),
        newPassword: text.parse(body.password),
        keepOtherSessions: body.keep_other_sessions === 'on' || body.keep_other_sessions === 'true',
        current: keep,
        ip: ctx.ip,
      });
    try {
      // Guesses of the current password count like wrong passwords at login.
      await withPasswordAttempt(deps.loginThrottle, ctx.ip, account.email, change, (error) => error instanceof AccountError && error.code === 'invalid_password');
      renderChange(ctx, { done: true });
    } catch (error) {
      if (error instanceof RateLimitedError) {
        setRateLimitHeaders(ctx, error);
        return renderChange(ctx, { errors: ['Too many wrong passwords. Try again later.'] }, 429);
      }
      if (error instanceof PasswordRejectedError) return renderChange(ctx, { errors: error.violations.map((violation) => violation.message) }, 400);
      if (error instanceof AccountError && error.code === 'invalid_password') return renderChange(ctx, { errors: [error.message] }, 400);
      throw error;
    }
  });

  return router;
}
