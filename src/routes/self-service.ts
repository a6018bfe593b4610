// Pages reached from mailed links and from the login page, outside an authorization
// request: confirm an email address, forgot/reset password, change password (signed in at
// Keyhold), and a plain home page.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { isKeyholdError } from '#src/errors.ts';
import { FORM_REFUSED, listedFieldErrors, readForm } from '#src/http/form.ts';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import { setErrorHeaders } from '#src/middleware/errors.ts';
import { signInPipeline, type InteractionDependencies } from '#src/routes/interaction/index.ts';
import { LOGIN_PROMPTS } from '#src/routes/interaction/shared.ts';
import { formErrors, signedInBrowser, type PageLink } from '#src/routes/page-kit.ts';
import { passwordMethod } from '#src/services/authentication/methods/password.ts';
import type { CredentialService } from '#src/services/credentials.ts';
import type { BackgroundTasks } from '#src/services/background-tasks.ts';
import type { RequestThrottle } from '#src/services/request-throttle.ts';
import { flowFailureOf, type FlowFailure } from '#src/services/flows.ts';
import { withPasswordAttempt } from '#src/services/login-throttle.ts';
import { afterResponse } from '#src/middleware/after-response.ts';
import { linkToken, singleLineText } from '#src/text-input.ts';

export interface SelfServiceDependencies extends InteractionDependencies {
  credentials: CredentialService;
  recoveryThrottle: RequestThrottle;
  background: BackgroundTasks;
}

// A link that cannot be used gets a page saying why (texts: page.link_failure.<reason>).
const linkFailureStatus: Record<FlowFailure, number> = { expired: 410, used: 410, invalid: 400, address_changed: 410 };

const tokenField = linkToken;
const passwordField = z.string().max(4096);

// The forms, each read by readForm (src/http/form.ts) after its CSRF check. A token that
// cannot be one gets the "link not valid" page; other fields are shown again with their errors.
const confirmLinkForm = z.object({ token: tokenField, password: passwordField.optional() });
const recoveryForm = z.object({ email: singleLineText(320).default(''), interaction: z.unknown().optional() });
const resetForm = z.object({ token: tokenField, password: passwordField.default('') });
const changePasswordForm = z.object({
  current_password: passwordField.default(''),
  password: passwordField.default(''),
  keep_other_sessions: z.unknown().optional().transform((value) => value === 'on' || value === 'true'),
});
const passwordLabels = { password: 'form.label.password', current_password: 'form.label.current_password', email: 'form.label.email' } as const;

