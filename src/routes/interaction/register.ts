// Registration pages, part of an authorization request: the form, then "check your mail"
// with a code field. Confirming signs the new account in through the sign-in pipeline and
// the request continues to the client; a taken address gets exactly the same pages (see
// services/registration.ts).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { KeyholdError } from '#src/errors.ts';
import { formBody } from '#src/middleware/body.ts';
import { setRateLimitHeaders } from '#src/middleware/rate-limit.ts';
import type { InteractionDetails } from '#src/routes/page-kit.ts';
import type { SignInPipeline } from '#src/routes/interaction/pipeline.ts';
import { clientNameOf, clientOf, codeForm, INVALID_CODE, interactionPurpose, LOGIN_PROMPTS, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import { AccountError } from '#src/services/accounts.ts';
import { passwordMethod } from '#src/services/authentication/methods/password.ts';
import { FlowError } from '#src/services/flows.ts';
import { PasswordRejectedError } from '#src/services/lifecycle.ts';
import { RateLimitedError } from '#src/services/rate-limits.ts';
import { RegistrationError } from '#src/services/registration.ts';
import { singleLineText } from '#src/text-input.ts';

const registrationForm = z.object({
  email: singleLineText(320).default(''),
  password: z.string().max(4096).default(''),
  name: singleLineText(1000).default(''),
  invitation: singleLineText(512).optional(),
});

// Registration signs the new account in: the password it chose, proven with the mailed code.
export function registerRoutes(router: Router, deps: InteractionDependencies, pipeline: SignInPipeline): void {
  const { config, pages, registration } = deps;
  const form = formBody(config.BODY_LIMIT);
  const purpose = interactionPurpose;

  const interaction = async (ctx: Context, posted: boolean): Promise<InteractionDetails> => {
    if (config.REGISTRATION === 'closed') throw new KeyholdError('forbidden', 'Registration is closed. Ask an administrator for an account.');
    const details = await pages.loadInteraction(ctx);
    if (posted) pages.assertCsrf(ctx, purpose(details.uid));
    if (!LOGIN_PROMPTS.includes(details.prompt.name)) throw new KeyholdError('invalid_request', 'You are already signed in. Return to the application.');
    return details;
  };

  const renderForm = async (ctx: Context, details: InteractionDetails, values: { email?: string; name?: string; invitation?: string; errors?: string[] } = {}, status = 200) => {
    const client = await clientOf(deps.engine, details);
    pages.render(
      ctx,
      'register',
      {
        title: 'Create account',
        clientName: clientNameOf(client),
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

  router.get('/:uid/register', async (ctx) => renderForm(ctx, await interaction(ctx, false)));

  router.post('/:uid/register', form, async (ctx) => {
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

  router.post('/:uid/register/confirm', form, async (ctx) => {
    const details = await interaction(ctx, true);
    const { flow, code } = codeForm.parse(ctx.request.body ?? {});
    let accountId: string;
    try {
      ({ account: { id: accountId } } = await registration.complete({ flowId: flow, code, interactionUid: details.uid }, ctx.ip));
    } catch (error) {
      if (error instanceof FlowError) {
        return renderCheck(ctx, details, flow, '', { error: INVALID_CODE }, 400);
      }
      if (error instanceof AccountError && error.code === 'email_taken') {
        return pages.message(ctx, 'Already registered', 'This email address already has an account. Sign in instead, or reset your password.', {
          status: 409,
          link: { href: `/interaction/${details.uid}?mode=login`, label: 'Sign in' },
        });
      }
      throw error;
    }
    return pipeline.continueAs(ctx, details, accountId, passwordMethod);
  });

  router.post('/:uid/register/resend', form, async (ctx) => {
    const details = await interaction(ctx, true);
    const { flow } = codeForm.parse(ctx.request.body ?? {});
    const outcome = await registration.resend(flow, details.uid);
    return renderCheck(ctx, details, flow, '', { notice: outcome === 'sent' ? 'We sent a new code.' : 'Please wait a minute before asking for another code.' }, outcome === 'sent' ? 200 : 429);
  });
}
