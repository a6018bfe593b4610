// The OpenID Foundation's "Basic OP" plan (code flow), one test per test module, driven
// over real HTTP the way a client and a browser would: openid-client for the protocol,
// Keyhold's HTML forms for the login and consent steps.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { Browser, type Page } from '../helpers/browser.ts';
import { atRedirectUri, authorizationRequest, createUser, REDIRECT_URI, registerClient, type RegisteredClient } from '../helpers/oidc.ts';
import { keyPair, type KeyPair } from '../helpers/protocol.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ACR_PASSWORD = 'urn:keyhold:acr:password';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------------------------------
// Small helpers local to this plan.

type User = Awaited<ReturnType<typeof createUser>>;
type Tokens = Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;

type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

async function discoverAs(client: RegisteredClient, method: AuthMethod): Promise<oidc.Configuration> {
  const auth = method === 'client_secret_post' ? oidc.ClientSecretPost(client.clientSecret) : method === 'none' ? oidc.None() : oidc.ClientSecretBasic(client.clientSecret);
  return oidc.discovery(new URL(server.issuer), client.clientId, client.clientSecret ? { client_secret: client.clientSecret } : undefined, auth, {
    execute: [oidc.allowInsecureRequests],
  });
}

/** A registered client (confidential, client_secret_basic unless told) and its openid-client configuration. */
async function newClient(metadata: Record<string, unknown> = {}) {
  const client = await registerClient(server, metadata);
  const method = (metadata.token_endpoint_auth_method as AuthMethod | undefined) ?? 'client_secret_basic';
  return { client, config: await discoverAs(client, method) };
}