export function selfServiceRoutes(deps: SelfServiceDependencies): Router {
  const { config, pages } = deps;
  const router = new Router();
  const form = formBody(config.BODY_LIMIT);
  const pipeline = signInPipeline(deps);

  const linkFailed = (ctx: Context, error: unknown) => {
    const reason = flowFailureOf(error);
    if (!reason) throw error;
    pages.message(ctx, `page.link_failure.${reason}`, { status: linkFailureStatus[reason] });
  };

  const invalidLink = (ctx: Context) => pages.message(ctx, 'page.link_failure.invalid', { status: linkFailureStatus.invalid });

  const tokenOf = (value: unknown) => {
    const parsed = tokenField.safeParse(value);
    return parsed.success ? parsed.data : '';
  };

  router.get('/', (ctx) => {
    pages.message(ctx, 'page.home');
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
      pages.render(ctx, 'confirm-link', { title: message('page.confirm_email.title'), email: flow.email, token, action, csrf: pages.csrfToken(ctx, 'verify') });
    } catch (error) {
      linkFailed(ctx, error);
    }
  });

  const renderConfirm = (ctx: Context, token: string, errors: string[], status: number) =>
    pages.render(ctx, 'confirm-link', { title: message('page.confirm_email.title'), token, action: ctx.path, csrf: pages.csrfToken(ctx, 'verify'), askPassword: true, errors }, status);

  const confirmLink = async (ctx: Context) => {
    pages.assertCsrf(ctx, 'verify');
    const posted = readForm(ctx, confirmLinkForm);
    if (!posted.ok) return posted.fieldErrors.token ? invalidLink(ctx) : renderConfirm(ctx, posted.values.token ?? '', listedFieldErrors(posted.fieldErrors, passwordLabels), FORM_REFUSED);
    const { token, password } = posted.data;
    try {
      const flow = await deps.emailOwnership.describeLink(token);
      // The browser that started the sign-in still holds its interaction: that binds a
      // registration link to it. Elsewhere, registration asks for the chosen password.
      const startedBy = typeof flow.payload.interactionUid === 'string' ? flow.payload.interactionUid : undefined;
      const interaction = startedBy ? await pages.findInteraction(ctx, startedBy) : undefined;
      if (flow.kind === 'email_change') {
        const { email } = await deps.emailOwnership.completeEmailChange({ token });
        return pages.message(ctx, 'page.email_changed', { params: { email } });
      }
      const completed =
        flow.kind === 'registration'
          ? await deps.registration.complete({ token, browserBound: interaction !== undefined, password }, ctx.ip)
          : await deps.emailOwnership.completeVerification({ token }).then(async (done) => ({
              account: await deps.accounts.findById(done.accountId!),
              interactionUid: typeof done.payload.interactionUid === 'string' ? done.payload.interactionUid : undefined,
            }));
      // Opened in the browser that started the sign-in: carry on to the application.
      if (interaction && completed.account?.active && LOGIN_PROMPTS.includes(interaction.prompt.name)) {
        // A registration link completes the sign-in whose password chose it; a verification
        // link only lets a sign-in that already checked the password carry on.
        if (flow.kind === 'registration') return await pipeline.continueAs(ctx, interaction, completed.account.id, passwordMethod);
        if (await pipeline.resume(ctx, interaction, completed.account.id)) return;
      }
      return pages.message(ctx, 'page.email_confirmed');
    } catch (error) {
      if (isKeyholdError(error, 'password_required', 'password_mismatch')) {
        const errors = error.code === 'password_mismatch' ? [error.message] : [];
        return renderConfirm(ctx, token, errors, errors.length ? 400 : 200);
      }
      if (isKeyholdError(error, 'email_taken')) return pages.message(ctx, 'page.already_registered', { status: 409 });
      return linkFailed(ctx, error);
    }
  };
  router.post('/verify', form, confirmLink);
  router.post('/interaction/:uid/verify-link', form, confirmLink);

  // Reached from a login page: the way back to that sign-in.
  const signInLink = (value: unknown): PageLink | undefined => {
    const uid = z.string().regex(/^[\w-]{1,64}$/).safeParse(value);
    return uid.success ? { href: `/interaction/${uid.data}?mode=login`, label: 'page.link.back_to_sign_in' } : undefined;
  };

  const renderRecovery = (ctx: Context, interaction: unknown, errors: string[] = [], status = 200) => {
    const back = signInLink(interaction);
    pages.render(
      ctx,
      'recovery',
      {
        title: message('page.recovery.title'),
        action: '/recovery',
        csrf: pages.csrfToken(ctx, 'recovery'),
        interaction: back ? interaction : undefined,
        back: back && { href: back.href, label: message(back.label) },
        errors,
      },
      status,
    );
  };

  router.get('/recovery', (ctx) => renderRecovery(ctx, ctx.query.interaction));

  router.post('/recovery', form, async (ctx) => {
    pages.assertCsrf(ctx, 'recovery');
    // An address no account can have (overlong, sent twice) is refused as typed; that says
    // nothing about which accounts exist.
    const posted = readForm(ctx, recoveryForm);
    if (!posted.ok) return renderRecovery(ctx, posted.values.interaction, listedFieldErrors(posted.fieldErrors, passwordLabels), FORM_REFUSED);
    const { email, interaction } = posted.data;
    // Counted whether or not the address has an account: the limit says nothing about it.
    try {
      await deps.recoveryThrottle.consume(ctx.ip, email);
    } catch (error) {
      if (!isKeyholdError(error, 'rate_limited')) throw error;
      setErrorHeaders(ctx, error);
      return renderRecovery(ctx, interaction, [message('page.recovery.too_many_attempts')], 429);
    }
    // After answering: whether an account exists must not show in how long the answer takes.
    const ip = ctx.ip;
    afterResponse(ctx, deps.background, 'password reset request', () => deps.credentials.requestReset(email, ip));
    pages.message(ctx, 'page.recovery_sent', { link: signInLink(interaction) });
  });

  const renderReset = (ctx: Context, token: string, username: string | undefined, errors: string[] = [], status = 200) =>
    pages.render(ctx, 'reset-password', { title: message('page.reset.title'), token, username, errors, minLength: config.PASSWORD_MIN_LENGTH, action: '/recovery/reset', csrf: pages.csrfToken(ctx, 'reset') }, status);
  // The address for the hidden username field; a link that no longer works shows none.
  const resetUsername = (token: string) => deps.credentials.peekReset(token).then(({ email }) => email, () => undefined);

  router.get('/recovery/reset', async (ctx) => {
    const token = tokenOf(ctx.query.token);
    try {
      const { email } = await deps.credentials.peekReset(token);
      renderReset(ctx, token, email);
    } catch (error) {
      linkFailed(ctx, error);
    }
  });

  router.post('/recovery/reset', form, async (ctx) => {
    pages.assertCsrf(ctx, 'reset');
    const posted = readForm(ctx, resetForm);
    if (!posted.ok) {
      if (posted.fieldErrors.token) return invalidLink(ctx);
      const token = posted.values.token ?? '';
      return renderReset(ctx, token, await resetUsername(token), listedFieldErrors(posted.fieldErrors, passwordLabels), FORM_REFUSED);
    }
    const { token, password } = posted.data;
    try {
      await deps.credentials.resetPassword(token, password, ctx.ip);
      pages.message(ctx, 'page.password_changed');
    } catch (error) {
      if (isKeyholdError(error, 'password_rejected')) return renderReset(ctx, token, await resetUsername(token), formErrors(error), 400);
      linkFailed(ctx, error);
    }
  });

  /** The account signed in at Keyhold in this browser, with its session. */
  const signedIn = async (ctx: Context) => {
    const { session, account } = await signedInBrowser(deps, ctx);
    return { account, keep: { sessionIds: [session.id], grantIds: session.grantIds } };
  };

  const renderChange = (ctx: Context, username: string, extra: { errors?: string[]; done?: boolean } = {}, status = 200) =>
    pages.render(
      ctx,
      'change-password',
      { title: message('page.change_password.title'), username, action: '/account/password', csrf: pages.csrfToken(ctx, 'password'), minLength: config.PASSWORD_MIN_LENGTH, errors: extra.errors ?? [], done: extra.done },
      status,
    );

  router.get('/account/password', async (ctx) => {
    const { account } = await signedIn(ctx);
    renderChange(ctx, account.email);
  });

  router.post('/account/password', form, async (ctx) => {
    pages.assertCsrf(ctx, 'password');
    const { account, keep } = await signedIn(ctx);
    const posted = readForm(ctx, changePasswordForm);
    if (!posted.ok) return renderChange(ctx, account.email, { errors: listedFieldErrors(posted.fieldErrors, passwordLabels) }, FORM_REFUSED);
    const input = posted.data;
    const change = () =>
      deps.credentials.changePassword({
        accountId: account.id,
        currentPassword: input.current_password,
        newPassword: input.password,
        keepOtherSessions: input.keep_other_sessions,
        current: keep,
        ip: ctx.ip,
      });
    try {
      // Guesses of the current password count like wrong passwords at login.
      await withPasswordAttempt(deps.loginThrottle, ctx.ip, account.email, change, (error) => isKeyholdError(error, 'invalid_password'));
      renderChange(ctx, account.email, { done: true });
    } catch (error) {
      if (isKeyholdError(error, 'rate_limited')) {
        setErrorHeaders(ctx, error);
        return renderChange(ctx, account.email, { errors: [message('page.change_password.too_many_attempts')] }, 429);
      }
      if (isKeyholdError(error, 'password_rejected', 'invalid_password')) return renderChange(ctx, account.email, { errors: formErrors(error) }, 400);
      throw error;
    }
  });

  return router;
}
