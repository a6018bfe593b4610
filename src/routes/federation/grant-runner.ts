// grant does the OAuth 2.0 legwork: the redirect upstream with state, nonce and PKCE, and
// the code exchange at the callback. One grant instance per request, configured from the
// connector in the database alone: nothing the browser sends (grant's "dynamic" overrides
// from query or body) can change an endpoint or a credential, and a connector added by the
// CLI works at once on every node.
import type { Context, Middleware } from 'koa';
import type { Connector } from '#src/services/federation/connectors.ts';

export interface GrantEndpoints {
  authorization: string;
  token: string;
  clientSecret: string;
}

/** What grant leaves in ctx.state.grant.response after a callback. */
export interface GrantResponse {
  error?: unknown;
  id_token?: string;
  access_token?: string;
}

export async function grantFor(connector: Connector, endpoints: GrantEndpoints, options: { redirectUri: string; timeoutMs: number }): Promise<Middleware> {
  const provider = {
    authorize_url: endpoints.authorization,
    access_url: endpoints.token,
    oauth: 2,
    key: connector.clientId,
    secret: endpoints.clientSecret,
    scope: connector.scope.split(' ').filter(Boolean),
    // OpenID Connect scopes are space-separated; grant's default is a comma.
    scope_delimiter: ' ',
    redirect_uri: options.redirectUri,
    state: true,
    // Only an OpenID Connect upstream returns the nonce (in the ID token).
    nonce: connector.issuer !== undefined,
    pkce: true,
    response: ['tokens', 'raw'],
    // The answer stays in ctx.state for the callback route; nothing goes into a URL.
    transport: 'state',
    // Apple sends name and email only with response_mode=form_post (a POST to the callback).
    ...(connector.type === 'apple' ? { custom_params: { response_mode: 'form_post' } } : {}),
  };
  // Loaded by the first federated sign-in: grant and its HTTP client are not needed to start.
  // grant is CommonJS: its function is the module's `default` (grant sets grant.default = grant).
  const { default: grantModule } = await import('grant');
  return grantModule.default.koa()({ config: { defaults: { prefix: '/connect' }, [connector.id]: provider }, request: { timeout: options.timeoutMs } } as never) as unknown as Middleware;
}

/** Runs grant on this request; resolves with what it left in ctx.state (callbacks), or after it redirected (start). */
export async function runGrant(ctx: Context, middleware: Middleware): Promise<GrantResponse | undefined> {
  let reachedNext = false;
  await middleware(ctx, async () => {
    reachedNext = true;
  });
  return reachedNext ? ((ctx.state.grant as { response?: GrantResponse } | undefined)?.response ?? { error: 'no response' }) : undefined;
}
