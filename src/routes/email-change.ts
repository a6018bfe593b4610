// The link mailed to the old address when its account's email address changes: GET shows
// what it will do, a CSRF-protected POST does it, so a mail scanner opening the link changes
// nothing. Before the change is confirmed it cancels it; afterwards it undoes it.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '#src/config.ts';
import { isKeyholdError } from '#src/errors.ts';
import { readForm } from '#src/http/form.ts';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import type { PageKit } from '#src/routes/page-kit.ts';
import type { EmailOwnershipService } from '#src/services/email-ownership.ts';
import { flowFailureOf } from '#src/services/flows.ts';
import { linkToken } from '#src/text-input.ts';

const tokenField = linkToken;
// The confirming POST (read after its CSRF check); a token that cannot be one is an invalid link.
const cancelForm = z.object({ token: tokenField });
const CSRF_PURPOSE = 'email-change-cancel';
const PATH = '/email-change/cancel';
const chooseNewPassword = { href: '/recovery', label: 'page.link.choose_password' } as const;

export function emailChangeRoutes(deps: { config: Config; pages: PageKit; emailOwnership: EmailOwnershipService }): Router {
  const { pages } = deps;
  const router = new Router();

  const refused = (ctx: Context, error: unknown) => {
    const reason = flowFailureOf(error);
    if (reason) {
      const gone = reason === 'expired' || reason === 'used';
      return pages.message(ctx, gone ? 'page.cancel_link.gone' : 'page.cancel_link.invalid', { status: gone ? 410 : 400 });
    }
    if (isKeyholdError(error, 'email_taken')) return pages.message(ctx, 'page.address_in_use', { status: 409 });
    throw error;
  };

  router.get(PATH, async (ctx) => {
    const token = tokenField.catch('').parse(ctx.query.token);
    try {
      const flow = await deps.emailOwnership.peekCancellation(token);
      pages.render(ctx, 'cancel-email-change', {
        title: message('page.cancel_email_change.title'),
        lead: message('page.cancel_email_change.lead', { email: String(flow.payload.toEmail) }),
        button: message('page.cancel_email_change.button'),
        token,
        action: PATH,
        csrf: pages.csrfToken(ctx, CSRF_PURPOSE),
      });
    } catch (error) {
      refused(ctx, error);
    }
  });

  router.post(PATH, formBody(deps.config.BODY_LIMIT), async (ctx) => {
    pages.assertCsrf(ctx, CSRF_PURPOSE);
    const posted = readForm(ctx, cancelForm);
    if (!posted.ok) return pages.message(ctx, 'page.cancel_link.invalid', { status: 400 });
    const { token } = posted.data;
    try {
      const result = await deps.emailOwnership.cancelEmailChange(token, ctx.ip);
      if (result.outcome === 'cancelled') {
        return pages.message(ctx, 'page.email_change_cancelled', { link: chooseNewPassword });
      }
      return pages.message(ctx, 'page.email_restored', { params: { email: result.email }, link: chooseNewPassword });
    } catch (error) {
      refused(ctx, error);
    }
  });

  return router;
}