const isLoginPage = (page: Page) => /action="[^"]*\/interaction\/[^"]+\/login"/.test(page.body) && page.body.includes('name="password"');
const isConsentPage = (page: Page) => /action="[^"]*\/interaction\/[^"]+\/confirm"/.test(page.body);

interface Flow {
  /** The authorization request as sent. */
  url: URL;
  verifier: string;
  state: string;
  nonce?: string;
  browser: Browser;
  /** The first page Keyhold answered the authorization request with (after same-site redirects). */
  firstPage: Page;
  loginPage?: Page;
  loginShown: boolean;
  consentShown: boolean;
  /** Where the browser was finally sent: the client's redirect_uri, or undefined if it stayed at Keyhold. */
  callbackUrl?: URL;
  /** The last page Keyhold served. */
  page: Page;
}

/**
 * Sends an authorization request (defaults: code flow, PKCE S256, state, nonce, scope
 * openid email profile) and, when credentials are given, signs in and consents through the
 * forms. Parameters named in `omit` are left out. Never throws on a protocol error: the
 * caller inspects `callbackUrl` / `page`.
 */
async function authorizeFlow(
  config: oidc.Configuration,
  credentials: { email: string; password: string } | undefined,
  parameters: Record<string, string> = {},
  options: { omit?: string[]; browser?: Browser } = {},
): Promise<Flow> {
  const browser = options.browser ?? new Browser();
  const omit = new Set(options.omit ?? []);
  const { url, verifier, state, nonce } = await authorizationRequest(config, { response_type: 'code', ...parameters });
  for (const name of omit) url.searchParams.delete(name);
  return continueFlow(browser, await browser.get(url.toString(), atRedirectUri), credentials, { url, verifier, state, nonce: omit.has('nonce') ? undefined : nonce });
}

/** Drives login and consent from `firstPage` on to the client. */
async function continueFlow(
  browser: Browser,
  firstPage: Page,
  credentials: { email: string; password: string } | undefined,
  request: { url: URL; verifier: string; state: string; nonce?: string },
): Promise<Flow> {
  let page = firstPage;
  let loginPage: Page | undefined;
  let consentShown = false;
  if (!atRedirectUri(page.url) && isLoginPage(page)) {
    loginPage = page;
    if (credentials) page = await browser.submit(page, /\/login$/, { email: credentials.email, password: credentials.password }, { stopAt: atRedirectUri });
  }
  if (!atRedirectUri(page.url) && isConsentPage(page)) {
    consentShown = true;
    page = await browser.submit(page, /\/confirm$/, {}, { stopAt: atRedirectUri });
  }
  return {
    ...request,
    browser,
    firstPage,
    loginPage,
    loginShown: loginPage !== undefined,
    consentShown,
    callbackUrl: atRedirectUri(page.url) ? new URL(page.url) : undefined,
    page,
  };
}

function callbackOf(t: ExecutionContext, flow: Flow): URL {
  if (!flow.callbackUrl) {
    t.fail(`the flow did not reach the client (status ${flow.page.status} at ${flow.page.url}):\n${flow.page.body.slice(0, 600)}`);
    throw new Error('flow did not reach the client');
  }
  return flow.callbackUrl;
}

async function exchange(t: ExecutionContext, config: oidc.Configuration, flow: Flow, checks: Partial<oidc.AuthorizationCodeGrantChecks> = {}): Promise<Tokens> {
  return oidc.authorizationCodeGrant(config, callbackOf(t, flow), {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
    expectedNonce: flow.nonce,
    ...checks,
  });
}

/** Signs in a fresh browser and exchanges the code: the baseline every test builds on. */
async function signIn(t: ExecutionContext, config: oidc.Configuration, user: User, parameters: Record<string, string> = {}, browser?: Browser) {
  const flow = await authorizeFlow(config, user, parameters, { browser });
  const tokens = await exchange(t, config, flow, parameters.max_age ? { maxAge: Number(parameters.max_age) } : {});
  return { flow, tokens, claims: tokens.claims()! };
}

async function metadataOf(): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.issuer}/.well-known/openid-configuration`);
  return (await response.json()) as Record<string, unknown>;
}

async function userinfo(accessToken: string): Promise<{ status: number; body: Record<string, unknown> | undefined; headers: Headers }> {
  const endpoint = (await metadataOf()).userinfo_endpoint as string;
  const response = await fetch(endpoint, { headers: { authorization: `Bearer ${accessToken}` } });
  const text = await response.text();
  return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : undefined, headers: response.headers };
}

/** The OAuth error a rejected grant request failed with. */
async function grantError(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError) return error.error;
    // A 401 (invalid_client) is reported through its WWW-Authenticate challenge.
    if (error instanceof oidc.WWWAuthenticateChallengeError) return error.cause[0]?.parameters.error;
    throw error;
  }
}

/** Authorization response parameters, or undefined when the browser never reached the client. */
const callbackParams = (flow: Flow): Record<string, string | undefined> | undefined => (flow.callbackUrl ? Object.fromEntries(flow.callbackUrl.searchParams) : undefined);

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

// ---------------------------------------------------------------------------------------

test('oidcc-server: code flow, ID token valid, userinfo works', async (t) => {
  const { client, config } = await newClient();
  const user = await createUser(server);
  const { flow, tokens, claims } = await signIn(t, config, user);
  t.true(flow.loginShown, 'a fresh browser is asked to sign in');
  t.is(callbackParams(flow)!.iss, server.issuer, 'RFC 9207 iss in the authorization response');
  t.is(tokens.token_type.toLowerCase(), 'bearer');
  t.is(typeof tokens.id_token, 'string');
  t.is(claims.iss, server.issuer);
  t.is(claims.sub, user.id);
  t.is(claims.aud, client.clientId);
  t.is(claims.nonce, flow.nonce);
  t.true(claims.exp > claims.iat);
  const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
  t.is(info.sub, user.id);
  t.is(info.email, user.email);
});

test('oidcc-response-type-missing: error redirect or error page, no code', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const flow = await authorizeFlow(config, user, {}, { omit: ['response_type'] });
  t.false(flow.url.searchParams.has('response_type'), 'the request really lacks response_type');
  t.false(flow.loginShown, 'no login page for an invalid request');
  const params = callbackParams(flow);
  if (params) {
    // Error returned to the (registered) redirect_uri.
    t.is(params.error, 'invalid_request');
    t.regex(params.error_description ?? '', /response_type/);
    t.is(params.state, flow.state);
    t.is(params.code, undefined);
  } else {
    t.is(flow.page.status, 400);
    t.regex(flow.page.body, /invalid_request/);
  }
});

test('oidcc-idtoken-signature: ID token signed RS256 with a kid present in JWKS', async (t) => {
  const { client, config } = await newClient();
  const user = await createUser(server);
  const { tokens } = await signIn(t, config, user);
  const header = decodeProtectedHeader(tokens.id_token!);
  t.is(header.alg, 'RS256');
  t.is(typeof header.kid, 'string');
  const jwksUri = config.serverMetadata().jwks_uri!;
  const jwks = (await (await fetch(jwksUri)).json()) as { keys: Array<Record<string, unknown>> };
  const key = jwks.keys.find((candidate) => candidate.kid === header.kid);
  t.truthy(key, 'the signing kid is published');
  t.is(key?.kty, 'RSA');
  const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(jwksUri)), {
    issuer: server.issuer,
    audience: client.clientId,
    algorithms: ['RS256'],
  });
  t.is(protectedHeader.kid, header.kid);
  t.is(payload.sub, user.id);
  // A token whose signature was tampered with must not verify against the same JWKS.
  const [h, p, s] = tokens.id_token!.split('.');
  const tampered = `${h}.${p}.${s!.slice(0, -4)}${s!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  await t.throwsAsync(jwtVerify(tampered, createRemoteJWKSet(new URL(jwksUri))));
});

