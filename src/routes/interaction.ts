// Login and consent pages for the engine's interactions. Plain HTML forms (no JavaScript),
// each with a CSRF token bound to the interaction. Failed logins get one message whatever
// the cause, so the page never tells whether an account exists.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import type { Config } from '#src/config.ts';
import { KeyholdError } from '#src/errors.ts';
import { formBody } from '#src/middleware/body.ts';
import { ACR_PASSWORD } from '#src/oidc/configuration.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import type { AccountService } from '#src/services/accounts.ts';
import type { CsrfService } from '#src/services/csrf.ts';
import type { LoginThrottle } from '#src/services/login-throttle.ts';
import { renderView } from '#src/views.ts';

export interface InteractionDependencies {
  config: Config;
  engine: EngineHost;
  accounts: AccountService;
  csrf: CsrfService;
  loginThrottle: LoginThrottle;
}

const CSRF_COOKIE = 'keyhold_csrf';
const INVALID_CREDENTIALS = 'Invalid email or password.';

const scopeDescriptions: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name and profile',
  email: 'See your email address',
  address: 'See your address',
  phone: 'See your phone number',
  offline_access: 'Stay signed in when you are not using it',
};

const loginForm = z.object({
  email: z.string().max(320).default(''),
  password: z.string().max(4096).default(''),
  csrf: z.string().max(256).optional(),
});

type InteractionDetails = Awaited<ReturnType<EngineHost['provider']['interactionDetails']>>;

export function interactionRoutes(deps: InteractionDependencies): Router {
  const { engine, csrf } = deps;
  const router = new Router({ prefix: '/interaction' });
  const form = formBody(deps.config.BODY_LIMIT);

  const browserSecret = (ctx: Context): string => {
    let secret = ctx.cookies.get(CSRF_COOKIE);
    if (!secret || secret.length > 64) {
      secret = csrf.newBrowserSecret();
      ctx.cookies.set(CSRF_COOKIE, secret, { httpOnly: true, sameSite: 'lax', secure: deps.config.secureCookies, overwrite: true });
    }
    return secret;
  };

  const assertCsrf = (ctx: Context, uid: string) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (!csrf.verify(ctx.cookies.get(CSRF_COOKIE), `interaction:${uid}`, body.csrf)) {
      throw new KeyholdError('csrf_failed', 'This form has expired or was not sent from this site. Go back and try again.');
    }
  };

  const loadDetails = async (ctx: Context): Promise<InteractionDetails> => {
    try {
      const details = await engine.provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== ctx.params.uid) throw new Error('interaction mismatch');
      return details;
    } catch {
      throw new KeyholdError('invalid_request', 'This sign-in request has expired or was started in another browser. Return to the application and sign in again.');
    }
  };

  const finish = async (ctx: Context, result: InteractionResults, mergeWithLastSubmission: boolean) => {
    const redirectTo = await engine.provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission });
    ctx.redirect(redirectTo);
    ctx.status = 303;
  };

  const clientOf = async (details: InteractionDetails) => engine.provider.Client.find(String(details.params.client_id));

  const renderLogin = async (ctx: Context, details: InteractionDetails, extra: { error?: string; email?: string; status?: number } = {}) => {
    const client = await clientOf(details);
    ctx.status = extra.status ?? 200;
    ctx.type = 'html';
    ctx.body = renderView('login', {
      title: 'Sign in',
      clientName: client?.clientName ?? client?.clientId,
      action: `/interaction/${details.uid}/login`,
      abortAction: `/interaction/${details.uid}/abort`,
      csrf: csrf.tokenFor(browserSecret(ctx), `interaction:${details.uid}`),
      email: extra.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
      error: extra.error,
    });
  };

  const grantConsent = async (details: InteractionDetails): Promise<InteractionResults> => {
    const { provider } = engine;
    const promptDetails = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
    if (!grant) throw new KeyholdError('invalid_request', 'This authorization has been revoked. Return to the application and sign in again.');
    if (promptDetails.missingOIDCScope) grant.addOIDCScope(promptDetails.missingOIDCScope.join(' '));
    if (promptDetails.missingOIDCClaims) grant.addOIDCClaims(promptDetails.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(promptDetails.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return { consent: details.grantId ? {} : { grantId } };
  };

  router.get('/:uid', async (ctx) => {
    const details = await loadDetails(ctx);
    ctx.set('Cache-Control', 'no-store');
    if (details.prompt.name === 'login') return renderLogin(ctx, details);
    if (details.prompt.name === 'consent') {
      const client = await clientOf(details);
      if (client?.['first_party'] === true) return finish(ctx, await grantConsent(details), true);
      const promptDetails = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const account = details.session?.accountId ? await deps.accounts.findById(details.session.accountId) : undefined;
      ctx.type = 'html';
      ctx.body = renderView('consent', {
        title: 'Allow access?',
        clientName: client?.clientName ?? client?.clientId,
        email: account?.email,
        scopes: (promptDetails.missingOIDCScope ?? []).filter((scope) => scope !== 'openid' || promptDetails.missingOIDCScope!.length === 1).map((scope) => ({ scope, description: scopeDescriptions[scope] ?? scope })),
        resources: Object.entries(promptDetails.missingResourceScopes ?? {}).map(([identifier, scopes]) => ({ identifier, scopes })),
        action: `/interaction/${details.uid}/confirm`,
        abortAction: `/interaction/${details.uid}/abort`,
        csrf: csrf.tokenFor(browserSecret(ctx), `interaction:${details.uid}`),
      });
      return;
    }
    throw new KeyholdError('invalid_request', `unsupported interaction prompt ${details.prompt.name}`);
  });

  router.post('/:uid/login', form, async (ctx) => {
    const details = await loadDetails(ctx);
    assertCsrf(ctx, details.uid);
    if (details.prompt.name !== 'login') throw new KeyholdError('invalid_request', 'This sign-in step is already complete.');
    const input = loginForm.safeParse(ctx.request.body ?? {});
    if (!input.success) return renderLogin(ctx, details, { error: INVALID_CREDENTIALS, status: 400 });
    const { email, password } = input.data;

    const retryAfter = await deps.loginThrottle.retryAfter(ctx.ip, email);
    if (retryAfter > 0) {
      ctx.set('Retry-After', String(retryAfter));
      return renderLogin(ctx, details, { email, status: 429, error: `Too many failed attempts. Try again in ${Math.ceil(retryAfter / 60)} minute(s).` });
    }

    const account = await deps.accounts.authenticate(email, password);
    if (!account) {
      await deps.loginThrottle.recordFailure(ctx.ip, email);
      ctx.state.log.info({ event: 'login.failed', clientId: details.params.client_id }, 'login failed');
      return renderLogin(ctx, details, { email, error: INVALID_CREDENTIALS, status: 401 });
    }
    await deps.loginThrottle.recordSuccess(ctx.ip, email);
    ctx.state.log.info({ event: 'login.success', accountId: account.id, clientId: details.params.client_id }, 'login succeeded');
    return finish(ctx, { login: { accountId: account.id, amr: ['pwd'], acr: ACR_PASSWORD, remember: true } }, false);
  });

  router.post('/:uid/confirm', form, async (ctx) => {
    const details = await loadDetails(ctx);
    assertCsrf(ctx, details.uid);
    if (details.prompt.name !== 'consent') throw new KeyholdError('invalid_request', 'There is nothing to consent to in this step.');
    return finish(ctx, await grantConsent(details), true);
  });

  router.post('/:uid/abort', form, async (ctx) => {
    const details = await loadDetails(ctx);
    assertCsrf(ctx, details.uid);
    return finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' }, false);
  });

  return router;
}
