// The upstream leg of a federated sign-in, under /connect (grant's prefix):
//   GET      /connect/:id           redirect upstream (state, nonce, PKCE), only for a sign-in
//                                   this browser started from a Keyhold page
//   GET|POST /connect/:id/callback  the upstream's answer (POST: Apple's form_post): code
//                                   exchange by grant, ID token and profile checked here, then
//                                   back to the interaction (/interaction/:uid/federation)
import type Router from '@koa/router';
import type { Context } from 'koa';
import { constantTimeEqual } from '#src/crypto.ts';
import { isKeyholdError } from '#src/errors.ts';
import { formBody } from '#src/middleware/body.ts';
import { grantFor, runGrant } from '#src/routes/federation/grant-runner.ts';
import { federationFailed, sessionOf, type FederationDependencies } from '#src/routes/federation/shared.ts';
import type { Connector } from '#src/services/federation/connectors.ts';

export function connectRoutes(router: Router, deps: FederationDependencies): void {
  const timeoutMs = deps.config.FEDERATION_TIMEOUT * 1000;

  const grantOf = async (connector: Connector) => {
    const endpoints = await deps.upstream.endpoints(connector, await deps.connectors.secrets(connector.id));
    return grantFor(connector, endpoints, { redirectUri: deps.connectors.redirectUri(connector.id), timeoutMs });
  };

  /** The connector of a sign-in this browser started for it, or undefined. */
  const startedFor = async (ctx: Context) => {
    const flow = sessionOf(ctx).federation;
    if (!flow || flow.connectorId !== ctx.params.id || flow.profile) return undefined;
    const connector = await deps.connectors.find(flow.connectorId);
    return connector ? { flow, connector } : undefined;
  };

  router.get('/connect/:id', async (ctx) => {
    const started = await startedFor(ctx);
    if (!started) return federationFailed(ctx, deps, { connectorId: String(ctx.params.id), reason: 'not started from a sign-in page' });
    const { flow, connector } = started;
    // Nothing from the URL reaches grant (it would read query parameters as overrides).
    ctx.querystring = '';
    try {
      const response = await runGrant(ctx, await grantOf(connector));
      if (response) return federationFailed(ctx, deps, { uid: flow.uid, connectorId: connector.id, connectorName: connector.name, reason: 'could not start' });
    } catch (error) {
      if (!isKeyholdError(error, 'federation_failed', 'invalid_connector')) throw error;
      return federationFailed(ctx, deps, { uid: flow.uid, connectorId: connector.id, connectorName: connector.name, reason: 'upstream unavailable', cause: error });
    }
  });

  const callback = async (ctx: Context) => {
    const started = await startedFor(ctx);
    const session = sessionOf(ctx);
    const pending = session.grant as { state?: unknown; nonce?: unknown; provider?: unknown } | null | undefined;
    if (!started || typeof pending?.state !== 'string' || pending.provider !== ctx.params.id) {
      return federationFailed(ctx, deps, { uid: started?.flow.uid, connectorId: String(ctx.params.id), reason: 'no sign-in in progress (expired, replayed or another browser)' });
    }
    const { flow, connector } = started;
    const fail = (reason: string, cause?: unknown) => federationFailed(ctx, deps, { uid: flow.uid, connectorId: connector.id, connectorName: connector.name, reason, cause });
    const answer = (ctx.method === 'POST' ? ctx.request.body : ctx.query) as Record<string, unknown>;
    // grant compares too, but not in constant time, and it skips the check without a stored state.
    if (typeof answer.state !== 'string' || !constantTimeEqual(answer.state, pending.state)) return fail('state mismatch');
    const nonce = typeof pending.nonce === 'string' ? pending.nonce : undefined;
    try {
      const response = await runGrant(ctx, await grantOf(connector));
      // The state is spent: the same answer sent again finds nothing to continue.
      session.grant = null;
      if (!response || response.error) return fail(typeof response?.error === 'string' ? `upstream: ${response.error.slice(0, 100)}` : 'token exchange failed');
      const profile = await deps.upstream.profile(connector, { idToken: response.id_token, accessToken: response.access_token }, { nonce });
      session.federation = { ...flow, profile };
    } catch (error) {
      if (!isKeyholdError(error, 'federation_failed', 'invalid_connector')) throw error;
      return fail(error.message, error.cause);
    }
    ctx.status = 303;
    ctx.redirect(`/interaction/${flow.uid}/federation`);
  };

  router.get('/connect/:id/callback', callback);
  router.post('/connect/:id/callback', formBody(deps.config.BODY_LIMIT), callback);
}