test('oidcc-idtoken-unsigned: alg=none for ID tokens is refused at registration and not advertised', async (t) => {
  // The engine only signs ID tokens with the algorithms it is configured for; `none` is
  // not one of them, so a client cannot register it, and no client can receive one.
  const metadata = await metadataOf();
  t.false((metadata.id_token_signing_alg_values_supported as string[]).includes('none'));
  const error = await t.throwsAsync(registerClient(server, { id_token_signed_response_alg: 'none' }));
  t.is((error as Error & { code?: string }).code, 'invalid_client_metadata');
  t.regex(error!.message, /id_token_signed_response_alg/);
  // A client that registered nothing gets signed ID tokens.
  const { config } = await newClient();
  const user = await createUser(server);
  const { tokens } = await signIn(t, config, user);
  t.not(decodeProtectedHeader(tokens.id_token!).alg, 'none');
});

test('oidcc-userinfo-get: userinfo by GET with a bearer header', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const { tokens } = await signIn(t, config, user);
  const endpoint = config.serverMetadata().userinfo_endpoint!;
  const response = await fetch(endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(response.status, 200);
  const body = (await response.json()) as Record<string, unknown>;
  t.is(body.sub, user.id);
  t.is(body.email, user.email);
  const anonymous = await fetch(endpoint);
  t.is(anonymous.status, 401, 'no token, no claims');
});

test('oidcc-userinfo-post-header: userinfo by POST with a bearer header', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const { tokens } = await signIn(t, config, user);
  const endpoint = config.serverMetadata().userinfo_endpoint!;
  const response = await fetch(endpoint, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(response.status, 200);
  const body = (await response.json()) as Record<string, unknown>;
  t.is(body.sub, user.id);
  t.is(body.email, user.email);
});

test('oidcc-userinfo-post-body: userinfo by POST with access_token in the form body', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const { tokens } = await signIn(t, config, user);
  const endpoint = config.serverMetadata().userinfo_endpoint!;
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ access_token: tokens.access_token }),
  });
  t.is(response.status, 200);
  const body = (await response.json()) as Record<string, unknown>;
  t.is(body.sub, user.id);
  t.is(body.email, user.email);
  const wrong = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ access_token: `${tokens.access_token}x` }),
  });
  t.is(wrong.status, 401);
});

test('oidcc-ensure-request-without-nonce-succeeds-for-code-flow: no nonce → tokens, ID token without nonce', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const flow = await authorizeFlow(config, user, {}, { omit: ['nonce'] });
  t.false(flow.url.searchParams.has('nonce'));
  t.truthy(callbackParams(flow)?.code);
  const tokens = await exchange(t, config, flow, { expectedNonce: undefined });
  const claims = tokens.claims()!;
  t.is(claims.sub, user.id);
  t.false('nonce' in claims);
});

