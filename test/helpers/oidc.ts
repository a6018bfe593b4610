// Client side of the flows: registers clients and resources through Keyhold's services,
// runs the authorization code flow with openid-client through the real login pages.
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import type { TestServer } from './server.ts';
import { Browser, type Page } from './browser.ts';

export const REDIRECT_URI = 'https://app.example.test/callback';

export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
  metadata: Record<string, unknown>;
}

export async function registerClient(server: TestServer, metadata: Record<string, unknown> = {}): Promise<RegisteredClient> {
  const created = await server.keyhold.createClient({
    client_id: `client-${randomBytes(4).toString('hex')}`,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    post_logout_redirect_uris: ['https://app.example.test/logged-out'],
    ...metadata,
  });
  return { clientId: created.client_id as string, clientSecret: created.client_secret as string | undefined, metadata: created };
}

/** client_secret_basic: id and secret form-encoded, then base64 (RFC 6749 §2.3.1). */
export function basicAuth(client: { clientId: string; clientSecret?: string }): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret ?? '')}`).toString('base64')}`;
}

/** A POST to the token endpoint as `client` (client_secret_basic): its status and JSON body. */
export async function tokenRequest(server: { issuer: string }, client: { clientId: string; clientSecret?: string }, body: Record<string, string>) {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client) },
    body: new URLSearchParams(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function createUser(server: TestServer, overrides: Partial<{ email: string; password: string; name: string; roles: string[]; tier: string; tenant: string }> = {}) {
  const email = overrides.email ?? `user-${randomBytes(4).toString('hex')}@example.test`;
  const password = overrides.password ?? 'correct horse battery staple';
  const account = await server.keyhold.accounts.create({ email, password, name: overrides.name ?? 'Test User', roles: overrides.roles, tier: overrides.tier, tenant: overrides.tenant, emailVerified: true });
  return { ...account, password };
}

export async function discover(server: TestServer, client: RegisteredClient): Promise<oidc.Configuration> {
  const auth = client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None();
  return oidc.discovery(new URL(server.issuer), client.clientId, client.clientSecret ? { client_secret: client.clientSecret } : undefined, auth, {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface AuthorizationResult {
  callbackUrl: URL;
  verifier: string;
  state: string;
  nonce: string;
  browser: Browser;
  /** The last page Keyhold served before redirecting to the client. */
  page: Page;
}

export const atRedirectUri = (url: string) => url.startsWith('https://app.example.test/');

export interface AuthorizationRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/** A code + PKCE authorization request with fresh state and nonce; `parameters` override. */
export async function authorizationRequest(config: oidc.Configuration, parameters: Record<string, string> = {}, redirectUri = REDIRECT_URI): Promise<AuthorizationRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...parameters,
  });
  return { url, verifier, state: url.searchParams.get('state') ?? state, nonce: url.searchParams.get('nonce') ?? nonce };
}

/**
 * A prompt=none authorization request in `browser` (which holds, or not, a Keyhold session):
 * the client callback it ends at, with a code or an error such as login_required.
 */
export async function silentAuthorization(config: oidc.Configuration, browser: Browser, parameters: Record<string, string> = {}): Promise<URL> {
  const request = await authorizationRequest(config, { scope: 'openid', prompt: 'none', ...parameters });
  const page = await browser.get(request.url.toString(), atRedirectUri);
  if (!atRedirectUri(page.url)) throw new Error(`prompt=none did not return to the client (status ${page.status} at ${page.url})`);
  const callback = new URL(page.url);
  if (callback.searchParams.get('state') !== request.state) throw new Error(`state not returned: ${page.url}`);
  return callback;
}

/** Starts an authorization request and signs in through the login form (and consent, when asked). */
export async function authorize(
  config: oidc.Configuration,
  credentials: { email: string; password: string } | undefined,
  parameters: Record<string, string> = {},
  browser = new Browser(),
): Promise<AuthorizationResult> {
  const { url, verifier, state, nonce } = await authorizationRequest(config, parameters);
  let page = await browser.get(url.toString(), atRedirectUri);
  if (page.body.includes('name="password"') && credentials) {
    page = await browser.submit(page, /\/login$/, { email: credentials.email, password: credentials.password }, { stopAt: atRedirectUri });
  }
  if (/action="[^"]*\/confirm"/.test(page.body)) {
    page = await browser.submit(page, /\/confirm$/, {}, { stopAt: atRedirectUri });
  }
  if (!atRedirectUri(page.url)) throw new Error(`flow did not reach the client (status ${page.status} at ${page.url}):\n${page.body.slice(0, 800)}`);
  return { callbackUrl: new URL(page.url), verifier, state, nonce, browser, page };
}

export async function login(config: oidc.Configuration, credentials: { email: string; password: string }, parameters: Record<string, string> = {}, browser?: Browser) {
  const result = await authorize(config, credentials, parameters, browser);
  const tokens = await oidc.authorizationCodeGrant(config, result.callbackUrl, {
    pkceCodeVerifier: result.verifier,
    expectedState: result.state,
    expectedNonce: result.nonce,
  });
  return { ...result, tokens };
}

/** A new client and a new user, signed in to it through the login pages; its tokens and browser. */
export async function signInNewUser(
  server: TestServer,
  options: { client?: Record<string, unknown>; user?: Parameters<typeof createUser>[1]; parameters?: Record<string, string>; browser?: Browser } = {},
) {
  const client = await registerClient(server, options.client);
  const user = await createUser(server, options.user);
  const config = await discover(server, client);
  const result = await login(config, user, options.parameters, options.browser);
  return { client, user, config, ...result };
}

export interface OpenedAuthorization extends AuthorizationRequest {
  browser: Browser;
  /** The first page Keyhold answered the authorization request with. */
  page: Page;
}

/** Sends the browser to a fresh authorization request and stops at Keyhold's first page. */
export async function openAuthorization(config: oidc.Configuration, parameters: Record<string, string> = {}, browser = new Browser()): Promise<OpenedAuthorization> {
  const request = await authorizationRequest(config, parameters);
  return { ...request, browser, page: await browser.get(request.url.toString(), atRedirectUri) };
}

/** From a page Keyhold answered after sign-in: through consent if asked, to the client; then the token exchange. */
export async function finishAtClient(config: oidc.Configuration, flow: OpenedAuthorization, page: Page) {
  let current = page;
  if (/action="[^"]*\/confirm"/.test(current.body)) current = await flow.browser.submit(current, /\/interaction\/[^/]+\/confirm$/, {}, { stopAt: atRedirectUri });
  if (!atRedirectUri(current.url)) throw new Error(`did not reach the client (status ${current.status} at ${current.url}):\n${current.body.slice(0, 800)}`);
  const callbackUrl = new URL(current.url);
  const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
  return { callbackUrl, tokens, claims: tokens.claims()! };
}
