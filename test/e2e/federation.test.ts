// Federated sign-in over HTTP against a real upstream OpenID Connect provider (a bare
// oidc-provider on its own port): first sign-in creates the account, the next one finds it,
// an existing account with the same address is linked only with its password, and every
// forged, replayed or doctored answer from upstream is refused without creating anything.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import * as oidc from 'openid-client';
import { accountResourceFor } from '#src/services/resources.ts';
import { callApi } from '../helpers/api.ts';
import { Browser, type Page } from '../helpers/browser.ts';
import { atRedirectUri, createUser, discover, finishAtClient, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { fieldNames, h1, links } from '../helpers/page.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startOAuthProfileServer } from '../helpers/oauth-profile-server.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.ts';

const CONNECTOR = 'corp';
const CONNECTOR_NAME = 'Corp Identity';

let server: TestServer;
let upstream: UpstreamIdp;
let config: oidc.Configuration;

test.before(async () => {
  // A short deadline, so that the slow-upstream case ends soon.
  server = await startTestServer({ env: { FEDERATION_TIMEOUT: '1' } });
  upstream = await startUpstreamIdp({ redirectUri: `${server.issuer}/connect/${CONNECTOR}/callback` });
  const created = await server.keyhold.connectors.create({ id: CONNECTOR, type: 'oidc', name: CONNECTOR_NAME, client_id: upstream.clientId, client_secret: upstream.clientSecret, issuer: upstream.issuer });
  if (created.redirect_uri !== `${server.issuer}/connect/${CONNECTOR}/callback`) throw new Error(`unexpected redirect_uri ${created.redirect_uri}`);
  config = await discover(server, await registerClient(server, { first_party: true }));
});
test.after.always(async () => {
  await upstream?.stop();
  await server?.stop();
});

/** A new person upstream (serial tests change who is signed in there). */
function upstreamUser(claims: { email?: string; email_verified?: boolean; name?: string } = {}) {
  const subject = `sub-${randomBytes(6).toString('hex')}`;
  const email = claims.email ?? `${subject}@corp.example.test`;
  upstream.users.set(subject, { email, email_verified: claims.email_verified ?? true, name: claims.name ?? 'Fed User' });
  upstream.signIn(subject);
  return { subject, email };
}

const isCallback = (url: string) => url.startsWith(`${server.issuer}/connect/${CONNECTOR}/callback`);

/** From Keyhold's login page, the connector's button, through upstream, to the page Keyhold answers the callback with. */
async function viaConnector(parameters: Record<string, string> = {}, browser = new Browser()) {
  const flow = await openAuthorization(config, parameters, browser);
  const page = await browser.submit(flow.page, /\/federation\/start$/, {}, { button: 'connector', stopAt: atRedirectUri });
  return { flow, page };
}

const lastFailure = async () =>
  (await server.keyhold.db.selectFrom('audit_log').select('details').where('event', '=', 'federation.failed').orderBy('id', 'desc').executeTakeFirst())?.details as { reason?: string } | undefined;
const identitiesOf = (accountId: string) => server.keyhold.db.selectFrom('federated_identities').selectAll().where('account_id', '=', accountId).execute();
const accountByEmail = (email: string) => server.keyhold.db.selectFrom('accounts').selectAll().where('email_normalized', '=', email.toLowerCase()).executeTakeFirst();

test.serial('the login and registration pages show one button per connector, with its name', async (t) => {
  const { page } = await openAuthorization(config);
  t.true(page.body.includes(`Continue with ${CONNECTOR_NAME}`));
  t.is((page.body.match(/name="connector"/g) ?? []).length, 1);
  const register = await openAuthorization(config, { prompt: 'create' });
  t.true(register.page.body.includes(`Continue with ${CONNECTOR_NAME}`), h1(register.page));
});

test.serial('first sign-in creates the account (email verified upstream), the next one finds it', async (t) => {
  const person = upstreamUser({ name: 'Ada Upstream' });
  upstream.amr = ['pwd', 'otp', 'mfa'];
  let first;
  try {
    first = await viaConnector();
  } finally {
    upstream.amr = ['pwd'];
  }
  const { claims } = await finishAtClient(config, first.flow, first.page);
  // fed, plus what the upstream asserted; its `mfa` only from a connector trusted for it.
  t.true((claims.amr as string[]).includes('fed'));
  t.true((claims.amr as string[]).includes('otp'));
  t.false((claims.amr as string[]).includes('mfa'));
  t.is(claims.acr, 'urn:keyhold:acr:password');
  const account = await accountByEmail(person.email);
  t.truthy(account);
  t.is(claims.sub, account!.id);
  t.true(account!.email_verified);
  t.is(account!.password_hash, null);
  t.is(account!.name, 'Ada Upstream');
  t.deepEqual((await identitiesOf(account!.id)).map((row) => [row.connector_id, row.subject]), [[CONNECTOR, person.subject]]);

  const again = await viaConnector();
  t.is((await finishAtClient(config, again.flow, again.page)).claims.sub, account!.id);
  t.is((await server.keyhold.db.selectFrom('accounts').select('id').where('email_normalized', '=', person.email).execute()).length, 1);
});

test.serial('trust_upstream_mfa: an upstream multi-factor sign-in counts as multi-factor here', async (t) => {
  await server.keyhold.connectors.update(CONNECTOR, { trust_upstream_mfa: true });
  upstreamUser();
  upstream.amr = ['pwd', 'otp', 'mfa'];
  try {
    const trusted = await viaConnector();
    const { claims } = await finishAtClient(config, trusted.flow, trusted.page);
    t.is(claims.acr, 'urn:keyhold:acr:mfa');
    t.true((claims.amr as string[]).includes('fed'));
    t.true((claims.amr as string[]).includes('mfa'));
    // Without the upstream's mfa, the same trusted connector is one factor.
    upstream.amr = ['pwd'];
    const single = await viaConnector();
    t.is((await finishAtClient(config, single.flow, single.page)).claims.acr, 'urn:keyhold:acr:password');
  } finally {
    upstream.amr = ['pwd'];
    await server.keyhold.connectors.update(CONNECTOR, { trust_upstream_mfa: false });
  }
});

test.serial('an existing account with the same email is linked only with its password', async (t) => {
  const existing = await createUser(server);
  upstreamUser({ email: existing.email.toUpperCase() });
  const { flow, page } = await viaConnector();
  // The link page asks for the existing account's password; nothing is linked yet.
  t.is(page.status, 200);
  t.deepEqual(fieldNames(page, /\/federation\/link$/), ['csrf', 'password']);
  t.false(atRedirectUri(page.url));
  t.deepEqual(await identitiesOf(existing.id), []);

  const wrong = await flow.browser.submit(page, /\/federation\/link$/, { password: 'not the password at all' }, { stopAt: atRedirectUri });
  t.is(wrong.status, 401);
  t.false(atRedirectUri(wrong.url));
  t.deepEqual(await identitiesOf(existing.id), []);

  const right = await flow.browser.submit(wrong, /\/federation\/link$/, { password: existing.password }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(config, flow, right);
  t.is(claims.sub, existing.id);
  t.is((await identitiesOf(existing.id)).length, 1);

  // Linked: the next federated sign-in needs no password.
  const next = await viaConnector();
  t.is((await finishAtClient(config, next.flow, next.page)).claims.sub, existing.id);
});

test.serial('an upstream email that is not verified neither links to an account nor claims the address', async (t) => {
  const existing = await createUser(server);
  upstreamUser({ email: existing.email, email_verified: false });
  const linked = await viaConnector();
  t.is(linked.page.status, 403);
  t.is(h1(linked.page), 'Email address not verified');
  t.deepEqual(await identitiesOf(existing.id), []);

  const stranger = upstreamUser({ email_verified: false });
  const created = await viaConnector();
  t.is(created.page.status, 403);
  t.is(await accountByEmail(stranger.email), undefined);
});

test.serial('a forged state is refused and signs nobody in', async (t) => {
  const person = upstreamUser();
  const browser = new Browser();
  const flow = await openAuthorization(config, {}, browser);
  // Stop at the redirect upstream: the sign-in has started, its state is stored.
  const atUpstream = await browser.submit(flow.page, /\/federation\/start$/, {}, { button: 'connector', stopAt: (url) => url.startsWith(upstream.issuer) });
  t.true(atUpstream.url.startsWith(`${upstream.issuer}/auth`));
  const forged = await browser.get(`${server.issuer}/connect/${CONNECTOR}/callback?code=attacker-code&state=${'a'.repeat(40)}`, atRedirectUri);
  t.is(forged.status, 400);
  t.is(h1(forged), 'Sign-in did not work');
  t.is((await lastFailure())?.reason, 'state mismatch');
  t.is(await accountByEmail(person.email), undefined);
  // A callback with no sign-in started in this browser at all.
  const stray = await new Browser().get(`${server.issuer}/connect/${CONNECTOR}/callback?code=x&state=y`, atRedirectUri);
  t.is(stray.status, 400);
});

test.serial('a callback is good once: replaying it (same browser or another) is refused', async (t) => {
  upstreamUser();
  const browser = new Browser();
  const flow = await openAuthorization(config, {}, browser);
  const atCallback = await browser.submit(flow.page, /\/federation\/start$/, {}, { button: 'connector', stopAt: isCallback });
  const callbackUrl = atCallback.url;
  t.true(isCallback(callbackUrl));
  const done = await browser.get(callbackUrl, atRedirectUri);
  await finishAtClient(config, flow, done);

  const replayed = await browser.get(callbackUrl, atRedirectUri);
  t.is(replayed.status, 400);
  t.false(atRedirectUri(replayed.url));
  t.regex(String((await lastFailure())?.reason), /no sign-in in progress/);
  const elsewhere = await new Browser().get(callbackUrl, atRedirectUri);
  t.is(elsewhere.status, 400);
});

test.serial('the answer may come as a form POST (response_mode=form_post, as Apple sends it)', async (t) => {
  const person = upstreamUser();
  const browser = new Browser();
  const flow = await openAuthorization(config, {}, browser);
  const atCallback = await browser.submit(flow.page, /\/federation\/start$/, {}, { button: 'connector', stopAt: isCallback });
  const callback = new URL(atCallback.url);
  const posted = await browser.request(`${callback.origin}${callback.pathname}`, {
    method: 'POST',
    body: new URLSearchParams(callback.searchParams),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const page = await browser.follow(posted, atRedirectUri);
  const { claims } = await finishAtClient(config, flow, page);
  t.is(claims.sub, (await accountByEmail(person.email))?.id ?? 'missing');
});

for (const mode of ['nonce', 'signature'] as const) {
  test.serial(`an ID token with a ${mode === 'nonce' ? 'wrong nonce' : 'signature by a foreign key'} is refused`, async (t) => {
    const person = upstreamUser();
    upstream.tamper = mode;
    let page: Page;
    try {
      ({ page } = await viaConnector());
    } finally {
      upstream.tamper = undefined;
    }
    t.is(page.status, 400);
    t.is(h1(page), 'Sign-in did not work');
    t.false(atRedirectUri(page.url));
    t.is(await accountByEmail(person.email), undefined);
    t.regex(String((await lastFailure())?.reason), mode === 'nonce' ? /nonce/ : /ID token rejected/);
  });
}

test.serial('the connector secret is stored sealed, never in clear', async (t) => {
  const row = await server.keyhold.db.selectFrom('connectors').selectAll().where('id', '=', CONNECTOR).executeTakeFirstOrThrow();
  t.false(JSON.stringify(row).includes(upstream.clientSecret));
  t.regex(row.secrets_encrypted, /^v1\./);
  const listed = await server.keyhold.connectors.list();
  t.false(JSON.stringify(listed).includes(upstream.clientSecret));
  t.deepEqual((await server.keyhold.connectors.secrets(CONNECTOR)).clientSecret, upstream.clientSecret);
});

test.serial('Account API: linked identities are listed; the last way to sign in cannot be unlinked, another can', async (t) => {
  const person = upstreamUser();
  const { flow, page } = await viaConnector({ resource: accountResourceFor(server.issuer), scope: 'openid account:read account:write' });
  const { tokens, claims } = await finishAtClient(config, flow, page);
  const token = tokens.access_token;
  const listed = await callApi(server, token, 'GET', '/api/account/identities');
  t.is(listed.status, 200);
  t.deepEqual((listed.body as unknown as Array<{ connector_id: string; subject: string }>).map((entry) => [entry.connector_id, entry.subject]), [[CONNECTOR, person.subject]]);
  const refused = await callApi(server, token, 'DELETE', `/api/account/identities/${CONNECTOR}/${person.subject}`);
  t.is(refused.status, 409);
  t.is(refused.body.error, 'last_sign_in_method');
  t.is((await identitiesOf(String(claims.sub))).length, 1);

  // With a password set, the identity can go.
  const existing = await createUser(server);
  upstreamUser({ email: existing.email });
  const linking = await viaConnector({ resource: accountResourceFor(server.issuer), scope: 'openid account:read account:write' });
  const linked = await linking.flow.browser.submit(linking.page, /\/federation\/link$/, { password: existing.password }, { stopAt: atRedirectUri });
  const { tokens: own } = await finishAtClient(config, linking.flow, linked);
  const [identity] = await identitiesOf(existing.id);
  t.is((await callApi(server, own.access_token, 'DELETE', `/api/account/identities/${CONNECTOR}/${identity!.subject}`)).status, 204);
  t.deepEqual(await identitiesOf(existing.id), []);
});

test.serial('declining at the upstream ends on a page back to sign-in, with nothing created', async (t) => {
  const person = upstreamUser();
  upstream.deny = true;
  let page: Page;
  try {
    ({ page } = await viaConnector());
  } finally {
    upstream.deny = false;
  }
  t.is(page.status, 400);
  t.is(h1(page), 'Sign-in did not work');
  t.regex(links(page)['Back to sign in'] ?? '', /^\/interaction\/[^/]+\?mode=login$/);
  t.is((await lastFailure())?.reason, 'upstream: access_denied');
  t.is(await accountByEmail(person.email), undefined);
});

test.serial('an upstream that is down or does not answer in time gets the same page', async (t) => {
  // Nothing listens on a closed port; the other server accepts and never answers.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentPort = (silent.address() as AddressInfo).port;
  try {
    for (const [id, port] of [['down', closedPort], ['slow', silentPort]] as const) {
      await server.keyhold.connectors.create({ id, type: 'oidc', name: id, client_id: 'c', client_secret: 'secret', issuer: `http://127.0.0.1:${port}` });
      const flow = await openAuthorization(config);
      const page = await flow.browser.submit(flow.page, /\/federation\/start$/, { connector: id }, { stopAt: atRedirectUri });
      t.is(page.status, 400, id);
      t.is(h1(page), 'Sign-in did not work');
      t.is((await lastFailure())?.reason, 'upstream unavailable');
      await server.keyhold.connectors.remove(id);
    }
  } finally {
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

test.serial('being signed in to the account with the same email proves it: linked without the password', async (t) => {
  const existing = await createUser(server);
  const browser = new Browser();
  // Signed in to Keyhold with the password in this browser.
  const first = await openAuthorization(config, {}, browser);
  const signedIn = await browser.submit(first.page, /\/login$/, { email: existing.email, password: existing.password }, { stopAt: atRedirectUri });
  await finishAtClient(config, first, signedIn);
  // Then a sign-in asking to log in again, through the connector, as the same address upstream.
  upstreamUser({ email: existing.email });
  const { flow, page } = await viaConnector({ prompt: 'login' }, browser);
  const { claims } = await finishAtClient(config, flow, page);
  t.is(claims.sub, existing.id);
  t.is((await identitiesOf(existing.id)).length, 1);
  const audit = await server.keyhold.db.selectFrom('audit_log').select('details').where('event', '=', 'federation.linked').where('account_id', '=', existing.id).executeTakeFirst();
  t.is((audit?.details as { proof?: string } | undefined)?.proof, 'session');
});

test('with registration closed, an unknown upstream identity gets no account', async (t) => {
  const closed = await startTestServer({ env: { REGISTRATION: 'closed' } });
  try {
    const idp = await startUpstreamIdp({ redirectUri: `${closed.issuer}/connect/corp/callback` });
    try {
      await closed.keyhold.connectors.create({ id: 'corp', type: 'oidc', name: CONNECTOR_NAME, client_id: idp.clientId, client_secret: idp.clientSecret, issuer: idp.issuer });
      idp.users.set('newcomer', { email: 'newcomer@corp.example.test', email_verified: true });
      idp.signIn('newcomer');
      const closedConfig = await discover(closed, await registerClient(closed, { first_party: true }));
      const flow = await openAuthorization(closedConfig);
      const page = await flow.browser.submit(flow.page, /\/federation\/start$/, {}, { button: 'connector', stopAt: atRedirectUri });
      t.is(page.status, 403);
      t.is(h1(page), 'No account');
      t.is(await closed.keyhold.db.selectFrom('accounts').select('id').where('email_normalized', '=', 'newcomer@corp.example.test').executeTakeFirst(), undefined);
    } finally {
      await idp.stop();
    }
  } finally {
    await closed.stop();
  }
});

test.serial('GitHub-style OAuth upstream: the primary verified address from /user/emails, never an unverified one', async (t) => {
  const github = await startOAuthProfileServer();
  try {
    const created = await server.keyhold.connectors.create({ id: 'ghe', type: 'github', name: 'GitHub Enterprise', client_id: github.clientId, client_secret: github.clientSecret, base_url: github.baseUrl });
    t.is(created.redirect_uri, `${server.issuer}/connect/ghe/callback`);
    // The address GitHub shows publicly is not the one used: the primary verified one is.
    const primary = `octo-${randomBytes(4).toString('hex')}@users.example.test`;
    github.signIn({ id: 4242, login: 'octo', name: 'Octo Cat', emails: [{ email: `old-${primary}`, primary: false, verified: true }, { email: primary, primary: true, verified: true }] });
    const flow = await openAuthorization(config);
    t.true(flow.page.body.includes('Continue with GitHub Enterprise'));
    const page = await flow.browser.submit(flow.page, /\/federation\/start$/, { connector: 'ghe' }, { stopAt: atRedirectUri });
    const { claims } = await finishAtClient(config, flow, page);
    t.true((claims.amr as string[]).includes('fed'));
    const account = await accountByEmail(primary);
    t.truthy(account);
    t.is(claims.sub, account!.id);
    t.is(account?.name, 'Octo Cat');
    t.deepEqual((await identitiesOf(account!.id)).map((row) => [row.connector_id, row.subject]), [['ghe', '4242']]);

    // A primary address GitHub has not verified is no address at all.
    const unverified = `new-${randomBytes(4).toString('hex')}@users.example.test`;
    github.signIn({ id: 5151, login: 'newbie', emails: [{ email: unverified, primary: true, verified: false }] });
    const second = await openAuthorization(config);
    const refused = await second.browser.submit(second.page, /\/federation\/start$/, { connector: 'ghe' }, { stopAt: atRedirectUri });
    t.is(refused.status, 403);
    t.is(await accountByEmail(unverified), undefined);
  } finally {
    await server.keyhold.connectors.remove('ghe').catch(() => {});
    await github.stop();
  }
});

test.serial('hostile requests to the federation routes are refused, never a 5xx', async (t) => {
  const browser = new Browser();
  const flow = await openAuthorization(config, {}, browser);
  const uid = /\/interaction\/([^/"]+)\/federation\/start/.exec(flow.page.body)![1]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(flow.page.body)![1]!;
  const form = (fields: Record<string, string | string[]>) => {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) for (const item of [value].flat()) body.append(name, item);
    return { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  };
  const attempts: Array<[string, Parameters<Browser['request']>[1]]> = [
    [`/interaction/${uid}/federation/start`, form({ csrf, connector: ['corp', 'corp'] })],
    [`/interaction/${uid}/federation/start`, form({ csrf, connector: 'x'.repeat(5000) })],
    [`/interaction/${uid}/federation/start`, form({ csrf: 'forged', connector: 'corp' })],
    [`/interaction/${uid}/federation/start`, form({ csrf, connector: 'nope' })],
    [`/interaction/${uid}/federation/link`, form({ csrf, password: 'guess' })],
    [`/interaction/${uid}/federation`, {}],
    [`/interaction/not-a-uid/federation`, {}],
    [`/connect/${'y'.repeat(3000)}`, {}],
    [`/connect/corp/callback?state=a&state=b&code=c`, {}],
    [`/connect/corp/callback?error=access_denied`, {}],
    [`/connect/corp/callback`, { method: 'POST', body: '{"state":1}', headers: { 'content-type': 'application/json' } }],
    [`/connect/corp/callback`, form({ state: ['a', 'b'], code: 'c' })],
  ];
  for (const [path, init] of attempts) {
    const page = await browser.request(`${server.issuer}${path}`, init);
    t.true(page.status >= 400 && page.status < 500, `${path}: ${page.status}`);
  }
  // Nothing above started a sign-in upstream: the connector's start is refused.
  t.is((await browser.request(`${server.issuer}/connect/corp`)).status, 400);
});