// OIDC Core 5.4: each scope releases its claims at userinfo, and nothing else is released.
const scopeCases: Array<{ title: string; scope: string; present: string[]; absent: string[] }> = [
  { title: 'oidcc-scope-profile', scope: 'openid profile', present: ['name', 'updated_at'], absent: ['email', 'email_verified'] },
  { title: 'oidcc-scope-email', scope: 'openid email', present: ['email', 'email_verified'], absent: ['name', 'updated_at'] },
  // The test accounts have no postal address or phone number: the scope is granted and
  // nothing outside it is released.
  { title: 'oidcc-scope-address', scope: 'openid address', present: [], absent: ['email', 'name', 'phone_number'] },
  { title: 'oidcc-scope-phone', scope: 'openid phone', present: [], absent: ['email', 'name', 'address'] },
  { title: 'oidcc-scope-all', scope: 'openid profile email address phone', present: ['name', 'email', 'email_verified', 'updated_at'], absent: [] },
];
for (const { title, scope, present, absent } of scopeCases) {
  test(`${title}: scope "${scope}" is granted and releases its claims at userinfo`, async (t) => {
    const { config } = await newClient();
    const user = await createUser(server, { name: 'Ada Lovelace' });
    const { flow, tokens } = await signIn(t, config, user, { scope });
    t.true(flow.consentShown, 'a third-party client asks for consent');
    t.deepEqual(tokens.scope?.split(' ').sort(), scope.split(' ').sort(), 'every requested scope is granted');
    const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
    t.is(info.sub, user.id);
    for (const claim of present) t.not(info[claim], undefined, `${claim} released for ${scope}`);
    for (const claim of absent) t.is(info[claim], undefined, `${claim} not released for ${scope}`);
    if (present.includes('name')) t.is(info.name, 'Ada Lovelace');
    if (present.includes('email')) t.is(info.email, user.email);
  });
}

test('oidcc-ensure-other-scope-order-succeeds: "email openid" works like "openid email"', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const { tokens, claims } = await signIn(t, config, user, { scope: 'email openid' });
  t.is(claims.sub, user.id);
  t.deepEqual(tokens.scope?.split(' ').sort(), ['email', 'openid']);
  const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
  t.is(info.email, user.email);
});

for (const display of ['page', 'popup']) {
  test(`oidcc-display-${display}: display=${display} shows the login page and completes`, async (t) => {
    const { config } = await newClient();
    const user = await createUser(server);
    const { flow, claims } = await signIn(t, config, user, { display });
    t.true(flow.loginShown);
    t.is(flow.loginPage!.status, 200);
    t.is(claims.sub, user.id);
  });
}

test('oidcc-prompt-login: prompt=login forces a second login with a newer auth_time', async (t) => {
  // require_auth_time: the first ID token carries auth_time too, so the two can be compared.
  const { config } = await newClient({ require_auth_time: true });
  const user = await createUser(server);
  const browser = new Browser();
  const first = await signIn(t, config, user, {}, browser);
  t.true(first.flow.loginShown);
  t.is(typeof first.claims.auth_time, 'number');
  await sleep(1100);
  const secondFlow = await authorizeFlow(config, user, { prompt: 'login' }, { browser });
  t.true(secondFlow.loginShown, 'prompt=login shows the login page although a session exists');
  t.false(secondFlow.consentShown, 'consent given before is remembered');
  const second = await exchange(t, config, secondFlow);
  const claims = second.claims()!;
  t.is(claims.sub, user.id);
  // prompt=login makes auth_time part of the ID token (OIDC Core 3.1.2.1).
  t.is(typeof claims.auth_time, 'number');
  t.true(claims.iat > first.claims.iat, 'a new ID token');
  t.true(claims.auth_time! > first.claims.auth_time!, 'auth_time moved forward');
  // The first ID token was issued right after the first login, so its iat bounds that login's time.
  t.true(claims.auth_time! > first.claims.iat, 'the second authentication happened after the first ID token');
});

test('oidcc-prompt-none-not-logged-in: prompt=none without a session → login_required at the redirect_uri', async (t) => {
  const { config } = await newClient();
  const flow = await authorizeFlow(config, undefined, { prompt: 'none' });
  t.false(flow.loginShown, 'no UI for prompt=none');
  const params = callbackParams(flow);
  t.truthy(params, 'the browser is sent back to the client');
  t.is(params?.error, 'login_required');
  t.is(params?.state, flow.state);
  t.is(params?.code, undefined);
  t.is(params?.iss, server.issuer);
});

test('oidcc-prompt-none-logged-in: prompt=none with a session → code without UI', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const browser = new Browser();
  const first = await signIn(t, config, user, {}, browser);
  const request = await authorizeFlow(config, undefined, { prompt: 'none' }, { browser });
  t.false(request.loginShown);
  t.false(request.consentShown);
  // Straight from the authorization endpoint to the client: one redirect, no interaction.
  t.true(request.firstPage.url.startsWith(REDIRECT_URI), `answered with a redirect to the client, got ${request.firstPage.url}`);
  t.truthy(callbackParams(request)?.code);
  const tokens = await exchange(t, config, request);
  t.is(tokens.claims()!.sub, first.claims.sub);
});

