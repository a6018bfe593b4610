// The sessions page of the account signed in in this browser: each browser session with its
// device, address and times, this one marked; end one, or every other. The rules are the
// session service's, as for the Account API's /api/account/sessions (ending a session ends
// every grant given from it, with its refresh tokens). An id that is not one of this
// account's sessions is not found, whoever's it is.
//
//   GET  /account/sessions                the page
//   POST /account/sessions/revoke         session
//   POST /account/sessions/revoke-others
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '#src/config.ts';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { readForm } from '#src/http/form.ts';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import { browserSession } from '#src/oidc/sessions.ts';
import { signedInBrowser, type PageKit } from '#src/routes/page-kit.ts';
import type { AccountService } from '#src/services/accounts.ts';
import type { SessionService } from '#src/services/sessions.ts';
import { singleLineText } from '#src/text-input.ts';

export interface SessionsPageDependencies {
  config: Config;
  engine: EngineHost;
  pages: PageKit;
  accounts: Pick<AccountService, 'findById'>;
  sessions: SessionService;
}

const PURPOSE = 'sessions';
const BASE = '/account/sessions';
const revokeForm = z.object({ session: singleLineText(128).default('') });

export function sessionsPageRoutes(deps: SessionsPageDependencies): Router {
  const { pages, sessions } = deps;
  const router = new Router();
  const form = formBody(deps.config.BODY_LIMIT);

  /** The account signed in in this browser, and the engine's id of this browser's session. */
  const signedIn = async (ctx: Context): Promise<{ accountId: string; sessionId: string }> => {
    const { session, account } = await signedInBrowser(deps, ctx);
    return { accountId: account.id, sessionId: session.id };
  };

  const renderPage = async (ctx: Context, who: { accountId: string; sessionId: string }, extra: { notice?: string; error?: string; status?: number } = {}) => {
    const listed = await sessions.list(who.accountId, who.sessionId);
    pages.render(
      ctx,
      'sessions',
      {
        title: message('page.sessions.title'),
        sessions: listed.map((session) => ({ ...session, device: session.device ?? message('page.sessions.unknown_device') })),
        others: listed.filter((session) => !session.current).length,
        revokeAction: `${BASE}/revoke`,
        revokeOthersAction: `${BASE}/revoke-others`,
        securityUrl: '/account/security',
        csrf: pages.csrfToken(ctx, PURPOSE),
        ...extra,
      },
      extra.status,
    );
  };

  router.get(BASE, async (ctx) => renderPage(ctx, await signedIn(ctx)));

  router.post(`${BASE}/revoke`, form, async (ctx) => {
    pages.assertCsrf(ctx, PURPOSE);
    const who = await signedIn(ctx);
    const posted = readForm(ctx, revokeForm);
    try {
      if (!posted.ok || !posted.data.session) throw new KeyholdError('not_found');
      await sessions.revoke(who.accountId, posted.data.session);
    } catch (error) {
      if (!isKeyholdError(error, 'not_found')) throw error;
      return renderPage(ctx, who, { error: message('page.sessions.not_found'), status: 404 });
    }
    // Ending this browser's own session signs it out here too.
    if ((await browserSession(deps.engine.provider, ctx)) === undefined) {
      return pages.message(ctx, 'page.sessions.signed_out');
    }
    return renderPage(ctx, who, { notice: message('page.sessions.revoked') });
  });

  router.post(`${BASE}/revoke-others`, form, async (ctx) => {
    pages.assertCsrf(ctx, PURPOSE);
    const who = await signedIn(ctx);
    const revoked = await sessions.revokeOthers(who.accountId, who.sessionId);
    return renderPage(ctx, who, { notice: message('page.sessions.revoked_others', { count: String(revoked) }) });
  });

  return router;
}
