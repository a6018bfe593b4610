// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), following the conformance
// suite's "RP-initiated logout OP" plan: the OP redirects to a registered
// post_logout_redirect_uri only when the request proves which client is asking (a valid
// id_token_hint), and a confirmed logout ends the browser session.
import test, { type ExecutionContext } from 'ava';
import { generateKeyPair, SignJWT, decodeProtectedHeader, decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { Browser, parseForms, type Page } from '../helpers/browser.ts';
import { signInNewUser, silentAuthorization } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const POST_LOGOUT_URI = 'https://app.example.test/logged-out';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

/** A client, a user, and a browser signed in to Keyhold for that client. */
async function signedIn() {
  const { client, user, config, tokens, browser } = await signInNewUser(server);
  const idToken = tokens.id_token;
  if (!idToken) throw new Error('no ID token');
  return { client, user, config, browser, idToken };
}

function endSessionUrl(config: oidc.Configuration, parameters: Record<string, string>): string {
  const endpoint = config.serverMetadata().end_session_endpoint;
  if (!endpoint) throw new Error('no end_session_endpoint');
  const url = new URL(endpoint);
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url.toString();
}

/** Submits the engine's logout form (op.logoutForm) with the "Yes, sign me out" button. */
async function confirmLogout(browser: Browser, page: Page): Promise<Page> {
  return browser.submit(page, /\/session\/end\/confirm$/, {}, { button: 'logout', follow: false });
}

async function assertSessionEnded(t: ExecutionContext, config: oidc.Configuration, browser: Browser) {
  const callback = await silentAuthorization(config, browser);
  t.is(callback.searchParams.get('error'), 'login_required', `prompt=none after logout: ${callback}`);
  t.false(callback.searchParams.has('code'));
}

async function assertSessionAlive(t: ExecutionContext, config: oidc.Configuration, browser: Browser) {
  const callback = await silentAuthorization(config, browser);
  t.is(callback.searchParams.get('error'), null, `prompt=none with a live session: ${callback}`);
  t.truthy(callback.searchParams.get('code'));
}

/** The request was refused on an error page: no redirect anywhere, no logout form. */
function assertRefused(t: ExecutionContext, page: Page, description: RegExp) {
  t.is(page.status, 400, page.body.slice(0, 300));
  t.is(page.headers.get('location'), null);
  t.regex(page.body, /Error code: <code>invalid_request<\/code>/);
  t.regex(page.body, description);
  t.is(parseForms(page.body, page.url).length, 0, 'an error page offers no logout form');
}

function flipSignatureCharacter(jwt: string): string {
  const [header, payload, signature] = jwt.split('.') as [string, string, string];
  // Not the last character: its low bits are padding, so changing it may decode to the same bytes.
  const index = Math.floor(signature.length / 2);
  const replacement = signature[index] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, index)}${replacement}${signature.slice(index + 1)}`;
}

test('end_session_endpoint is published in discovery', async (t) => {
  const response = await fetch(`${server.issuer}/.well-known/openid-configuration`);
  t.is(response.status, 200);
  const metadata = (await response.json()) as Record<string, unknown>;
  t.is(typeof metadata.end_session_endpoint, 'string');
  const endpoint = new URL(metadata.end_session_endpoint as string);
  t.is(endpoint.origin, new URL(server.issuer).origin);
  t.is(endpoint.protocol, 'http:');
  // The endpoint answers (a logout page for an anonymous browser is still a page).
  const page = await new Browser().request(endpoint.toString());
  t.is(page.status, 200);
});

test('oidcc-rp-initiated-logout: id_token_hint + post_logout_redirect_uri + state redirects with state; then prompt=none gives login_required', async (t) => {
  const { config, browser, idToken, client } = await signedIn();
  await assertSessionAlive(t, config, browser);
  const state = oidc.randomState();
  const page = await browser.get(endSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state }));
  t.is(page.status, 200);
  t.regex(page.body, /Do you want to sign out/);
  t.true(page.body.includes(client.clientId), 'the logout page names the client');
  const confirmed = await confirmLogout(browser, page);
  t.is(confirmed.status, 303);
  const location = new URL(confirmed.headers.get('location')!);
  t.is(`${location.origin}${location.pathname}`, POST_LOGOUT_URI);
  t.is(location.searchParams.get('state'), state);
  t.deepEqual([...location.searchParams.keys()], ['state']);
  t.false(browser.cookies.has('keyhold_session'), 'the session cookie is cleared');
  await assertSessionEnded(t, config, browser);
});

test('oidcc-rp-initiated-logout-bad-post-logout-redirect-uri: unregistered URI is refused, no redirect', async (t) => {
  const { config, browser, idToken } = await signedIn();
  const page = await browser.get(endSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example.test/logged-out', state: 'abc' }));
  assertRefused(t, page, /post_logout_redirect_uri not registered/);
  t.false(page.body.includes('evil.example.test'));
  await assertSessionAlive(t, config, browser);
});

test('oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri: registered URI plus a query is refused', async (t) => {
  const { config, browser, idToken } = await signedIn();
  const page = await browser.get(endSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${POST_LOGOUT_URI}?foo=bar`, state: 'abc' }));
  assertRefused(t, page, /post_logout_redirect_uri not registered/);
  await assertSessionAlive(t, config, browser);
});

