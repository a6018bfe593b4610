// Registration pages, part of an authorization request: the form, then "check your mail"
// with a code field. Confirming signs the new account in through the sign-in pipeline and
// the request continues to the client; a taken address gets exactly the same pages (see
// services/registration.ts).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { FORM_REFUSED, listedFieldErrors, readForm } from '#src/http/form.ts';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import { setErrorHeaders } from '#src/middleware/errors.ts';
import { formErrors, type InteractionDetails } from '#src/routes/page-kit.ts';
import { connectorButtons } from '#src/routes/federation/buttons.ts';
import type { SignInPipeline } from '#src/routes/interaction/pipeline.ts';
import { clientNameOf, clientOf, interactionPurpose, readCodeForm, LOGIN_PROMPTS, registrationModeOf, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import { passwordMethod } from '#src/services/authentication/methods/password.ts';
import { singleLineText } from '#src/text-input.ts';

const registrationForm = z.object({
  email: singleLineText(320).default(''),
  password: z.string().max(4096).default(''),
  name: singleLineText(1000).default(''),
  invitation: singleLineText(512).optional(),
});

const registrationLabels = { email: 'form.label.email', password: 'form.label.password', name: 'form.label.name', invitation: 'form.label.invitation' } as const;

// The refusals the form shows next to its fields (anything else is the error page).
const FORM_ERRORS = ['password_rejected', 'invalid_email', 'invalid_name', 'invitation_invalid', 'registration_closed'] as const;

// Registration signs the new account in: the password it chose, proven with the mailed code.
export function registerRoutes(router: Router, deps: InteractionDependencies, pipeline: SignInPipeline): void {
  const { config, pages, registration } = deps;
  const form = formBody(config.BODY_LIMIT);
  const purpose = interactionPurpose;

  const interaction = async (ctx: Context, posted: boolean): Promise<InteractionDetails> => {
    const details = await pages.loadInteraction(ctx);
    if ((await registrationModeOf(deps, details)).mode === 'closed') throw new KeyholdError('forbidden', { key: 'error.forbidden.registration_closed' });
    if (posted) pages.assertCsrf(ctx, purpose(details.uid));
    if (!LOGIN_PROMPTS.includes(details.prompt.name)) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.already_signed_in' });
    return details;
  };

  const renderForm = async (ctx: Context, details: InteractionDetails, values: { email?: string; name?: string; invitation?: string; errors?: string[] } = {}, status = 200) => {
    const client = await clientOf(deps.engine, details);
    pages.render(
      ctx,
      'register',
      {
        title: message('page.register.title'),
        clientName: clientNameOf(client),
        action: `/interaction/${details.uid}/register`,
        loginUrl: `/interaction/${details.uid}?mode=login`,
        csrf: pages.csrfToken(ctx, purpose(details.uid)),
        minLength: config.PASSWORD_MIN_LENGTH,
        invitationRequired: (await registrationModeOf(deps, details)).mode === 'invite',
        email: values.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
        name: values.name ?? '',
        invitation: values.invitation ?? '',
        errors: values.errors ?? [],
        connectors: await connectorButtons(deps.connectors, details.uid),
      },
      status,
    );
  };

  const renderCheck = (ctx: Context, details: InteractionDetails, flowId: string, email: string, extra: { error?: string; notice?: string } = {}, status = 200) => {
    pages.render(
      ctx,
      'verify-code',
      {
        title: message('page.check_email.title'),
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

  const readCode = (ctx: Context, details: InteractionDetails) => readCodeForm(ctx, (flow) => renderCheck(ctx, details, flow, '', { error: message('page.code.invalid') }, FORM_REFUSED));

  router.get('/:uid/register', async (ctx) => renderForm(ctx, await interaction(ctx, false)));

  router.post('/:uid/register', form, async (ctx) => {
    const details = await interaction(ctx, true);
    const posted = readForm(ctx, registrationForm);
    if (!posted.ok) {
      const { email, name, invitation } = posted.values;
      return renderForm(ctx, details, { email, name, invitation, errors: listedFieldErrors(posted.fieldErrors, registrationLabels) }, FORM_REFUSED);
    }
    const input = posted.data;
    try {
      await deps.registrationThrottle.consume(ctx.ip, input.email);
      const { flowId, email } = await registration.register({
        email: input.email,
        password: input.password,
        name: input.name,
        invitation: input.invitation,
        tenant: (await registrationModeOf(deps, details)).tenant,
        interactionUid: details.uid,
        ip: ctx.ip,
        locale: typeof details.params.ui_locales === 'string' ? details.params.ui_locales.split(' ')[0] : undefined,
      });
      return renderCheck(ctx, details, flowId, email);
    } catch (error) {
      const values = { email: input.email, name: input.name, invitation: input.invitation };
      if (isKeyholdError(error, 'rate_limited')) {
        setErrorHeaders(ctx, error);
        return renderForm(ctx, details, { ...values, errors: [message('page.register.too_many_attempts')] }, 429);
      }
      if (!isKeyholdError(error, ...FORM_ERRORS)) throw error;
      return renderForm(ctx, details, { ...values, errors: formErrors(error) }, 400);
    }
  });

  router.post('/:uid/register/confirm', form, async (ctx) => {
    const details = await interaction(ctx, true);
    const posted = readCode(ctx, details);
    if (!posted) return;
    const { flow, code } = posted;
    let accountId: string;
    try {
      ({ account: { id: accountId } } = await registration.complete({ flowId: flow, code, interactionUid: details.uid }, ctx.ip));
    } catch (error) {
      if (isKeyholdError(error, 'invalid_code')) return renderCheck(ctx, details, flow, '', { error: message('page.code.invalid') }, 400);
      if (isKeyholdError(error, 'email_taken')) {
        return pages.message(ctx, 'page.already_registered', { status: 409, link: { href: `/interaction/${details.uid}?mode=login`, label: 'page.link.sign_in' } });
      }
      throw error;
    }
    return pipeline.continueAs(ctx, details, accountId, passwordMethod);
  });

  router.post('/:uid/register/resend', form, async (ctx) => {
    const details = await interaction(ctx, true);
    const posted = readCode(ctx, details);
    if (!posted) return;
    const { flow } = posted;
    const outcome = await registration.resend(flow, details.uid);
    return renderCheck(ctx, details, flow, '', { notice: message(outcome === 'sent' ? 'page.code.sent' : 'page.code.wait') }, outcome === 'sent' ? 200 : 429);
  });
}
