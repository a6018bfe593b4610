// A second, attacker's review of the fixes for the security review (issue 7): bypasses of
// the fixes, over real HTTP. One test per attack, named after it.
import test from 'ava';
import type * as oidc from 'openid-client';
import { accountResourceFor } from '#src/services/resources.ts';
import { callApi } from '../helpers/api.ts';
import { Browser, parseForms, type Page } from '../helpers/browser.ts';
import { startServerWithMailbox, type Mailbox } from '../helpers/mailbox.ts';
import { atRedirectUri, createUser, discover, login, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { h1 } from '../helpers/page.ts';

let server: TestServer;
let mailbox: Mailbox;
let firstParty: oidc.Configuration;
let stop: (() => Promise<void>) | undefined;
let proxied: { server: TestServer; config: oidc.Configuration } | undefined;

test.before(async () => {
  // No cool-down between email change requests: the attacker would only have to wait a minute.
  ({ server, mailbox, stop } = await startServerWithMailbox({ VERIFICATION_RESEND_COOLDOWN: '0' }));
  firstParty = await discover(server, await registerClient(server, { first_party: true }));
  const behindProxy = await startTestServer({ env: { TRUST_PROXY: 'true', LOGIN_RATE_LIMIT: '2', LOGIN_ACCOUNT_RATE_LIMIT: '50' } });
  proxied = { server: behindProxy, config: await discover(behindProxy, await registerClient(behindProxy)) };
});
test.after.always(async () => {
  await stop?.();
  await proxied?.server.stop();
});

const VERIFY_SUBJECT = /^Confirm your new email address/;
const CHANGED_SUBJECT = /^The email address of your Keyhold account was changed$/;

const api = (token: string, method: string, path: string, body?: unknown) => callApi(server, token, method, path, body);

const linkTo = (mail: { links: string[] }, path: string) => {
  const link = mail.links.find((candidate) => candidate.startsWith(`${server.issuer}${path}?token=`));
  if (!link) throw new Error(`no ${path} link in ${JSON.stringify(mail.links)}`);
  return link;
};
const emailOf = async (id: string) => (await server.keyhold.db.selectFrom('accounts').select('email').where('id', '=', id).executeTakeFirstOrThrow()).email;

/** The attacker (who knows the password) moves the account to an address of theirs. */
async function changeEmail(token: string, password: string, to: string) {
  const started = await api(token, 'POST', '/api/account/email', { email: to, password });
  if (started.status !== 202) throw new Error(`email change refused: ${started.status} ${JSON.stringify(started.body)}`);
  const code = (await mailbox.next(to, VERIFY_SUBJECT)).code;
  const done = await api(token, 'POST', '/api/account/email/verify', { flow_id: started.body.flow_id, code });
  if (done.status !== 200) throw new Error(`email change not completed: ${done.status} ${JSON.stringify(done.body)}`);
}

test('email change chained A→B→C: the undo link mailed to A still takes the account back', async (t) => {
  const victim = await createUser(server);
  const { tokens } = await login(firstParty, victim, { resource: accountResourceFor(server.issuer), scope: 'openid account:read account:write' }, new Browser());
  const first = `taker-b-${victim.id.slice(0, 8)}@example.test`;
  const second = `taker-c-${victim.id.slice(0, 8)}@example.test`;
  await changeEmail(tokens.access_token, victim.password, first);
  const undoLink = linkTo(await mailbox.next(victim.email, CHANGED_SUBJECT), '/email-change/cancel');
  // A second change right away, to another address of the attacker's: the undo link mailed
  // to the owner must not stop working because the account moved on from B.
  await changeEmail(tokens.access_token, victim.password, second);
  t.is(await emailOf(victim.id), second);

  const browser = new Browser();
  const done = await browser.submit(await browser.get(undoLink), /\/email-change\/cancel$/);
  t.is(h1(done), 'Email address restored', `${done.status} ${done.body.slice(0, 400)}`);
  t.is(await emailOf(victim.id), victim.email);
  t.is(await server.keyhold.accounts.authenticate(victim.email, victim.password), undefined, 'the password the attacker knew is gone');
  t.is((await api(tokens.access_token, 'GET', '/api/account')).status, 401, 'the attacker is signed out');
});

/** Posts the login form of `page` as if a proxy had seen the request come from `address`. */
async function postLoginFrom(browser: Browser, page: Page, address: string, values: { email: string; password: string }): Promise<Page> {
  const form = parseForms(page.body, page.url).find((candidate) => candidate.action.endsWith('/login'));
  if (!form) throw new Error(`no login form (status ${page.status}):\n${page.body.slice(0, 300)}`);
  const body = new URLSearchParams({ csrf: form.fields.find((field) => field.name === 'csrf')!.value, ...values });
  return browser.request(form.action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address } });
}

