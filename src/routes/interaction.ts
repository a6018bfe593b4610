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
import type { Account, AccountService } from '#src/services/accounts.ts';
import { standardClaims } from '#src/services/claims.ts';
import type { EmailOwnershipService } from '#src/services/email-ownership.ts';
import { FlowError } from '#src/services/flows.ts';
import type { LoginThrottle, PasswordAttempt } from '#src/services/login-throttle.ts';
import { RateLimitedError } from '#src/services/rate-limits.ts';
import { setRateLimitHeaders } from '#src/middleware/rate-limit.ts';
import type { InteractionDetails, PageKit } from '#src/routes/page-kit.ts';
import { singleLine, singleLineText } from '#src/text-input.ts';

export interface InteractionDependencies {
  config: Config;
  engine: EngineHost;
  accounts: AccountService;
  emailOwnership: EmailOwnershipService;
  loginThrottle: LoginThrottle;
  pages: PageKit;
}

const INVALID_CREDENTIALS = 'Invalid email or password.';

const scopeDescriptions: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name and profile',
  email: 'See your email address',
  address: 'See your address',
  phone: 'See your phone number',
  offline_access: 'Stay signed in when you are not using it',
  roles: 'See your roles, tier and organisation',
};

// Claims a client may ask for one by one with the `claims` parameter (OIDC Core 5.5).
const claimDescriptions: Record<string, string> = {
  name: 'Your name',
  given_name: 'Your given name',
  family_name: 'Your family name',
  middle_name: 'Your middle name',
  nickname: 'Your nickname',
  preferred_username: 'Your preferred username',
  profile: 'Your profile page',
  picture: 'Your picture',
  website: 'Your website',
  gender: 'Your gender',
  birthdate: 'Your birthdate',
  zoneinfo: 'Your time zone',
  locale: 'Your language and region',
  updated_at: 'When your profile last changed',
  email: 'Your email address',
  email_verified: 'Whether your email address is verified',
  address: 'Your address',
  phone_number: 'Your phone number',
  phone_number_verified: 'Whether your phone number is verified',
  roles: 'Your roles',
  tier: 'Your tier',
  tenant: 'Your organisation',
};

const loginForm = z.object({
  email: singleLineText(320).default(''),
  password: z.string().max(4096).default(''),
});

const codeForm = z.object({
  flow: singleLineText(64).default(''),
  code: singleLine(z.string().trim().max(32)).default(''),
});

/** The interaction result that signs an account in with its password. */
export function passwordLogin(account: Account): InteractionResults {
  // `create` resolves a prompt=create request as well (registration ends signed in).
  return { login: { accountId: account.id, amr: ['pwd'], acr: ACR_PASSWORD, remember: true }, create: {} };
}