test('oidcc-rp-initiated-logout-modified-id-token-hint: a token with a changed signature is refused', async (t) => {
  const { config, browser, idToken } = await signedIn();
  const modified = flipSignatureCharacter(idToken);
  t.not(modified, idToken);
  const page = await browser.get(endSessionUrl(config, { id_token_hint: modified, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'abc' }));
  assertRefused(t, page, /could not validate id_token_hint/);
  await assertSessionAlive(t, config, browser);
});

test('oidcc-rp-initiated-logout-bad-id-token-hint: an alg=none id_token_hint is refused', async (t) => {
  const { config, browser, idToken } = await signedIn();
  const [, payload] = idToken.split('.');
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const unsigned = `${header}.${payload}.`;
  t.is(decodeProtectedHeader(unsigned).alg, 'none');
  const page = await browser.get(endSessionUrl(config, { id_token_hint: unsigned, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'abc' }));
  assertRefused(t, page, /could not validate id_token_hint/);
  await assertSessionAlive(t, config, browser);
});

test('id_token_hint signed by a foreign key (same claims, same kid) is refused', async (t) => {
  const { config, browser, idToken } = await signedIn();
  const realHeader = decodeProtectedHeader(idToken);
  t.is(realHeader.alg, 'RS256');
  const { privateKey } = await generateKeyPair('RS256');
  const forged = await new SignJWT(decodeJwt(idToken))
    .setProtectedHeader({ alg: 'RS256', kid: realHeader.kid, typ: 'JWT' })
    .sign(privateKey);
  const page = await browser.get(endSessionUrl(config, { id_token_hint: forged, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'abc' }));
  assertRefused(t, page, /could not validate id_token_hint/);
  await assertSessionAlive(t, config, browser);
});

test('oidcc-rp-initiated-logout-no-id-token-hint: post_logout_redirect_uri without a hint is not used', async (t) => {
  const { config, browser } = await signedIn();
  const page = await browser.get(endSessionUrl(config, { post_logout_redirect_uri: POST_LOGOUT_URI, state: 'abc' }));
  t.is(page.status, 200);
  t.is(page.headers.get('location'), null);
  t.regex(page.body, /Do you want to sign out/);
  const confirmed = await confirmLogout(browser, page);
  t.is(confirmed.status, 303);
  const location = new URL(confirmed.headers.get('location')!, confirmed.url);
  t.false(location.toString().startsWith(POST_LOGOUT_URI), `redirected to ${location}`);
  t.is(location.origin, new URL(server.issuer).origin);
  t.false(location.searchParams.has('state'), 'the state goes nowhere without a registered URI');
  const success = await browser.get(location.toString());
  t.is(success.status, 200);
  t.regex(success.body, /You are signed out/);
  await assertSessionEnded(t, config, browser);
});

test('oidcc-rp-initiated-logout-no-params: a logout page, and confirming ends the session', async (t) => {
  const { config, browser } = await signedIn();
  const page = await browser.get(endSessionUrl(config, {}));
  t.is(page.status, 200);
  t.regex(page.body, /Do you want to sign out/);
  const form = parseForms(page.body, page.url).find((candidate) => /\/session\/end\/confirm$/.test(candidate.action));
  t.truthy(form);
  t.is(form!.method, 'post');
  t.true(form!.fields.some((field) => field.name === 'xsrf' && field.value.length > 0));
  t.deepEqual(form!.buttons.find((button) => button.name === 'logout'), { name: 'logout', value: 'yes' });
  const confirmed = await confirmLogout(browser, page);
  t.is(confirmed.status, 303);
  const location = new URL(confirmed.headers.get('location')!, confirmed.url);
  t.is(location.origin, new URL(server.issuer).origin);
  const success = await browser.get(location.toString());
  t.is(success.status, 200);
  t.regex(success.body, /You are signed out/);
  await assertSessionEnded(t, config, browser);
});

test('logout confirmation without the xsrf value is refused and the session stays', async (t) => {
  const { config, browser } = await signedIn();
  const page = await browser.get(endSessionUrl(config, {}));
  const refused = await browser.submit(page, /\/session\/end\/confirm$/, { xsrf: 'forged' }, { button: 'logout', follow: false });
  t.is(refused.status, 400);
  t.is(refused.headers.get('location'), null);
  await assertSessionAlive(t, config, browser);
});