/** Password spraying: one guess at each of many accounts, from the addresses given in turn. */
async function spray(addresses: (attempt: number) => string, label: string): Promise<number[]> {
  const { browser, page } = await openAuthorization(proxied!.config);
  const statuses: number[] = [];
  // LOGIN_RATE_LIMIT=2: one address gets 5 × 2 = 10 guesses across accounts.
  for (let attempt = 0; attempt < 11; attempt++) {
    const answer = await postLoginFrom(browser, page, addresses(attempt), { email: `${label}-${attempt}@example.test`, password: 'Summer2026!' });
    statuses.push(answer.status);
  }
  return statuses;
}

test('password spraying from one IPv6 /64, a new interface id on every guess, hits the per-address limit', async (t) => {
  const statuses = await spray((attempt) => `2001:db8:77:1:${((attempt * 7919 + 1) % 0xffff).toString(16)}:${attempt.toString(16)}:beef:${(1000 + attempt).toString(16)}`, 'spray6');
  t.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
  t.is(statuses[10], 429, `statuses: ${statuses.join(' ')}`);
});

test('password spraying alternating an IPv4 address and its ::ffff: IPv4-mapped form counts as one address', async (t) => {
  const statuses = await spray((attempt) => (attempt % 2 ? '::ffff:198.51.100.23' : '198.51.100.23'), 'spray4');
  t.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
  t.is(statuses[10], 429, `statuses: ${statuses.join(' ')}`);
});

test('a third-party app the user let use the Account API takes the account over within RECENT_LOGIN_WINDOW: email change and deletion without the password', async (t) => {
  // An app of someone else's: consent is asked, the user allows account:write (say, to edit a
  // profile). A sign-in moments ago must not let the app itself act as "recently re-authenticated".
  const thirdParty = await discover(server, await registerClient(server));
  const victim = await createUser(server);
  const { tokens } = await login(thirdParty, victim, { resource: accountResourceFor(server.issuer), scope: 'openid account:read account:write' }, new Browser());
  t.is((await api(tokens.access_token, 'GET', '/api/account')).status, 200, 'the app may use the Account API');

  const takeover = await api(tokens.access_token, 'POST', '/api/account/email', { email: `app-owner-${victim.id.slice(0, 8)}@example.test` });
  t.is(takeover.status, 400, `email change without the password: ${takeover.status} ${JSON.stringify(takeover.body)}`);
  t.is(takeover.body.error, 'invalid_password');
  const erased = await api(tokens.access_token, 'DELETE', '/api/account', {});
  t.is(erased.status, 400, `deletion without the password: ${erased.status} ${JSON.stringify(erased.body)}`);
  t.is(await emailOf(victim.id), victim.email);
});

test('a mailed verification link does not stand in for the password: without the sign-in\'s password proof it confirms the address and signs nobody in', async (t) => {
  const email = `unverified-${Math.random().toString(16).slice(2)}@example.test`;
  const password = 'quiet meadow copper 42';
  await server.keyhold.accounts.create({ email, password });
  const { browser, page } = await openAuthorization(firstParty);
  const uid = /\/interaction\/([^/?]+)/.exec(page.url)?.[1];
  t.truthy(uid, page.url);
  const codePage = await browser.submit(page, /\/login$/, { email, password }, { stopAt: atRedirectUri });
  t.is(h1(codePage), 'Confirm your email address');
  const mail = await mailbox.next(email, /^Confirm your email address/);
  const link = mail.links.find((candidate) => candidate.startsWith(`${server.issuer}/verify?token=`))!;
  // The sign-in's password proof is gone (as when another account signed in within the same
  // interaction): the link proves the mailbox, not the password.
  await server.keyhold.loginFlows.end(uid!);
  const confirm = await browser.get(link, atRedirectUri);
  const done = await browser.submit(confirm, /verify/, {}, { stopAt: atRedirectUri });
  t.false(atRedirectUri(done.url), `signed in without a password: ${done.url}`);
  t.false(browser.cookies.has('keyhold_session'));
});
