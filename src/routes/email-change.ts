// The link mailed to the old address when its account's email address changes: GET shows
// what it will do, a CSRF-protected POST does it, so a mail scanner opening the link changes
// nothing. Before the change is confirmed it cancels it; afterwards it undoes it.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '#src/config.ts';
import { formBody } from '#src/middleware/body.ts';
import type { PageKit } from '#src/routes/page-kit.ts';
import { AccountError } from '#src/services/accounts.ts';
import type { EmailOwnershipService } from '#src/services/email-ownership.ts';
import { FlowError } from '#src/services/flows.ts';

const tokenField = z.string().trim().max(256).catch('');
const CSRF_PURPOSE = 'email-change-cancel';
const PATH = '/email-change/cancel';

export function emailChangeRoutes(deps: { config: Config; pages: PageKit; emailOwnership: EmailOwnershipService }): Router {
  const { pages } = deps;
  const router = new Router();

  const refused = (ctx: Context, error: unknown) => {
    if (error instanceof FlowError) {
      const gone = error.reason === 'expired' || error.reason === 'used';
      return pages.message(ctx, gone ? 'Link no longer valid' : 'Link not valid', gone ? 'This link has expired or was already used.' : 'This link is not valid, or the account no longer uses this address.', { status: gone ? 410 : 400 });
    }
    if (error instanceof AccountError && error.code === 'email_taken') {
      return pages.message(ctx, 'Address in use', 'This address now belongs to another account, so it cannot be restored. Contact support.', { status: 409 });
    }
    throw error;
  };

  router.get(PATH, async (ctx) => {
    const token = tokenField.parse(ctx.query.token);
    try {
      const flow = await deps.emailOwnership.peekCancellation(token);
      pages.render(ctx, 'cancel-email-change', {
        title: 'Cancel the email change',
        lead: `Stop the change of your account's email address to ${String(flow.payload.toEmail)}? If it already happened, this address comes back, you are signed out everywhere and you choose a new password.`,
        button: 'Cancel the change',
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
    const token = tokenField.parse((ctx.request.body as Record<string, unknown>).token);
    try {
      const result = await deps.emailOwnership.cancelEmailChange(token, ctx.ip);
      if (result.outcome === 'cancelled') {
        return pages.message(ctx, 'Email change cancelled', 'The change was cancelled and you were signed out everywhere. Whoever asked for it knew your password or was signed in: choose a new password now.', {
          link: { href: '/recovery', label: 'Choose a new password' },
        });
      }
      return pages.message(ctx, 'Email address restored', `Your account uses ${result.email} again. You were signed out everywhere; choose a new password to sign in.`, {
        link: { href: '/recovery', label: 'Choose a new password' },
      });
    } catch (error) {
      refused(ctx, error);
    }
  });

  return router;
}