test('oidcc-max-age-1: max_age=1 after more than a second forces a new login', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const browser = new Browser();
  const first = await signIn(t, config, user, { max_age: '1' }, browser);
  const firstAuthTime = first.claims.auth_time!;
  t.is(typeof firstAuthTime, 'number', 'max_age makes auth_time part of the ID token');
  // The engine compares whole seconds (now - auth_time > max_age): wait past the next
  // second boundary so the session is certainly older than max_age.
  await sleep(2100);
  const flow = await authorizeFlow(config, user, { max_age: '1' }, { browser });
  t.true(flow.loginShown, 'the login page is shown again');
  const tokens = await exchange(t, config, flow, { maxAge: 1 });
  const claims = tokens.claims()!;
  t.is(claims.sub, user.id);
  t.true(claims.auth_time! > firstAuthTime, 'auth_time is the new authentication');
});

test('oidcc-max-age-10000: max_age=10000 within the session does not force a login', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const browser = new Browser();
  const first = await signIn(t, config, user, { max_age: '10000' }, browser);
  t.true(first.flow.loginShown);
  await sleep(1100);
  const flow = await authorizeFlow(config, undefined, { max_age: '10000' }, { browser });
  t.false(flow.loginShown, 'no login page');
  const tokens = await exchange(t, config, flow, { maxAge: 10000 });
  t.is(tokens.claims()!.auth_time, first.claims.auth_time, 'the original authentication is reused');
});

test('oidcc-ensure-request-with-unknown-parameter-succeeds: unknown parameters are ignored', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const { flow, claims } = await signIn(t, config, user, { extra_parameter_for_the_op: 'ignored', another: '1' });
  t.is(flow.url.searchParams.get('extra_parameter_for_the_op'), 'ignored');
  t.is(claims.sub, user.id);
});

test('oidcc-id-token-hint: prompt=none with the id_token_hint of the signed-in user succeeds', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const browser = new Browser();
  const first = await signIn(t, config, user, {}, browser);
  const flow = await authorizeFlow(config, undefined, { prompt: 'none', id_token_hint: first.tokens.id_token! }, { browser });
  t.false(flow.loginShown);
  t.truthy(callbackParams(flow)?.code, `code issued, got ${flow.callbackUrl?.search}`);
  const tokens = await exchange(t, config, flow);
  t.is(tokens.claims()!.sub, user.id);

  // The hint of another user does not match the session: no silent login for them.
  const other = await createUser(server);
  const otherTokens = await signIn(t, config, other);
  const mismatch = await authorizeFlow(config, undefined, { prompt: 'none', id_token_hint: otherTokens.tokens.id_token! }, { browser });
  t.is(callbackParams(mismatch)?.error, 'login_required');
  t.is(callbackParams(mismatch)?.code, undefined);
});

test('oidcc-login-hint: login_hint pre-fills the email field', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const flow = await authorizeFlow(config, undefined, { login_hint: user.email });
  t.true(flow.loginShown);
  const emailInput = /<input\b[^>]*\bname="email"[^>]*>/.exec(flow.loginPage!.body)?.[0] ?? '';
  t.regex(emailInput, new RegExp(`value="${user.email.replace(/[.+]/g, '\\$&')}"`));
  // Submitting only the password completes the flow with the hinted account.
  const page = await flow.browser.submit(flow.loginPage!, /\/login$/, { password: user.password }, { stopAt: atRedirectUri });
  const done = await continueFlow(flow.browser, page, undefined, flow);
  const tokens = await exchange(t, config, done);
  t.is(tokens.claims()!.sub, user.id);
});

test('oidcc-ui-locales: ui_locales is accepted', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const { flow, claims } = await signIn(t, config, user, { ui_locales: 'fr-CA fr en' });
  t.true(flow.loginShown);
  t.is(flow.loginPage!.status, 200);
  t.is(claims.sub, user.id);
});

test('oidcc-claims-locales: claims_locales is accepted', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const { tokens, claims } = await signIn(t, config, user, { claims_locales: 'fr-CA fr en' });
  t.is(claims.sub, user.id);
  const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
  t.is(info.email, user.email);
});

