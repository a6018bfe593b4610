// What every HTML-form route needs: CSRF tokens bound to the browser and the form, the
// engine's interaction for this browser, and rendering with the right status.
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import type { Config } from '#src/config.ts';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { message, type MessageKey, type MessageParams } from '#src/messages/index.ts';
import { applyInteractionLocales } from '#src/middleware/presentation.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import { browserSession, type EngineSession } from '#src/oidc/sessions.ts';
import type { Account, AccountService } from '#src/services/accounts.ts';
import type { CsrfService } from '#src/services/csrf.ts';
import type { PasswordViolation } from '#src/services/password-policy.ts';
import { unavailableDependency } from '#src/stores/dependency-failure.ts';
import { renderView } from '#src/views.ts';

const CSRF_COOKIE = 'keyhold_csrf';

export type InteractionDetails = Awaited<ReturnType<EngineHost['provider']['interactionDetails']>>;

/** A one-off page in the catalogue: `<key>.title` and `<key>.message`. */
export type PageMessageKey = { [K in MessageKey]: K extends `${infer Page}.title` ? (`${Page}.message` extends MessageKey ? Page : never) : never }[MessageKey];

/** A link onwards, its label from the catalogue. */
export interface PageLink {
  href: string;
  label: MessageKey;
}

/** What a form shows for a refusal it handles: each rule a rejected password breaks, else the error's text. */
export function formErrors(error: KeyholdError): string[] {
  if (isKeyholdError(error, 'password_rejected')) return (error.fields.violations as PasswordViolation[]).map((violation) => violation.message);
  return [error.message];
}

export interface PageKit {
  csrfToken(ctx: Context, purpose: string): string;
  assertCsrf(ctx: Context, purpose: string): void;
  /** The interaction named by ctx.params.uid, bound to this browser's cookie. */
  loadInteraction(ctx: Context): Promise<InteractionDetails>;
  /** This browser's interaction with `uid`, or undefined (expired, another browser). */
  findInteraction(ctx: Context, uid: string): Promise<InteractionDetails | undefined>;
  finishInteraction(ctx: Context, result: InteractionResults, mergeWithLastSubmission: boolean): Promise<void>;
  render(ctx: Context, view: string, context: Record<string, unknown>, status?: number): void;
  /** A one-off page from the catalogue: a title, a message (with `params`), and optionally a link onwards. */
  message(ctx: Context, page: PageMessageKey, options?: { status?: number; params?: MessageParams; link?: PageLink }): void;
}

/**
 * This browser's Keyhold session and its account, for the pages of someone signed in:
 * unauthorized (sign in first) without a session, or when its account is gone or disabled.
 */
export async function signedInBrowser(deps: { engine: Pick<EngineHost, 'provider'>; accounts: Pick<AccountService, 'findById'> }, ctx: Context): Promise<{ session: EngineSession; account: Account }> {
  const session = await browserSession(deps.engine.provider, ctx);
  const account = session?.accountId ? await deps.accounts.findById(session.accountId) : undefined;
  if (!session || !account?.active) throw new KeyholdError('unauthorized', { key: 'error.unauthorized.sign_in_first' });
  return { session, account };
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
      if (details.uid !== uid) return undefined;
      applyInteractionLocales(ctx, details.params.ui_locales, deps.config.secureCookies);
      return details;
    } catch (error) {
      // No interaction, or an expired one, is the page's "expired" answer; Redis (or the
      // database) being away is not, and answers 503 (src/middleware/errors.ts).
      if (unavailableDependency(error)) throw error;
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
        throw new KeyholdError('csrf_failed');
      }
    },
    findInteraction,
    async loadInteraction(ctx) {
      const details = await findInteraction(ctx, String(ctx.params.uid));
      if (!details) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.interaction_expired' });
      return details;
    },
    async finishInteraction(ctx, result, mergeWithLastSubmission) {
      const redirectTo = await engine.provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission });
      ctx.redirect(redirectTo);
      ctx.status = 303;
    },
    render,
    message(ctx, page, options = {}) {
      const link = options.link ? { href: options.link.href, label: message(options.link.label) } : undefined;
      render(ctx, 'message', { title: message(`${page}.title`), message: message(`${page}.message`, options.params), link }, options.status);
    },
  };
}
