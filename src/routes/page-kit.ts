// What every HTML-form route needs: CSRF tokens bound to the browser and the form, the
// engine's interaction for this browser, and rendering with the right status.
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import type { Config } from '#src/config.ts';
import { KeyholdError } from '#src/errors.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import type { CsrfService } from '#src/services/csrf.ts';
import { renderView } from '#src/views.ts';

const CSRF_COOKIE = 'keyhold_csrf';

export type InteractionDetails = Awaited<ReturnType<EngineHost['provider']['interactionDetails']>>;

export interface PageKit {
  csrfToken(ctx: Context, purpose: string): string;
  assertCsrf(ctx: Context, purpose: string): void;
  /** The interaction named by ctx.params.uid, bound to this browser's cookie. */
  loadInteraction(ctx: Context): Promise<InteractionDetails>;
  /** This browser's interaction with `uid`, or undefined (expired, another browser). */
  findInteraction(ctx: Context, uid: string): Promise<InteractionDetails | undefined>;
  finishInteraction(ctx: Context, result: InteractionResults, mergeWithLastSubmission: boolean): Promise<void>;
  render(ctx: Context, view: string, context: Record<string, unknown>, status?: number): void;
  /** A one-off page: a title, a message, and optionally a link onwards. */
  message(ctx: Context, title: string, message: string, options?: { status?: number; link?: { href: string; label: string } }): void;
}

export function createPageKit(deps: { config: Config; csrf: CsrfService; engine: EngineHost }): PageKit {
  const { csrf, engine } = deps;

  const browserSecret = (ctx: Context): string => {
    let secret = ctx.cookies.get(CSRF_COOKIE);
    if (!secret || secret.length > 64) {
      secret = csrf.newBrowserSecret();
      ctx.cookies.set(CSRF_COOKIE, secret, { httpOnly: true, sameSite: 'lax', secure: deps.config.secureCookies, overwrite: true });
    }
    return secret;
  };

  const findInteraction = async (ctx: Context, uid: string) => {
    try {
      const details = await engine.provider.interactionDetails(ctx.req, ctx.res);
      return details.uid === uid ? details : undefined;
    } catch {
      return undefined;
    }
  };

  const render: PageKit['render'] = (ctx, view, context, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = renderView(view, context);
  };

  return {
    csrfToken: (ctx, purpose) => csrf.tokenFor(browserSecret(ctx), purpose),
    assertCsrf(ctx, purpose) {
      const body = (ctx.request.body ?? {}) as Record<string, unknown>;
      if (!csrf.verify(ctx.cookies.get(CSRF_COOKIE), purpose, body.csrf)) {
        throw new KeyholdError('csrf_failed', 'This form has expired or was not sent from this site. Go back and try again.');
      }
    },
    findInteraction,
    async loadInteraction(ctx) {
      const details = await findInteraction(ctx, String(ctx.params.uid));
      if (!details) throw new KeyholdError('invalid_request', 'This sign-in request has expired or was started in another browser. Return to the application and sign in again.');
      return details;
    },
    async finishInteraction(ctx, result, mergeWithLastSubmission) {
      const redirectTo = await engine.provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission });
      ctx.redirect(redirectTo);
      ctx.status = 303;
    },
    render,
    message(ctx, title, message, options = {}) {
      render(ctx, 'message', { title, message, link: options.link }, options.status);
    },
  };
}