test('oidcc-ensure-request-with-acr-values-succeeds: acr_values is accepted and acr is returned', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  // Values the OP does not know (the suite sends "1 2") must not fail the request.
  const unknown = await signIn(t, config, user, { acr_values: '1 2' });
  t.is(unknown.claims.sub, user.id);
  const known = await signIn(t, config, user, { acr_values: ACR_PASSWORD });
  t.is(known.claims.acr, ACR_PASSWORD);
});

test('oidcc-codereuse: second use of a code → invalid_grant', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const flow = await authorizeFlow(config, user);
  const tokens = await exchange(t, config, flow);
  t.is(tokens.claims()!.sub, user.id);
  t.is(await grantError(exchange(t, config, flow)), 'invalid_grant');
});

test('oidcc-codereuse-30seconds: second use of a code revokes the tokens issued from it', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const flow = await authorizeFlow(config, user, { scope: 'openid email offline_access', prompt: 'consent' });
  const tokens = await exchange(t, config, flow);
  t.is((await userinfo(tokens.access_token)).status, 200, 'the access token works before the reuse');
  t.truthy(tokens.refresh_token);
  t.is(await grantError(exchange(t, config, flow)), 'invalid_grant');
  const after = await userinfo(tokens.access_token);
  t.is(after.status, 401, 'the access token issued from the reused code is revoked');
  t.regex(after.headers.get('www-authenticate') ?? '', /invalid_token/);
  t.is(await grantError(oidc.refreshTokenGrant(config, tokens.refresh_token!)), 'invalid_grant', 'so is the refresh token');
});

test('oidcc-ensure-registered-redirect-uri: unregistered redirect_uri → error page, no redirect', async (t) => {
  const { config } = await newClient();
  const browser = new Browser();
  const unregistered = 'https://attacker.example.test/callback';
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: unregistered,
    scope: 'openid',
    state: oidc.randomState(),
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const page = await browser.request(url.toString());
  t.is(page.status, 400);
  t.is(page.headers.get('location'), null, 'no redirect anywhere');
  t.regex(page.headers.get('content-type') ?? '', /text\/html/);
  t.regex(page.body, /invalid_redirect_uri/);
  t.false(page.body.includes(unregistered), 'the page does not link to the unregistered URI');
});

test('oidcc-server-client-secret-post: token request authenticated with client_secret_post', async (t) => {
  const { client, config } = await newClient({ token_endpoint_auth_method: 'client_secret_post' });
  t.is(client.metadata.token_endpoint_auth_method, 'client_secret_post');
  const user = await createUser(server);
  const { claims } = await signIn(t, config, user);
  t.is(claims.sub, user.id);
  // The secret is checked. (The engine accepts a client_secret_* client's secret by
  // either HTTP Basic or the form body, whichever of the two it registered.)
  const wrong = await discoverAs({ ...client, clientSecret: `${client.clientSecret}x` }, 'client_secret_post');
  const flow = await authorizeFlow(wrong, user);
  t.is(await grantError(exchange(t, wrong, flow)), 'invalid_client');
});

test('oidcc-server-client-secret-basic: token request authenticated with client_secret_basic', async (t) => {
  const { client, config } = await newClient({ token_endpoint_auth_method: 'client_secret_basic' });
  t.is(client.metadata.token_endpoint_auth_method, 'client_secret_basic');
  const user = await createUser(server);
  const { claims } = await signIn(t, config, user);
  t.is(claims.sub, user.id);
  // The secret is checked.
  const wrong = await discoverAs({ ...client, clientSecret: `${client.clientSecret}x` }, 'client_secret_basic');
  const flow = await authorizeFlow(wrong, user);
  t.is(await grantError(exchange(t, wrong, flow)), 'invalid_client');
});

/** An unsigned (alg none) request object carrying the authorization parameters. */
function unsignedRequestObject(clientId: string, claims: Record<string, string>): string {
  return `${b64url({ alg: 'none' })}.${b64url({ iss: clientId, aud: server.issuer, client_id: clientId, ...claims })}.`;
}

/** A request object signed with the client's registered key (ES256). */
function signedRequestObject(clientId: string, claims: Record<string, string>, pair: KeyPair): Promise<string> {
  return new SignJWT({ client_id: clientId, ...claims }).setProtectedHeader({ alg: 'ES256', kid: pair.jwk.kid! }).setIssuer(clientId).setAudience(server.issuer).setIssuedAt().setExpirationTime('5m').sign(pair.privateKey);
}

