// Registration pages, part of an authorization request: the form, then "check your mail"
// with a code field. Confirming signs the new account in and the request continues to the
// client; a taken address gets exactly the same pages (see services/registration.ts).
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '#src/config.ts';
import { KeyholdError } from '#src/errors.ts';
import { formBody } from '#src/middleware/body.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import { passwordLogin } from '#src/routes/interaction.ts';
import type { InteractionDetails, PageKit } from '#src/routes/page-kit.ts';
import { AccountError } from '#src/services/accounts.ts';
import { FlowError } from '#src/services/flows.ts';
import { PasswordRejectedError } from '#src/services/lifecycle.ts';
import { RegistrationError, type RegistrationService } from '#src/services/registration.ts';
import type { RegistrationThrottle } from '#src/services/registration-throttle.ts';
import { RateLimitedError } from '#src/services/rate-limits.ts';
import { setRateLimitHeaders } from '#src/middleware/rate-limit.ts';
import { singleLine, singleLineText } from '#src/text-input.ts';

const registrationForm = z.object({
  email: singleLineText(320).default(''),
  password: z.string().max(4096).default(''),
  name: singleLineText(1000).default(''),
  invitation: singleLineText(512).optional(),
});

const codeForm = z.object({
  flow: singleLineText(64).default(''),
  code: singleLine(z.string().trim().max(32)).default(''),
});

const REGISTRATION_PROMPTS = ['login', 'create'];

export function registrationRoutes(deps: { config: Config; engine: EngineHost; pages: PageKit; registration: RegistrationService; registrationThrottle: RegistrationThrottle }): Router {
  const { config, pages, registration } = deps;
  const router = new Router({ prefix: '/interaction/:uid/register' });
  const form = formBody(config.BODY_LIMIT);
  const purpose = (uid: string) => `interaction:${uid}`;

  const interaction = async (ctx: Context, posted: boolean): Promise<InteractionDetails> => {
    if (config.REGISTRATION === 'closed') throw new KeyholdError('forbidden', 'Registration is closed. Ask an administrator for an account.');
    const details = await pages.loadInteraction(ctx);
    if (posted) pages.assertCsrf(ctx, purpose(details.uid));
    if (!REGISTRATION_PROMPTS.includes(details.prompt.name)) throw new KeyholdError('invalid_request', 'You are already signed in. Return to the application.');
    return details;
  };

  const renderForm = async (ctx: Context, details: InteractionDetails, values: { email?: string; name?: string; invitation?: string; errors?: string[] } = {}, status = 200) => {
    const client = await deps.engine.provider.Client.find(String(details.params.client_id));
    pages.render(
      ctx,
      'register',
      {
        title: 'Create account',
        clientName: client?.clientName ?? client?.clientId,
        action: `/interaction/${details.uid}/register`,
        loginUrl: `/interaction/${details.uid}?mode=login`,
        csrf: pages.csrfToken(ctx, purpose(details.uid)),
        minLength: config.PASSWORD_MIN_LENGTH,
        invitationRequired: config.REGISTRATION === 'invite',
        email: values.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
        name: values.name ?? '',
        invitation: values.invitation ?? '',
        errors: values.errors ?? [],
      },
      status,
    );
  };

  const renderCheck = (ctx: Context, details: InteractionDetails, flowId: string, email: string, extra: { error?: string; notice?: string } = {}, status = 200) => {
    pages.render(
      ctx,
      'verify-code',
      {
        title: 'Check your email',
        email,
        flowId,
        action: `/interaction/${details.uid}/register/confirm`,
        resendAction: `/interaction/${details.uid}/register/resend`,
        csrf: pages.csrfToken(ctx, purpose(details.uid)),
        ...extra,
      },
      status,
    );
  };

  router.get('/', async (ctx) => renderForm(ctx, await interaction(ctx, false)));

  router.post('/', form, async (ctx) => {
    const details = await interaction(ctx, true);
    const input = registrationForm.parse(ctx.request.body ?? {});
    try {
      await deps.registrationThrottle.consume(ctx.ip, input.email);
      const { flowId, email } = await registration.register({
        email: input.email,
        password: input.password,
        name: input.name,
        invitation: input.invitation,
        interactionUid: details.uid,
        ip: ctx.ip,
        locale: typeof details.params.ui_locales === 'string' ? details.params.ui_locales.split(' ')[0] : undefined,
      });
      return renderCheck(ctx, details, flowId, email);
    } catch (error) {
      if (error instanceof RateLimitedError) {
        setRateLimitHeaders(ctx, error);
        return renderForm(ctx, details, { email: input.email, name: input.name, invitation: input.invitation, errors: ['Too many registration attempts. Try again later.'] }, 429);
      }
      const errors =
        error instanceof PasswordRejectedError
          ? error.violations.map((violation) => violation.message)
          : error instanceof AccountError || error instanceof RegistrationError
            ? [error.message]
            : undefined;
      if (!errors) throw error;
      return renderForm(ctx, details, { email: input.email, name: input.name, invitation: input.invitation, errors }, 400);
    }
  });

  router.post('/confirm', form, async (ctx) => {
    const details = await interaction(ctx, true);
    const { flow, code } = codeForm.parse(ctx.request.body ?? {});
    try {
      const { account } = await registration.complete({ flowId: flow, code, interactionUid: details.uid }, ctx.ip);
      return pages.finishInteraction(ctx, passwordLogin(account), false);
    } catch (error) {
      if (error instanceof FlowError) {
        return renderCheck(ctx, details, flow, '', { error: 'That code is not valid or has expired. Check the latest email, or send a new code.' }, 400);
      }
      if (error instanceof AccountError && error.code === 'email_taken') {
        return pages.message(ctx, 'Already registered', 'This email address already has an account. Sign in instead, or reset your password.', {
          status: 409,
          link: { href: `/interaction/${details.uid}?mode=login`, label: 'Sign in' },
        });
      }
      throw error;
    }
  });

  router.post('/resend', form, async (ctx) => {
    const details = await interaction(ctx, true);
    const { flow } = codeForm.parse(ctx.request.body ?? {});
    const outcome = await registration.resend(flow, details.uid);
    return renderCheck(ctx, details, flow, '', { notice: outcome === 'sent' ? 'We sent a new code.' : 'Please wait a minute before asking for another code.' }, outcome === 'sent' ? 200 : 429);
  });

  return router;
}
