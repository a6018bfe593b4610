// The Keyhold side of a federated sign-in, inside the interaction (whose cookie is scoped
// to /interaction/:uid):
//   POST /interaction/:uid/federation/start  a connector's button on the login or
//                                            registration page (CSRF-checked)
//   GET  /interaction/:uid/federation        back from upstream: sign in, create the
//                                            account, or ask to prove the existing one
//   POST /interaction/:uid/federation/link   that proof: the existing account's password
// Every way in ends in the sign-in pipeline (pipeline.verified), so email verification,
// second factors and consent still follow.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { readForm } from '#src/http/form.ts';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import { setErrorHeaders } from '#src/middleware/errors.ts';
import { requestOrigin } from '#src/middleware/request-context.ts';
import { federationFailed, sessionOf, type FederationDependencies, type FederationState } from '#src/routes/federation/shared.ts';
import type { SignInPipeline } from '#src/routes/interaction/pipeline.ts';
import { clientOf, clientTenantOf, interactionPurpose, LOGIN_PROMPTS, postedForm } from '#src/routes/interaction/shared.ts';
import type { InteractionDetails } from '#src/routes/page-kit.ts';
import { federatedMethodWith, upstreamMfaCounts, upstreamMfaMethod } from '#src/services/authentication/methods/federated.ts';
import type { Connector } from '#src/services/federation/connectors.ts';
import { singleLineText } from '#src/text-input.ts';

const startForm = z.object({ connector: singleLineText(64) });
const linkForm = z.object({ password: z.string().max(4096).default('') });

