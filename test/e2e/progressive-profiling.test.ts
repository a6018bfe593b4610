// Progressive profiling, the sign-in pipeline's first new step (issue 8): a client that
// declares `required_claims` gets them. A user who lacks any is asked on one page after
// sign-in, validated like the Account API, before any code is issued; the page cannot be
// skipped, is CSRF-protected and bound to the browser that started the sign-in. The ID
// token's acr, amr and auth_time come from the login flow's verifications.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser, type Page } from '../helpers/browser.ts';
import { atRedirectUri, createUser, discover, finishAtClient, login, openAuthorization, registerClient, type OpenedAuthorization } from '../helpers/oidc.ts';
import { cliEnv, runKeyhold } from '../helpers/cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const SCOPE = 'openid email profile phone';
const PROFILE_ACTION = /\/interaction\/[^/]+\/profile$/;

let server: TestServer;
/** first_party, requires name and phone_number. */
let requiring: oidc.Configuration;
/** third party (consent asked), requires name and phone_number. */
let requiringThirdParty: oidc.Configuration;
/** first_party, requires nothing. */
let plain: oidc.Configuration;

test.before(async () => {
  server = await startTestServer();
  requiring = await discover(server, await registerClient(server, { first_party: true, required_claims: ['name', 'phone_number'] }));
  requiringThirdParty = await discover(server, await registerClient(server, { required_claims: ['name', 'phone_number'] }));
  plain = await discover(server, await registerClient(server, { first_party: true }));
});
test.after.always(async () => {
  await server?.stop();
});

/** An account with no name and no phone number. */
async function bareUser() {
  const email = `bare-${randomBytes(4).toString('hex')}@example.test`;
  const password = 'correct horse battery staple';
  const account = await server.keyhold.accounts.create({ email, password, emailVerified: true });
  return { ...account, password };
}

/** Opens an authorization request at `config` and signs in with the password. */
async function signIn(config: oidc.Configuration, user: { email: string; password: string }, browser = new Browser()): Promise<{ flow: OpenedAuthorization; page: Page }> {
  const flow = await openAuthorization(config, { scope: SCOPE }, browser);
  const page = await browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  return { flow, page };
}