async function requestObjectFlow(t: ExecutionContext, config: oidc.Configuration, clientId: string, user: User, inObject: Record<string, string>, outside: Record<string, string>, signer?: KeyPair) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const claims = { response_type: 'code', scope: 'openid email', state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...inObject };
  const request = signer ? await signedRequestObject(clientId, claims, signer) : unsignedRequestObject(clientId, claims);
  const url = new URL(config.serverMetadata().authorization_endpoint!);
  for (const [name, value] of Object.entries({ client_id: clientId, response_type: 'code', scope: 'openid', ...outside, request })) {
    url.searchParams.set(name, value);
  }
  const browser = new Browser();
  const flow = await continueFlow(browser, await browser.get(url.toString(), atRedirectUri), user, { url, verifier, state, nonce });
  t.log(`request object flow ended at ${flow.page.url} (${flow.page.status})`);
  return flow;
}

test('oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported', async (t) => {
  const { client, config } = await newClient();
  const user = await createUser(server);
  const metadata = await metadataOf();
  const requestObjects = metadata.request_parameter_supported === true;
  const unsignedSupported = requestObjects && (metadata.request_object_signing_alg_values_supported as string[]).includes('none');
  const flow = await requestObjectFlow(t, config, client.clientId, user, { redirect_uri: REDIRECT_URI }, { redirect_uri: REDIRECT_URI });
  if (unsignedSupported) {
    const tokens = await exchange(t, config, flow);
    t.is(tokens.claims()!.sub, user.id);
  } else {
    // Request objects unsupported, or supported signed only ('none' not advertised): rejected as such.
    t.false(flow.loginShown, 'no login for a request the OP does not support');
    t.is(callbackParams(flow)?.error, requestObjects ? 'invalid_request_object' : 'request_not_supported');
    t.is(callbackParams(flow)?.code, undefined);
  }
});

test('oidcc-ensure-request-object-with-redirect-uri: redirect_uri inside the request object', async (t) => {
  const pair = await keyPair('ES256');
  const { client, config } = await newClient({ jwks: { keys: [pair.jwk] } });
  const user = await createUser(server);
  const supported = (await metadataOf()).request_parameter_supported === true;
  // redirect_uri only in the request object (the suite's module); state also only inside.
  const flow = await requestObjectFlow(t, config, client.clientId, user, { redirect_uri: REDIRECT_URI }, {}, pair);
  if (supported) {
    const tokens = await exchange(t, config, flow);
    t.is(tokens.claims()!.sub, user.id);
  } else {
    t.false(flow.loginShown);
    t.is(callbackParams(flow)?.code, undefined, 'no code');
    // With no redirect_uri outside the object, the error goes to the client's only registered
    // redirect_uri, or is shown as a page.
    if (flow.callbackUrl) t.is(callbackParams(flow)?.error, 'request_not_supported');
    else {
      t.is(flow.page.status, 400);
      t.regex(flow.page.body, /request_not_supported/);
    }
  }
});

test('oidcc-claims-essential: claims parameter with essential userinfo.email releases email', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  t.true((await metadataOf()).claims_parameter_supported);
  const claimsRequest = JSON.stringify({ userinfo: { email: { essential: true } } });
  const { tokens } = await signIn(t, config, user, { scope: 'openid', claims: claimsRequest });
  t.is(tokens.scope, 'openid');
  const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
  t.is(info.email, user.email, 'the requested claim is released without the email scope');
  t.is(info.name, undefined, 'unrequested claims are not');
});

test('oidcc-refresh-token: refresh works and is bound to its client', async (t) => {
  const { config } = await newClient();
  const other = await newClient();
  const user = await createUser(server);
  const { tokens } = await signIn(t, config, user, { scope: 'openid email offline_access', prompt: 'consent' });
  t.truthy(tokens.refresh_token, 'offline_access with prompt=consent issues a refresh token');
  t.true(tokens.scope?.split(' ').includes('offline_access'));

  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  t.truthy(refreshed.access_token);
  t.not(refreshed.access_token, tokens.access_token);
  t.truthy(refreshed.refresh_token);
  t.is(refreshed.claims()?.sub, user.id, 'a fresh ID token for the same user');
  const info = await oidc.fetchUserInfo(config, refreshed.access_token, user.id);
  t.is(info.email, user.email);

  // Another client presenting this client's refresh token is refused.
  t.is(await grantError(oidc.refreshTokenGrant(other.config, refreshed.refresh_token!)), 'invalid_grant');
});

