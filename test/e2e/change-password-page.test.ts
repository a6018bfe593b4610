// The change-password page for someone signed in at Keyhold (the browser holds Keyhold's
// session cookie after a login flow): the current password is checked, and other sessions
// end unless "keep me signed in on my other devices" is ticked; this browser stays signed in.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser, parseForms, type Page } from '../helpers/browser.ts';
import { serverWithMailboxForTests } from '../helpers/mailbox.ts';
import { createUser, login, silentAuthorization } from '../helpers/oidc.ts';
import { alerts, h1, notice } from '../helpers/page.ts';

const setup = serverWithMailboxForTests(test);

const NEW_PASSWORD = 'saffron kettle monsoon 27';
const CHANGED_SUBJECT = /^Your Keyhold password was changed$/;


const user = () => createUser(setup.server, { email: `change-${randomBytes(5).toString('hex')}@example.test` });

/** A login flow with a refresh token; the browser keeps Keyhold's session cookie. */
const signIn = (account: { email: string; password: string }) => login(setup.config, account, { scope: 'openid offline_access', prompt: 'consent' });

/** Sends the change form as a browser would: the checkbox only when ticked. */
async function submitChange(browser: Browser, page: Page, input: { current: string; password: string; keepOtherSessions?: boolean }): Promise<Page> {
  const form = parseForms(page.body, page.url).find((candidate) => candidate.action.endsWith('/account/password'));
  if (!form) throw new Error(`no change-password form (status ${page.status}):\n${page.body.slice(0, 500)}`);
  const body = new URLSearchParams({ csrf: form.fields.find((field) => field.name === 'csrf')!.value, current_password: input.current, password: input.password });
  if (input.keepOtherSessions) body.set('keep_other_sessions', form.fields.find((field) => field.name === 'keep_other_sessions')!.value);
  return browser.request(form.action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

async function refreshError(refreshToken: string): Promise<string | undefined> {
  try {
    await oidc.refreshTokenGrant(setup.config, refreshToken);
    return undefined;
  } catch (error) {
    return (error as oidc.ResponseBodyError).error ?? String(error);
  }
}

test('not signed in: the change-password page answers 401', async (t) => {
  const page = await new Browser().get(`${setup.server.issuer}/account/password`);
  t.is(page.status, 401);
  t.regex(page.body, /Sign in to Keyhold from your application first/);
  t.notRegex(page.body, /name="current_password"/);
  // A session cookie that names no session is no better.
  const forged = new Browser();
  forged.cookies.set('keyhold_session', 'not-a-session');
  t.is((await forged.get(`${setup.server.issuer}/account/password`)).status, 401);
});

test('signed in after a login flow: the page is a form with current and new password, the keep option and CSRF', async (t) => {
  const account = await user();
  const { browser } = await signIn(account);
  t.true(browser.cookies.has('keyhold_session'));
  const page = await browser.get(`${setup.server.issuer}/account/password`);
  t.is(page.status, 200);
  t.is(h1(page), 'Change your password');
  const form = parseForms(page.body, page.url).find((candidate) => candidate.action.endsWith('/account/password'))!;
  t.is(form.method, 'post');
  t.deepEqual(form.fields.map((field) => field.name).sort(), ['csrf', 'current_password', 'keep_other_sessions', 'password']);
  t.regex(page.body, /<input type="checkbox" name="keep_other_sessions" value="on">/);
  t.regex(page.headers.get('cache-control') ?? '', /no-store/);
});

test('a wrong current password is refused with 400 and changes nothing; a missing CSRF token with 403', async (t) => {
  const account = await user();
  const { browser } = await signIn(account);
  const page = await browser.get(`${setup.server.issuer}/account/password`);
  const wrong = await submitChange(browser, page, { current: 'not my password', password: NEW_PASSWORD });
  t.is(wrong.status, 400);
  t.deepEqual(alerts(wrong), ['The current password is not correct.']);
  const weak = await submitChange(browser, page, { current: account.password, password: 'password123' });
  t.is(weak.status, 400);
  t.true(alerts(weak).some((message) => /too common/.test(message)));
  const noCsrf = await browser.request(`${setup.server.issuer}/account/password`, {
    method: 'POST',
    body: new URLSearchParams({ current_password: account.password, password: NEW_PASSWORD }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.is(noCsrf.status, 403);

  t.truthy(await setup.server.keyhold.accounts.authenticate(account.email, account.password));
  t.is(await setup.server.keyhold.accounts.authenticate(account.email, NEW_PASSWORD), undefined);
  t.deepEqual(await setup.mailbox.flush(account.email), []);
});

test('changed with "keep other sessions" unchecked: the other browser\'s session and refresh token end, this browser stays signed in', async (t) => {
  const account = await user();
  const here = await signIn(account);
  const elsewhere = await signIn(account);
  t.truthy(here.tokens.refresh_token);
  t.truthy(elsewhere.tokens.refresh_token);
  t.truthy((await silentAuthorization(setup.config, elsewhere.browser)).searchParams.get('code'), 'the other session works before the change');

  const page = await here.browser.get(`${setup.server.issuer}/account/password`);
  const done = await submitChange(here.browser, page, { current: account.password, password: NEW_PASSWORD });
  t.is(done.status, 200);
  t.is(notice(done), 'Your password was changed.');

  // Elsewhere: signed out, its refresh token gone.
  t.is((await silentAuthorization(setup.config, elsewhere.browser)).searchParams.get('error'), 'login_required');
  t.is(await refreshError(elsewhere.tokens.refresh_token!), 'invalid_grant');
  // Here: still signed in at Keyhold and at the client.
  t.truthy((await silentAuthorization(setup.config, here.browser)).searchParams.get('code'));
  t.is(await refreshError(here.tokens.refresh_token!), undefined);
  t.is((await here.browser.get(`${setup.server.issuer}/account/password`)).status, 200);

  t.truthy(await setup.server.keyhold.accounts.authenticate(account.email, NEW_PASSWORD));
  t.is(await setup.server.keyhold.accounts.authenticate(account.email, account.password), undefined);
  const mail = await setup.mailbox.next(account.email, CHANGED_SUBJECT);
  t.regex(mail.text, /has just been changed/);
});

test('changed with "keep other sessions" checked: the other browser stays signed in', async (t) => {
  const account = await user();
  const here = await signIn(account);
  const elsewhere = await signIn(account);

  const page = await here.browser.get(`${setup.server.issuer}/account/password`);
  const done = await submitChange(here.browser, page, { current: account.password, password: NEW_PASSWORD, keepOtherSessions: true });
  t.is(done.status, 200);
  t.is(notice(done), 'Your password was changed.');

  t.truthy((await silentAuthorization(setup.config, elsewhere.browser)).searchParams.get('code'));
  t.is(await refreshError(elsewhere.tokens.refresh_token!), undefined);
  t.truthy((await silentAuthorization(setup.config, here.browser)).searchParams.get('code'));
  t.truthy(await setup.server.keyhold.accounts.authenticate(account.email, NEW_PASSWORD));
  await setup.mailbox.next(account.email, CHANGED_SUBJECT);
});

test('guesses of the current password are throttled like logins: a burst gets LOGIN_RATE_LIMIT checks, then 429 even for the right one', async (t) => {
  const account = await user();
  const { browser } = await signIn(account);
  const page = await browser.get(`${setup.server.issuer}/account/password`);
  // LOGIN_RATE_LIMIT defaults to 10 per account and address.
  const answers = await Promise.all(Array.from({ length: 30 }, (_, index) => submitChange(browser, page, { current: `guess ${index}`, password: NEW_PASSWORD })));
  const statuses = answers.map((answer) => answer.status);
  t.is(statuses.filter((status) => status === 400).length, 10, JSON.stringify(statuses));
  t.is(statuses.filter((status) => status === 429).length, 20, JSON.stringify(statuses));
  const refused = answers.find((answer) => answer.status === 429)!;
  t.true(Number(refused.headers.get('retry-after')) > 0);
  t.regex(refused.headers.get('ratelimit-policy') ?? '', /^"login-account-address";q=10;w=900$/);
  t.deepEqual(alerts(refused), ['Too many wrong passwords. Try again later.']);

  const right = await submitChange(browser, page, { current: account.password, password: NEW_PASSWORD });
  t.is(right.status, 429);
  t.truthy(await setup.server.keyhold.accounts.authenticate(account.email, account.password));
  t.deepEqual(await setup.mailbox.flush(account.email), []);
});