export function interactionRoutes(deps: InteractionDependencies): Router {
  const { engine, pages, config } = deps;
  const router = new Router({ prefix: '/interaction' });
  const form = formBody(config.BODY_LIMIT);
  const purpose = (uid: string) => `interaction:${uid}`;

  const clientOf = async (details: InteractionDetails) => engine.provider.Client.find(String(details.params.client_id));

  const renderLogin = async (ctx: Context, details: InteractionDetails, extra: { error?: string; email?: string; status?: number } = {}) => {
    const client = await clientOf(details);
    pages.render(
      ctx,
      'login',
      {
        title: 'Sign in',
        clientName: client?.clientName ?? client?.clientId,
        action: `/interaction/${details.uid}/login`,
        abortAction: `/interaction/${details.uid}/abort`,
        registerUrl: config.REGISTRATION === 'closed' ? undefined : `/interaction/${details.uid}/register`,
        recoveryUrl: `/recovery?interaction=${encodeURIComponent(details.uid)}`,
        csrf: pages.csrfToken(ctx, purpose(details.uid)),
        email: extra.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
        error: extra.error,
      },
      extra.status,
    );
  };

  const renderEmailCheck = (ctx: Context, details: InteractionDetails, flowId: string, email: string, extra: { error?: string; notice?: string; status?: number } = {}) => {
    pages.render(
      ctx,
      'verify-code',
      {
        title: 'Confirm your email address',
        email,
        flowId,
        action: `/interaction/${details.uid}/verify-email`,
        resendAction: `/interaction/${details.uid}/verify-email/resend`,
        csrf: pages.csrfToken(ctx, purpose(details.uid)),
        error: extra.error,
        notice: extra.notice,
      },
      extra.status,
    );
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

  // prompt=create shows registration first, but its page links to the login form too.
  const LOGIN_PROMPTS = ['login', 'create'];

  const postedForm = async (ctx: Context, expectedPrompts: string[]) => {
    const details = await pages.loadInteraction(ctx);
    pages.assertCsrf(ctx, purpose(details.uid));
    if (!expectedPrompts.includes(details.prompt.name)) throw new KeyholdError('invalid_request', 'This step is already complete. Return to the application and sign in again.');
    return details;
  };

  router.get('/:uid', async (ctx) => {
    const details = await pages.loadInteraction(ctx);
    if (details.prompt.name === 'create' && ctx.query.mode !== 'login') {
      ctx.redirect(`/interaction/${details.uid}/register`);
      return;
    }
    if (LOGIN_PROMPTS.includes(details.prompt.name)) return renderLogin(ctx, details);
    if (details.prompt.name === 'consent') {
      const client = await clientOf(details);
      if (client?.['first_party'] === true) return pages.finishInteraction(ctx, await grantConsent(details), true);
      // Exactly what the grant will hold: the engine computed the missing resource scopes
      // from what this client and account may get (getResourceServerInfo), not from the request.
      const promptDetails = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      const account = details.session?.accountId ? await deps.accounts.findById(details.session.accountId) : undefined;
      const scopes = promptDetails.missingOIDCScope ?? [];
      // A claim a listed scope already releases (email with scope email) is not asked twice.
      const coveredByScopes = new Set(scopes.flatMap((scope) => (scope in standardClaims ? (standardClaims[scope as keyof typeof standardClaims] ?? []) : [])));
      const claims = (promptDetails.missingOIDCClaims ?? []).filter((claim) => !coveredByScopes.has(claim));
      return pages.render(ctx, 'consent', {
        title: 'Allow access?',
        clientName: client?.clientName ?? client?.clientId,
        email: account?.email,
        scopes: scopes.filter((scope) => scope !== 'openid' || (scopes.length === 1 && claims.length === 0)).map((scope) => ({ scope, description: scopeDescriptions[scope] ?? scope })),
        claims: claims.map((claim) => ({ claim, description: claimDescriptions[claim] ?? claim })),
        resources: Object.entries(promptDetails.missingResourceScopes ?? {})
          .filter(([, resourceScopes]) => resourceScopes.length > 0)
          .map(([identifier, resourceScopes]) => ({ identifier, scopes: resourceScopes })),
        action: `/interaction/${details.uid}/confirm`,
        abortAction: `/interaction/${details.uid}/abort`,
        csrf: pages.csrfToken(ctx, purpose(details.uid)),
      });
    }
    throw new KeyholdError('invalid_request', `unsupported interaction prompt ${details.prompt.name}`);
  });

  router.post('/:uid/login', form, async (ctx) => {
    const details = await postedForm(ctx, LOGIN_PROMPTS);
    const input = loginForm.safeParse(ctx.request.body ?? {});
    if (!input.success) return renderLogin(ctx, details, { error: INVALID_CREDENTIALS, status: 400 });
    const { email, password } = input.data;

    // Counted before the password is checked, so that a burst cannot outrun the limit.
    let attempt: PasswordAttempt;
    try {
      attempt = await deps.loginThrottle.begin(ctx.ip, email);
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      setRateLimitHeaders(ctx, error);
      return renderLogin(ctx, details, { email, status: 429, error: `Too many failed attempts. Try again in ${Math.ceil(error.retryAfterSeconds / 60)} minute(s).` });
    }

    const account = await deps.accounts.authenticate(email, password);
    if (!account) {
      ctx.state.log.info({ event: 'login.failed', clientId: details.params.client_id }, 'login failed');
      return renderLogin(ctx, details, { email, error: INVALID_CREDENTIALS, status: 401 });
    }
    await attempt.succeeded();
    if (config.REQUIRE_VERIFIED_EMAIL && !account.emailVerified) {
      // Only someone who knows the password sees this step.
      const { flowId } = await deps.emailOwnership.startVerification(account.id, details.uid);
      return renderEmailCheck(ctx, details, flowId, account.email);
    }
    ctx.state.log.info({ event: 'login.success', accountId: account.id, clientId: details.params.client_id }, 'login succeeded');
    return pages.finishInteraction(ctx, passwordLogin(account), false);
  });

  router.post('/:uid/verify-email', form, async (ctx) => {
    const details = await postedForm(ctx, LOGIN_PROMPTS);
    const { flow, code } = codeForm.parse(ctx.request.body ?? {});
    try {
      const verified = await deps.emailOwnership.completeVerification({ flowId: flow, code, interactionUid: details.uid });
      const account = await deps.accounts.findById(verified.accountId!);
      if (!account?.active) throw new FlowError('invalid');
      return pages.finishInteraction(ctx, passwordLogin(account), false);
    } catch (error) {
      if (!(error instanceof FlowError)) throw error;
      return renderEmailCheck(ctx, details, flow, '', { error: 'That code is not valid or has expired. Check the latest email, or send a new code.', status: 400 });
    }
  });

  router.post('/:uid/verify-email/resend', form, async (ctx) => {
    const details = await postedForm(ctx, LOGIN_PROMPTS);
    const { flow } = codeForm.parse(ctx.request.body ?? {});
    const outcome = await deps.emailOwnership.resendVerification(flow);
    return renderEmailCheck(ctx, details, flow, '', {
      notice: outcome === 'sent' ? 'We sent a new code.' : 'Please wait a minute before asking for another code.',
      status: outcome === 'sent' ? 200 : 429,
    });
  });

  router.post('/:uid/confirm', form, async (ctx) => {
    const details = await postedForm(ctx, ['consent']);
    return pages.finishInteraction(ctx, await grantConsent(details), true);
  });

  router.post('/:uid/abort', form, async (ctx) => {
    const details = await pages.loadInteraction(ctx);
    pages.assertCsrf(ctx, purpose(details.uid));
    return pages.finishInteraction(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' }, false);
  });

  return router;
}