const isProfilePage = (page: Page) => page.status === 200 && PROFILE_ACTION.test(page.body.match(/<form method="post" action="([^"]+)"/)?.[1] ?? '');
const noCode = (page: Page) => !atRedirectUri(page.url) && !page.body.includes('code=');
const csrfOf = (page: Page) => /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
const uidOf = (page: Page) => /\/interaction\/([^/"]+)\/profile/.exec(page.body)![1]!;

test('a user without the required claims is asked on one page; a bad phone number is 400 with the field error; good values reach the client and the tokens carry them', async (t) => {
  const user = await bareUser();
  const { flow, page } = await signIn(requiring, user);
  t.true(isProfilePage(page), page.body.slice(0, 600));
  t.regex(page.body, /name="name"/);
  t.regex(page.body, /name="phone_number"/);
  t.regex(page.body, /type="hidden" name="csrf" value="[^"]+"/);
  t.false(/name="(given_name|family_name|locale|zoneinfo|picture)"/.test(page.body), 'only the required claims are asked');

  const bad = await flow.browser.submit(page, PROFILE_ACTION, { name: 'Ada Lovelace', phone_number: '12345' }, { stopAt: atRedirectUri });
  t.is(bad.status, 400);
  t.regex(bad.body, /class="field-error">phone_number must be in E\.164 form/);
  t.regex(bad.body, /name="name"[^>]*value="Ada Lovelace"/, 'what was typed is kept');
  t.true(noCode(bad));

  const empty = await flow.browser.submit(bad, PROFILE_ACTION, { name: ' ', phone_number: '+14155550123' }, { stopAt: atRedirectUri });
  t.is(empty.status, 400);
  t.regex(empty.body, /Full name is required/);

  const done = await flow.browser.submit(empty, PROFILE_ACTION, { name: 'Ada Lovelace', phone_number: '+14155550123' }, { stopAt: atRedirectUri });
  const { tokens, claims } = await finishAtClient(requiring, flow, done);
  // conformIdTokenClaims: with an access token, scope-released claims are at userinfo.
  const userinfo = await oidc.fetchUserInfo(requiring, tokens.access_token, claims.sub);
  t.is(userinfo.name, 'Ada Lovelace');
  t.is(userinfo.phone_number, '+14155550123');
});

test('acr, amr and auth_time come from the login flow: auth_time is when the password was checked, not when the profile page was sent', async (t) => {
  const user = await bareUser();
  const before = Math.floor(Date.now() / 1000);
  const { flow, page } = await signIn(requiring, user);
  const passwordChecked = Math.ceil(Date.now() / 1000);
  t.true(isProfilePage(page));
  // Long enough that a sign-in finished "now" would carry a later auth_time.
  await sleep(2100);
  const profileSent = Math.floor(Date.now() / 1000);
  const done = await flow.browser.submit(page, PROFILE_ACTION, { name: 'Grace Hopper', phone_number: '+442071838750' }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(requiring, flow, done);
  t.deepEqual(claims.amr, ['pwd']);
  t.is(claims.acr, 'urn:keyhold:acr:password');
  t.true(claims.auth_time! >= before && claims.auth_time! <= passwordChecked, `auth_time ${claims.auth_time} not within [${before}, ${passwordChecked}]`);
  t.true(claims.auth_time! < profileSent);
});

test('acr_values naming only values Keyhold does not know are voluntary: the sign-in ends with what was achieved', async (t) => {
  const user = await createUser(server);
  const { claims } = await login(plain, user, { scope: SCOPE, acr_values: 'urn:example:acr:gold' }).then((result) => ({ claims: result.tokens.claims()! }));
  t.is(claims.acr, 'urn:keyhold:acr:password');
  t.deepEqual(claims.amr, ['pwd']);
});

test('a user who has the required claims is not asked', async (t) => {
  const user = await createUser(server);
  await server.keyhold.accountData.updateProfile(user.id, { phone_number: '+14155550100' });
  const { flow, page } = await signIn(requiring, user);
  t.true(atRedirectUri(page.url), page.body.slice(0, 400));
  const { tokens, claims } = await finishAtClient(requiring, flow, page);
  const userinfo = await oidc.fetchUserInfo(requiring, tokens.access_token, claims.sub);
  t.is(userinfo.name, 'Test User');
  t.is(userinfo.phone_number, '+14155550100');
});

test('a client without required_claims never asks', async (t) => {
  const user = await bareUser();
  const { flow, page } = await signIn(plain, user);
  t.true(atRedirectUri(page.url), page.body.slice(0, 400));
  const { tokens, claims } = await finishAtClient(plain, flow, page);
  const userinfo = await oidc.fetchUserInfo(plain, tokens.access_token, claims.sub);
  t.is(userinfo.name, undefined);
  t.is(userinfo.phone_number, undefined);
});

test('the step cannot be skipped: posting consent, posting the password again, reloading, or starting over never yields a code', async (t) => {
  const user = await bareUser();
  const { flow, page } = await signIn(requiringThirdParty, user);
  t.true(isProfilePage(page));
  const uid = uidOf(page);
  const csrf = csrfOf(page);

  const consent = await flow.browser.request(`${server.issuer}/interaction/${uid}/confirm`, { method: 'POST', body: new URLSearchParams({ csrf }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.is(consent.status, 400);
  t.true(noCode(await flow.browser.follow(consent, atRedirectUri)));

  const reloaded = await flow.browser.get(`${server.issuer}/interaction/${uid}`, atRedirectUri);
  t.true(isProfilePage(reloaded), 'reloading shows the page again');

  const again = await flow.browser.request(`${server.issuer}/interaction/${uid}/login`, { method: 'POST', body: new URLSearchParams({ csrf, email: user.email, password: user.password }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.true(isProfilePage(await flow.browser.follow(again, atRedirectUri)), 'signing in again leads to the same page');

  // Back at the authorization endpoint: a new sign-in, and the page again after it.
  const restarted = await signIn(requiringThirdParty, user, flow.browser);
  t.true(isProfilePage(restarted.page));
  t.true(noCode(restarted.page));

  const account = await server.keyhold.accounts.findById(user.id);
  t.is(account?.name, null);
  t.is(account?.phoneNumber, null);
});

test('a browser already signed in at Keyhold is asked before consent; a claim removed later is asked again, and prompt=none gets interaction_required, not a code', async (t) => {
  const user = await bareUser();
  const browser = new Browser();
  const first = await signIn(plain, user, browser);
  t.true(atRedirectUri(first.page.url), 'signed in at a client that requires nothing');

  const flow = await openAuthorization(requiringThirdParty, { scope: SCOPE }, browser);
  t.true(isProfilePage(flow.page), flow.page.body.slice(0, 400));
  const reloaded = await browser.get(`${server.issuer}/interaction/${uidOf(flow.page)}`, atRedirectUri);
  t.true(isProfilePage(reloaded));
  const next = await browser.submit(flow.page, PROFILE_ACTION, { name: 'Katherine Johnson', phone_number: '+17575550199' }, { stopAt: atRedirectUri });
  t.regex(next.body, /action="[^"]*\/confirm"/, 'then the consent page');
  const { tokens, claims } = await finishAtClient(requiringThirdParty, flow, next);
  const userinfo = await oidc.fetchUserInfo(requiringThirdParty, tokens.access_token, claims.sub);
  t.is(userinfo.name, 'Katherine Johnson');
  t.is(userinfo.phone_number, '+17575550199');

  // The user removes the number (Account API); the client's consent stands, the claim does not.
  await server.keyhold.accountData.updateProfile(user.id, { phone_number: null });
  const silent = await openAuthorization(requiringThirdParty, { scope: SCOPE, prompt: 'none' }, browser);
  const callback = new URL(silent.page.url);
  t.is(callback.searchParams.get('error'), 'interaction_required');
  t.is(callback.searchParams.get('code'), null);

  const again = await openAuthorization(requiringThirdParty, { scope: SCOPE }, browser);
  t.true(isProfilePage(again.page));
  t.false(/name="name"/.test(again.page.body), 'only the missing claim is asked');
  const consent = await browser.request(`${server.issuer}/interaction/${uidOf(again.page)}/confirm`, {
    method: 'POST',
    body: new URLSearchParams({ csrf: csrfOf(again.page) }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.true(isProfilePage(consent), 'posting consent shows the page instead');
  const done = await browser.submit(again.page, PROFILE_ACTION, { phone_number: '+17575550123' }, { stopAt: atRedirectUri });
  t.true(atRedirectUri(done.url), 'consent was given before: straight back to the client');
  const { tokens: second, claims: secondClaims } = await finishAtClient(requiringThirdParty, again, done);
  t.is((await oidc.fetchUserInfo(requiringThirdParty, second.access_token, secondClaims.sub)).phone_number, '+17575550123');
});

test('the profile form without its CSRF token, or with a forged one, is refused with 403 and nothing is saved', async (t) => {
  const user = await bareUser();
  const { flow, page } = await signIn(requiring, user);
  const url = `${server.issuer}/interaction/${uidOf(page)}/profile`;
  const values = { name: 'Mallory', phone_number: '+14155550111' };
  for (const body of [new URLSearchParams(values), new URLSearchParams({ ...values, csrf: 'forged' })]) {
    const response = await flow.browser.request(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    t.is(response.status, 403);
    t.true(noCode(response));
  }
  t.is((await server.keyhold.accounts.findById(user.id))?.name, null);
});

test('another browser cannot use the interaction, even with its CSRF token', async (t) => {
  const user = await bareUser();
  const { page } = await signIn(requiring, user);
  const other = new Browser();
  const response = await other.request(`${server.issuer}/interaction/${uidOf(page)}/profile`, {
    method: 'POST',
    body: new URLSearchParams({ csrf: csrfOf(page), name: 'Mallory', phone_number: '+14155550111' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.true(response.status === 400 || response.status === 403, `status ${response.status}`);
  t.true(noCode(await other.follow(response, atRedirectUri)));
  t.is((await server.keyhold.accounts.findById(user.id))?.name, null);
  const shown = await other.get(`${server.issuer}/interaction/${uidOf(page)}`, atRedirectUri);
  t.is(shown.status, 400);
  t.false(isProfilePage(shown));
});

test('required_claims is validated: only known profile claim names, as an array', async (t) => {
  for (const required_claims of [['email'], ['nickname'], 'name', [42], ['name', 'name']]) {
    await t.throwsAsync(registerClient(server, { required_claims }), { message: /required_claims/ }, JSON.stringify(required_claims));
  }
  const accepted = await registerClient(server, { required_claims: ['name', 'given_name', 'family_name', 'phone_number', 'locale', 'zoneinfo', 'picture'] });
  t.deepEqual(accepted.metadata.required_claims, ['name', 'given_name', 'family_name', 'phone_number', 'locale', 'zoneinfo', 'picture']);
});

test('keyhold client create --metadata accepts required_claims and refuses unknown claim names', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'keyhold-profiling-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // The server's secret: the command writes into the server's database.
  const env = cliEnv({ DATA_DIR: dataDir, DATABASE_URL: server.databaseUrl!, KEYHOLD_SECRET: 'test-secret-0123456789abcdef0123456789abcdef' });
  const metadata = { redirect_uris: ['https://app.example.test/callback'], first_party: true, required_claims: ['name', 'phone_number'] };
  const created = await runKeyhold(['client', 'create', '--metadata', JSON.stringify(metadata)], env);
  t.is(created.code, 0, created.stderr);
  const client = JSON.parse(created.stdout) as Record<string, unknown>;
  t.deepEqual(client.required_claims, ['name', 'phone_number']);

  const refused = await runKeyhold(['client', 'create', '--metadata', JSON.stringify({ ...metadata, required_claims: ['password'] })], env);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /^keyhold: .*required_claims/);

  // The client the CLI created asks for the claims at sign-in.
  const config = await discover(server, { clientId: client.client_id as string, clientSecret: client.client_secret as string, metadata: client });
  const { page } = await signIn(config, await bareUser());
  t.true(isProfilePage(page));
});