test('oidcc-ensure-pkce-code-verifier-required: public client without code_challenge → error, no code', async (t) => {
  const { client, config } = await newClient({ token_endpoint_auth_method: 'none' });
  t.is(client.clientSecret, undefined);
  const user = await createUser(server);
  const flow = await authorizeFlow(config, user, {}, { omit: ['code_challenge', 'code_challenge_method'] });
  t.false(flow.url.searchParams.has('code_challenge'));
  t.false(flow.loginShown);
  const params = callbackParams(flow);
  t.is(params?.error, 'invalid_request');
  t.regex(params?.error_description ?? '', /PKCE/);
  t.is(params?.code, undefined);
});

test('oidcc-ensure-pkce-code-verifier-required: code_challenge sent, token request without code_verifier → invalid_grant', async (t) => {
  const { config } = await newClient({ token_endpoint_auth_method: 'none' });
  const user = await createUser(server);
  const flow = await authorizeFlow(config, user);
  t.is(await grantError(exchange(t, config, flow, { pkceCodeVerifier: undefined })), 'invalid_grant');
});

test('oidcc-pkce (valid verifier): public client with S256 challenge and its verifier succeeds', async (t) => {
  const { config } = await newClient({ token_endpoint_auth_method: 'none' });
  const user = await createUser(server);
  const { tokens, claims } = await signIn(t, config, user);
  t.is(claims.sub, user.id);
  t.is(tokens.refresh_token, undefined, 'no offline_access requested, no refresh token');
  const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
  t.is(info.email, user.email);
});

test('oidcc-pkce (wrong verifier): a verifier not matching the challenge → invalid_grant', async (t) => {
  const { config } = await newClient({ token_endpoint_auth_method: 'none' });
  const user = await createUser(server);
  const flow = await authorizeFlow(config, user);
  t.is(await grantError(exchange(t, config, flow, { pkceCodeVerifier: oidc.randomPKCECodeVerifier() })), 'invalid_grant');
  // The code is still unused: the right verifier redeems it.
  const tokens = await exchange(t, config, flow);
  t.is(tokens.claims()!.sub, user.id);
});

test('oidcc-ensure-post-request-succeeds: authorization request sent by POST (form body)', async (t) => {
  const { config } = await newClient();
  const user = await createUser(server);
  const browser = new Browser();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const endpoint = config.serverMetadata().authorization_endpoint!;
  const body = new URLSearchParams({
    client_id: config.clientMetadata().client_id,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const posted = await browser.request(endpoint, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  // Keyhold answers a form POST with a 303 to the same endpoint by GET (never 307/308, which
  // would repeat the POST); serving the request directly would be fine too.
  t.true(posted.status === 303 || posted.status === 200, `POST answered ${posted.status}`);
  if (posted.status === 303) {
    const location = new URL(posted.headers.get('location')!, endpoint);
    t.is(location.origin + location.pathname, endpoint);
    t.is(location.searchParams.get('state'), state);
    t.is(location.searchParams.get('client_id'), body.get('client_id'));
  }
  const first = await browser.follow(posted, atRedirectUri);
  const flow = await continueFlow(browser, first, user, { url: new URL(endpoint), verifier, state, nonce });
  t.true(flow.loginShown, 'the POSTed request leads to the login page');
  const tokens = await exchange(t, config, flow);
  t.is(tokens.claims()!.sub, user.id);
  t.is(tokens.claims()!.nonce, nonce, 'the POSTed parameters were used');

  // SSO works for a POSTed request too: a second POST with prompt=none is answered without UI.
  const state2 = oidc.randomState();
  const verifier2 = oidc.randomPKCECodeVerifier();
  body.set('state', state2);
  body.set('prompt', 'none');
  body.set('code_challenge', await oidc.calculatePKCECodeChallenge(verifier2));
  const again = await browser.follow(await browser.request(endpoint, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), atRedirectUri);
  t.true(atRedirectUri(again.url), `prompt=none by POST returns to the client, ended at ${again.url}`);
  const params: Record<string, string | undefined> = Object.fromEntries(new URL(again.url).searchParams);
  t.is(params.error, undefined);
  t.truthy(params.code);
  t.is(params.state, state2);
});