export function federationInteractionRoutes(router: Router, deps: FederationDependencies, pipeline: SignInPipeline): void {
  const { pages } = deps;
  const form = formBody(deps.config.BODY_LIMIT);

  const renderLink = (ctx: Context, details: InteractionDetails, connector: Connector, email: string, extra: { error?: string; status?: number } = {}) =>
    pages.render(
      ctx,
      'link-account',
      {
        title: message('page.link_account.title'),
        provider: connector.name,
        email,
        action: `/interaction/${details.uid}/federation/link`,
        loginUrl: `/interaction/${details.uid}?mode=login`,
        recoveryUrl: `/recovery?interaction=${encodeURIComponent(details.uid)}`,
        csrf: pages.csrfToken(ctx, interactionPurpose(details.uid)),
        error: extra.error,
      },
      extra.status,
    );

  /** The federated sign-in this browser finished upstream for this interaction. */
  const finishedUpstream = async (ctx: Context, details: InteractionDetails): Promise<{ flow: FederationState & Required<Pick<FederationState, 'profile'>>; connector: Connector } | undefined> => {
    const flow = sessionOf(ctx).federation;
    if (!flow?.profile || flow.uid !== details.uid) return undefined;
    const connector = await deps.connectors.find(flow.connectorId);
    return connector ? { flow: flow as FederationState & Required<Pick<FederationState, 'profile'>>, connector } : undefined;
  };

  const signIn = async (ctx: Context, details: InteractionDetails, connector: Connector, profile: { amr: string[] }, accountId: string) => {
    sessionOf(ctx).federation = null;
    const trust = { trustUpstreamMfa: connector.trustUpstreamMfa };
    const method = federatedMethodWith(profile.amr, trust);
    if (!upstreamMfaCounts(profile.amr, trust)) return pipeline.verified(ctx, details, accountId, method);
    // A trusted upstream's second factor is recorded with the federation before the
    // pipeline's steps run, so a second-factor step finds the sign-in multi-factor already.
    // (As pipeline.verified does: a flow identified as someone else starts over.)
    const { loginFlows } = deps;
    const identified = await pipeline.identifiedFlow(details);
    if (identified && identified.accountId !== accountId) await loginFlows.end(details.uid);
    const maxAge = Number(details.params.max_age);
    const opened = await loginFlows.open(details.uid, {
      acrValues: typeof details.params.acr_values === 'string' ? details.params.acr_values : undefined,
      maxAge: details.params.max_age !== undefined && Number.isSafeInteger(maxAge) && maxAge >= 0 ? maxAge : undefined,
    });
    await loginFlows.verified(await loginFlows.verified(opened, method, accountId), upstreamMfaMethod, accountId);
    return pipeline.continueAs(ctx, details, accountId, method);
  };

  router.post('/interaction/:uid/federation/start', form, async (ctx) => {
    const details = await postedForm(pages, ctx, LOGIN_PROMPTS);
    const posted = readForm(ctx, startForm);
    const connector = posted.ok ? await deps.connectors.find(posted.data.connector) : undefined;
    if (!connector) throw new KeyholdError('unknown_connector', { params: { id: posted.ok ? posted.data.connector : '' } });
    const session = sessionOf(ctx);
    session.grant = null;
    session.federation = { uid: details.uid, connectorId: connector.id };
    ctx.status = 303;
    ctx.redirect(`/connect/${connector.id}`);
  });

  router.get('/interaction/:uid/federation', async (ctx) => {
    const details = await pages.loadInteraction(ctx);
    const finished = LOGIN_PROMPTS.includes(details.prompt.name) ? await finishedUpstream(ctx, details) : undefined;
    if (!finished) return federationFailed(ctx, deps, { uid: details.uid, reason: 'no upstream answer for this sign-in' });
    const { flow, connector } = finished;
    const resolution = await deps.federatedIdentities.resolve(connector, flow.profile, { ip: ctx.ip, tenant: clientTenantOf(await clientOf(deps.engine, details)) });
    const provider = { provider: connector.name };
    const back = { href: `/interaction/${details.uid}?mode=login`, label: 'page.link.back_to_sign_in' } as const;
    switch (resolution.kind) {
      case 'signed_in':
      case 'created':
        return signIn(ctx, details, connector, flow.profile, resolution.accountId);
      case 'locked':
        // What any failed federated sign-in gets: the page says nothing of the lock.
        return federationFailed(ctx, deps, { uid: details.uid, connectorId: connector.id, connectorName: connector.name, reason: 'account locked' });
      case 'link_required':
        // Being signed in to that very account here proves it as well as its password; not
        // while it is locked: then the password is asked, and refused as a wrong one is.
        if (details.session?.accountId === resolution.accountId && !(await deps.lockout.isLocked(resolution.accountId))) {
          await deps.federatedIdentities.link(connector, flow.profile, resolution.accountId, 'session', ctx.ip);
          return signIn(ctx, details, connector, flow.profile, resolution.accountId);
        }
        sessionOf(ctx).federation = { ...flow, linkTo: resolution.accountId };
        return renderLink(ctx, details, connector, resolution.email);
      case 'refused': {
        sessionOf(ctx).federation = null;
        const page = resolution.reason === 'email_unverified' ? 'page.federation_unverified' : resolution.reason === 'registration_closed' ? 'page.federation_closed' : 'page.federation_disabled';
        return pages.message(ctx, page, { status: 403, params: provider, link: back });
      }
    }
  });

  router.post('/interaction/:uid/federation/link', form, async (ctx) => {
    const details = await postedForm(pages, ctx, LOGIN_PROMPTS);
    const finished = await finishedUpstream(ctx, details);
    const account = finished?.flow.linkTo ? await deps.accounts.findById(finished.flow.linkTo) : undefined;
    if (!finished || !account) return federationFailed(ctx, deps, { uid: details.uid, reason: 'no account to link' });
    const { flow, connector } = finished;
    const posted = readForm(ctx, linkForm);
    const password = posted.ok ? posted.data.password : '';
    // The same limits as the login form: this page must not be a faster way to guess.
    let attempt;
    try {
      attempt = await deps.loginThrottle.begin(ctx.ip, account.email);
    } catch (error) {
      if (!isKeyholdError(error, 'rate_limited')) throw error;
      setErrorHeaders(ctx, error);
      return renderLink(ctx, details, connector, account.email, { status: 429, error: message('page.login.too_many_attempts', error.params) });
    }
    // A wrong password here counts towards the account's lockout as at the login form, and a
    // locked account's right password is refused like a wrong one (accounts.authenticate).
    const proven = await deps.accounts.authenticate(account.email, password, requestOrigin(ctx));
    if (proven?.id !== account.id) {
      ctx.state.log.info({ event: 'federation.link_refused', connector: connector.id }, 'link refused: wrong password');
      return renderLink(ctx, details, connector, account.email, { status: 401, error: message('page.link_account.wrong_password') });
    }
    await attempt.succeeded();
    await deps.federatedIdentities.link(connector, flow.profile, account.id, 'password', ctx.ip);
    return signIn(ctx, details, connector, flow.profile, account.id);
  });
}
