// Federation and the account lockout, over HTTP against a real upstream OpenID Connect
// provider: a locked account is signed in by its upstream identity no more than by its
// password, and the failure it gets is the one any failed federated sign-in gets; a wrong
// password on the link page counts towards the lockout like one at the login form, and a
// locked account's right password there is answered like a wrong one. The attacker's view:
// nothing on any page tells a locked account from a failed attempt.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import type * as oidc from 'openid-client';
import { Browser, type Page } from '../helpers/browser.ts';
import { atRedirectUri, createUser, discover, finishAtClient, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { h1 } from '../helpers/page.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.ts';

const CONNECTOR = 'corp';

let server: TestServer;
let upstream: UpstreamIdp;
let config: oidc.Configuration;

test.before(async () => {
  // Rate limits far above the lockout threshold: what stops the guesses here is the lockout.
  server = await startTestServer({
    env: { LOCKOUT_THRESHOLD: '3', LOGIN_RATE_LIMIT: '100', LOGIN_ACCOUNT_RATE_LIMIT: '100', MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' },
  });
  upstream = await startUpstreamIdp({ redirectUri: `${server.issuer}/connect/${CONNECTOR}/callback` });
  await server.keyhold.connectors.create({ id: CONNECTOR, type: 'oidc', name: 'Corp Identity', client_id: upstream.clientId, client_secret: upstream.clientSecret, issuer: upstream.issuer });
  config = await discover(server, await registerClient(server, { first_party: true }));
});
test.after.always(async () => {
  await upstream?.stop();
  await server?.stop();
});

function upstreamUser(email?: string) {
  const subject = `sub-${randomBytes(6).toString('hex')}`;
  upstream.users.set(subject, { email: email ?? `${subject}@corp.example.test`, email_verified: true, name: 'Fed User' });
  upstream.signIn(subject);
  return subject;
}

async function viaConnector(parameters: Record<string, string> = {}, browser = new Browser()) {
  const flow = await openAuthorization(config, parameters, browser);
  const page = await browser.submit(flow.page, /\/federation\/start$/, {}, { button: 'connector', stopAt: atRedirectUri });
  return { flow, page };
}

async function wrongLogin(email: string) {
  const flow = await openAuthorization(config);
  return flow.browser.submit(flow.page, /\/login$/, { email, password: 'not the password at all' }, { stopAt: atRedirectUri });
}

/** What a page says, without what differs per request (CSRF token, passkey challenge, interaction id). */
const visible = (page: Page) =>
  page.body
    .replace(/name="csrf" value="[^"]*"/g, '')
    .replace(/name="challenge" value="[^"]*"/g, '')
    .replace(/"challenge":"[^"]*"/g, '')
    .replace(/\/interaction\/[\w-]+/g, '/interaction/X')
    .replace(/interaction=[\w-]+/g, 'interaction=X');

const identitiesOf = (accountId: string) => server.keyhold.db.selectFrom('federated_identities').selectAll().where('account_id', '=', accountId).execute();

test.serial('a locked account is not signed in by its upstream identity; the page is the one a failed federated sign-in gets', async (t) => {
  const subject = upstreamUser();
  const first = await viaConnector();
  const { claims } = await finishAtClient(config, first.flow, first.page);
  const accountId = String(claims.sub);

  // What a federated sign-in that fails for any other reason looks like: declined upstream.
  upstream.deny = true;
  let declined: Page;
  try {
    declined = (await viaConnector()).page;
  } finally {
    upstream.deny = false;
  }
  t.is(declined.status, 400);

  for (let failure = 0; failure < 3; failure++) await server.keyhold.lockout.recordFailure(accountId);
  t.true(await server.keyhold.lockout.isLocked(accountId));

  upstream.signIn(subject);
  const locked = await viaConnector();
  t.false(atRedirectUri(locked.page.url), 'no sign-in while locked');
  t.is(locked.page.status, declined.status);
  t.is(h1(locked.page), h1(declined));
  t.is(visible(locked.page), visible(declined));
  t.notRegex(locked.page.body, /lock/i);
  const audit = await server.keyhold.db.selectFrom('audit_log').select('details').where('event', '=', 'login.failed').where('account_id', '=', accountId).executeTakeFirst();
  t.like(audit?.details, { method: 'federated', reason: 'locked' });

  // Unlocked, the same upstream identity signs in again.
  t.true(await server.keyhold.lockout.unlock(accountId));
  const after = await viaConnector();
  t.is((await finishAtClient(config, after.flow, after.page)).claims.sub, accountId);
});

test.serial('wrong passwords on the link page count towards the lockout; once locked, the right one gets the wrong one\'s page', async (t) => {
  const existing = await createUser(server);
  upstreamUser(existing.email);
  const { flow, page } = await viaConnector();
  // One wrong password at the login form and two on the link page add up to the threshold.
  t.is((await wrongLogin(existing.email)).status, 401);
  const wrong = await flow.browser.submit(page, /\/federation\/link$/, { password: 'wrong guess one' }, { stopAt: atRedirectUri });
  t.is(wrong.status, 401);
  t.false(await server.keyhold.lockout.isLocked(existing.id));
  const wrongAgain = await flow.browser.submit(wrong, /\/federation\/link$/, { password: 'wrong guess two' }, { stopAt: atRedirectUri });
  t.is(wrongAgain.status, 401);
  t.true(await server.keyhold.lockout.isLocked(existing.id));

  // Locked: the right password on the link page is answered exactly like a wrong one, and nothing is linked.
  const right = await flow.browser.submit(wrongAgain, /\/federation\/link$/, { password: existing.password }, { stopAt: atRedirectUri });
  t.false(atRedirectUri(right.url));
  t.is(right.status, wrongAgain.status);
  t.is(visible(right), visible(wrongAgain));
  t.deepEqual(await identitiesOf(existing.id), []);

  // After the lock is lifted the link works with the password.
  await server.keyhold.lockout.unlock(existing.id);
  const again = await viaConnector();
  const linked = await again.flow.browser.submit(again.page, /\/federation\/link$/, { password: existing.password }, { stopAt: atRedirectUri });
  t.is((await finishAtClient(config, again.flow, linked)).claims.sub, existing.id);
  t.is((await identitiesOf(existing.id)).length, 1);
});

test.serial('a session of a locked account does not prove it for linking: the password is asked, and refused', async (t) => {
  const existing = await createUser(server);
  const browser = new Browser();
  const first = await openAuthorization(config, {}, browser);
  const signedIn = await browser.submit(first.page, /\/login$/, { email: existing.email, password: existing.password }, { stopAt: atRedirectUri });
  await finishAtClient(config, first, signedIn);
  // Someone else guesses the password elsewhere until the account locks.
  for (let failure = 0; failure < 3; failure++) await wrongLogin(existing.email);
  t.true(await server.keyhold.lockout.isLocked(existing.id));

  upstreamUser(existing.email);
  const { flow, page } = await viaConnector({ prompt: 'login' }, browser);
  t.false(atRedirectUri(page.url), 'not linked through the session while locked');
  t.regex(page.body, /\/federation\/link"/);
  t.deepEqual(await identitiesOf(existing.id), []);
  const refused = await flow.browser.submit(page, /\/federation\/link$/, { password: existing.password }, { stopAt: atRedirectUri });
  t.is(refused.status, 401);
  t.deepEqual(await identitiesOf(existing.id), []);
});
