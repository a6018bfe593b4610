// Forgot / reset password through the HTML forms, with mail delivered over SMTP to a real
// server in this process: no enumeration, a single-use link, the password rules, signing
// out everywhere, the "password changed" notice, and used, forged, expired and replaced links.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import pg from 'pg';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { Browser, parseForms, type Page } from '../helpers/browser.ts';
import { serverWithMailboxForTests } from '../helpers/mailbox.ts';
import { atRedirectUri, createUser, login, openAuthorization, silentAuthorization } from '../helpers/oidc.ts';
import { alerts, fieldNames, h1, lead, links } from '../helpers/page.ts';

const setup = serverWithMailboxForTests(test);

const NEW_PASSWORD = 'tangerine orbit velvet 58';
const RESET_SUBJECT = /^Reset your Keyhold password$/;
const CHANGED_SUBJECT = /^Your Keyhold password was changed$/;


const user = () => createUser(setup.server, { email: `recover-${randomBytes(5).toString('hex')}@example.test` });

/** The "Forgot password?" form, filled in and sent. */
async function requestReset(email: string, browser = new Browser()): Promise<Page> {
  const form = await browser.get(`${setup.server.issuer}/recovery`);
  return browser.submit(form, /\/recovery$/, { email });
}

async function resetLink(email: string): Promise<string> {
  const mail = await setup.mailbox.next(email, RESET_SUBJECT);
  const link = mail.links.find((candidate) => candidate.startsWith(`${setup.server.issuer}/recovery/reset?token=`));
  if (!link) throw new Error(`no reset link in:\n${mail.text}`);
  return link;
}

/** Signs in through the login form; resolves to the page where it ended (the client, or Keyhold's answer). */
async function tryLogin(email: string, password: string): Promise<Page> {
  const { browser, page } = await openAuthorization(setup.config, { scope: 'openid' });
  return browser.submit(page, /\/login$/, { email, password }, { stopAt: atRedirectUri });
}
const signedIn = (page: Page) => atRedirectUri(page.url) || /action="[^"]*\/confirm"/.test(page.body);

test('the "Forgot password?" page is a form with email and a CSRF field', async (t) => {
  const page = await new Browser().get(`${setup.server.issuer}/recovery`);
  t.is(page.status, 200);
  t.is(h1(page), 'Reset your password');
  t.deepEqual(fieldNames(page, /\/recovery$/), ['csrf', 'email']);
  t.regex(page.headers.get('cache-control') ?? '', /no-store/);
});

test('opened from the login page, the recovery pages lead back to that sign-in', async (t) => {
  const { browser, page: loginPage } = await openAuthorization(setup.config, { scope: 'openid' });
  const forgot = links(loginPage)['Forgot password?'];
  t.truthy(forgot);
  const recovery = await browser.get(new URL(forgot!, setup.server.issuer).toString());
  const back = links(recovery)['Back to sign in'];
  t.truthy(back);
  const sent = await browser.submit(recovery, /\/recovery$/, { email: `nobody-${randomBytes(4).toString('hex')}@example.test` });
  t.regex(sent.body, /Back to sign in/);
  const again = await browser.get(new URL(back!, setup.server.issuer).toString());
  t.deepEqual(fieldNames(again, /\/login$/), ['csrf', 'email', 'password']);
});

test.serial('the answer does not wait for the reset work: it comes while the flow table is locked, the mail once it is free', async (t) => {
  // Only a known address creates a flow; if the answer waited for that work, how long it
  // took would tell known addresses from unknown ones.
  const known = await user();
  const browser = new Browser();
  const form = await browser.get(`${setup.server.issuer}/recovery`);
  const lock = new pg.Client({ connectionString: setup.server.databaseUrl });
  await lock.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE self_service_flows IN ACCESS EXCLUSIVE MODE');
    const answer = await Promise.race([browser.submit(form, /\/recovery$/, { email: known.email }), sleep(5000).then(() => undefined)]);
    t.is(answer?.status, 200, 'the answer waited for the locked table');
    t.is(h1(answer!), 'Check your email');
  } finally {
    await lock.query('COMMIT').catch(() => {});
    await lock.end();
  }
  t.regex(await resetLink(known.email), /token=/);
});

test('an unknown address gets the same confirmation page as a known one, and no mail', async (t) => {
  const known = await user();
  const unknownEmail = `nobody-${randomBytes(5).toString('hex')}@example.test`;
  const knownAnswer = await requestReset(known.email);
  const unknownAnswer = await requestReset(unknownEmail);
  t.is(knownAnswer.status, 200);
  t.is(h1(knownAnswer), 'Check your email');
  t.regex(lead(knownAnswer) ?? '', /If an account exists for that address/);
  t.is(unknownAnswer.status, knownAnswer.status);
  t.is(unknownAnswer.body, knownAnswer.body);
  // Malformed input gets it too.
  const malformed = await requestReset('not an address');
  t.is(malformed.status, 200);
  t.is(malformed.body, knownAnswer.body);

  t.deepEqual(await setup.mailbox.flush(unknownEmail), []);
  const link = await resetLink(known.email);
  t.regex(link, /token=[^&]+/);
});

test('the mailed link opens a form; weak, common and current passwords are refused with 400 and the link stays usable', async (t) => {
  const account = await user();
  await requestReset(account.email);
  const link = await resetLink(account.email);
  const browser = new Browser();
  const form = await browser.get(link);
  t.is(form.status, 200);
  t.is(h1(form), 'Choose a new password');
  t.deepEqual(fieldNames(form, /\/recovery\/reset$/), ['csrf', 'password', 'token']);

  for (const [password, expected] of [
    ['short1', /Use at least 8 characters\./],
    ['password123', /This password is too common\./],
    [account.password, /You have used this password recently\./],
  ] as const) {
    const refused = await browser.submit(form, /\/recovery\/reset$/, { password });
    t.is(refused.status, 400, password);
    t.true(alerts(refused).some((message) => expected.test(message)), `${password}: ${JSON.stringify(alerts(refused))}`);
    t.deepEqual(fieldNames(refused, /\/recovery\/reset$/), ['csrf', 'password', 'token']);
  }
  // Still the old password; the link still works.
  t.true(signedIn(await tryLogin(account.email, account.password)));
  t.deepEqual(await setup.mailbox.flush(account.email), []);
  const ok = await browser.submit(form, /\/recovery\/reset$/, { password: NEW_PASSWORD });
  t.is(ok.status, 200);
  t.is(h1(ok), 'Password changed');
});

test('a good new password: success page, old password fails, new works, everything revoked, "password changed" mailed, link single-use', async (t) => {
  const account = await user();
  // Signed in before the reset: a refresh token, an access token and an SSO session.
  const before = await login(setup.config, account, { scope: 'openid offline_access', prompt: 'consent' });
  const refreshToken = before.tokens.refresh_token;
  t.truthy(refreshToken);
  const accessToken = before.tokens.access_token;
  t.truthy((await silentAuthorization(setup.config, before.browser)).searchParams.get('code'), 'the SSO session works before the reset');
  await oidc.fetchUserInfo(setup.config, accessToken, account.id);

  await requestReset(account.email);
  const link = await resetLink(account.email);
  const browser = new Browser();
  const form = await browser.get(link);
  const done = await browser.submit(form, /\/recovery\/reset$/, { password: NEW_PASSWORD });
  t.is(done.status, 200);
  t.is(h1(done), 'Password changed');
  t.regex(lead(done) ?? '', /signed out everywhere/);

  const oldPassword = await tryLogin(account.email, account.password);
  t.is(oldPassword.status, 401);
  t.false(signedIn(oldPassword));
  t.true(signedIn(await tryLogin(account.email, NEW_PASSWORD)));

  const refresh = await t.throwsAsync(oidc.refreshTokenGrant(setup.config, refreshToken!));
  t.is((refresh as oidc.ResponseBodyError).error, 'invalid_grant');
  t.is((await silentAuthorization(setup.config, before.browser)).searchParams.get('error'), 'login_required');
  await t.throwsAsync(oidc.fetchUserInfo(setup.config, accessToken, account.id));

  const changed = await setup.mailbox.next(account.email, CHANGED_SUBJECT);
  t.regex(changed.text, /has just been changed/);
  t.false(changed.text.includes(NEW_PASSWORD));

  const reusedGet = await new Browser().get(link);
  t.is(reusedGet.status, 410);
  t.is(h1(reusedGet), 'Link already used');
  t.regex(lead(reusedGet) ?? '', /already used/);
  const reusedPost = await browser.submit(form, /\/recovery\/reset$/, { password: 'yet another new passphrase 3' });
  t.is(reusedPost.status, 410);
  t.is(h1(reusedPost), 'Link already used');
  t.false(signedIn(await tryLogin(account.email, 'yet another new passphrase 3')));
});

test('a forged or garbled token gets the "not valid" page (400)', async (t) => {
  const account = await user();
  await requestReset(account.email);
  const link = await resetLink(account.email);
  const token = new URL(link).searchParams.get('token')!;
  const [flowId, secret] = token.split('.');
  const browser = new Browser();
  for (const forged of ['garbage', `${flowId}.${'A'.repeat(secret!.length)}`, `${flowId}`, `${token}x`, `00000000-0000-4000-8000-000000000000.${secret}`, '']) {
    const page = await browser.get(`${setup.server.issuer}/recovery/reset?token=${encodeURIComponent(forged)}`);
    t.is(page.status, 400, forged);
    t.is(h1(page), 'Link not valid', forged);
  }
  // POSTing a forged token with a valid CSRF token does not change anything either.
  const form = await browser.get(link);
  const posted = await browser.submit(form, /\/recovery\/reset$/, { token: `${flowId}.${'B'.repeat(secret!.length)}`, password: NEW_PASSWORD });
  t.is(posted.status, 400);
  t.is(h1(posted), 'Link not valid');
  t.true(signedIn(await tryLogin(account.email, account.password)));
  // The genuine link was not harmed.
  t.is((await browser.get(link)).status, 200);
});

test('an expired link (expiry moved into the past) gets the "expired" page', async (t) => {
  const account = await user();
  await requestReset(account.email);
  const link = await resetLink(account.email);
  const flowId = new URL(link).searchParams.get('token')!.split('.')[0]!;
  const row = await setup.server.keyhold.db.selectFrom('self_service_flows').select(['kind', 'created_at', 'expires_at']).where('id', '=', flowId).executeTakeFirstOrThrow();
  t.is(row.kind, 'recovery');
  // PASSWORD_RESET_TTL defaults to an hour.
  t.true(Math.abs((new Date(row.expires_at).getTime() - new Date(row.created_at).getTime()) / 1000 - 3600) < 5);
  await setup.server.keyhold.db.updateTable('self_service_flows').set({ expires_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', flowId).execute();

  const browser = new Browser();
  const page = await browser.get(link);
  t.is(page.status, 410);
  t.is(h1(page), 'Link expired');
  t.regex(lead(page) ?? '', /expired/);
  t.true(signedIn(await tryLogin(account.email, account.password)));
});

test('requesting twice: only the newest link works', async (t) => {
  const account = await user();
  await requestReset(account.email);
  const first = await resetLink(account.email);
  // One mail a minute per account: pretend the first request is older than that.
  await setup.server.keyhold.db
    .updateTable('self_service_flows')
    .set({ created_at: sql<Date>`now() - interval '61 seconds'` })
    .where('id', '=', new URL(first).searchParams.get('token')!.split('.')[0]!)
    .execute();
  await requestReset(account.email);
  const second = await resetLink(account.email);
  t.not(second, first);

  const browser = new Browser();
  const old = await browser.get(first);
  t.is(old.status, 400);
  t.is(h1(old), 'Link not valid');
  // A third request right away sends nothing, and does not void the newest link.
  const third = await requestReset(account.email);
  t.is(third.status, 200);
  t.deepEqual(await setup.mailbox.flush(account.email), []);

  const form = await browser.get(second);
  t.is(form.status, 200);
  const done = await browser.submit(form, /\/recovery\/reset$/, { password: NEW_PASSWORD });
  t.is(done.status, 200);
  t.is(h1(done), 'Password changed');
  t.true(signedIn(await tryLogin(account.email, NEW_PASSWORD)));
});

test('the recovery and reset forms without their CSRF token are refused with 403', async (t) => {
  const account = await user();
  const browser = new Browser();
  const form = await browser.get(`${setup.server.issuer}/recovery`);
  const missing = await browser.submit(form, /\/recovery$/, { email: account.email, csrf: '' });
  t.is(missing.status, 403);
  t.regex(missing.body, /csrf_failed/);
  const forged = await browser.submit(form, /\/recovery$/, { email: account.email, csrf: 'A'.repeat(43) });
  t.is(forged.status, 403);
  t.deepEqual(await setup.mailbox.flush(account.email), []);

  await browser.submit(form, /\/recovery$/, { email: account.email });
  const link = await resetLink(account.email);
  const resetForm = await browser.get(link);
  const noCsrf = await browser.submit(resetForm, /\/recovery\/reset$/, { password: NEW_PASSWORD, csrf: '' });
  t.is(noCsrf.status, 403);
  // A CSRF token minted for another form (the recovery request) does not do either.
  const otherPurpose = parseForms(form.body, form.url)[0]!.fields.find((field) => field.name === 'csrf')!.value;
  const crossed = await browser.submit(resetForm, /\/recovery\/reset$/, { password: NEW_PASSWORD, csrf: otherPurpose });
  t.is(crossed.status, 403);
  t.true(signedIn(await tryLogin(account.email, account.password)));
  t.is((await browser.get(link)).status, 200);
});

test('the outbox table never holds a live reset link: not while the mail waits, not after it was sent', async (t) => {
  const account = await user();
  await requestReset(account.email);
  const dump = async () => (await sql<{ row: string }>`select row_to_json(m)::text as row from mail_outbox m where recipient = ${account.email}`.execute(setup.server.keyhold.db)).rows.map((entry) => entry.row).join('\n');
  // The reset work runs after the answer: wait for the mail to be queued.
  let queued = await dump();
  for (let tries = 0; tries < 100 && !/password_reset/.test(queued); tries++) queued = await new Promise((resolve) => setTimeout(resolve, 50)).then(dump);
  t.regex(queued, /password_reset/, 'the reset mail is queued');

  const link = await resetLink(account.email);
  const token = new URL(link).searchParams.get('token')!;
  const [, secret] = token.split('.');
  t.false(queued.includes(secret!), 'no secret while queued');
  const sent = await dump();
  t.false(sent.includes(secret!) || sent.includes(encodeURIComponent(token)), 'no secret once sent');
  const rows = await setup.server.keyhold.db.selectFrom('mail_outbox').select(['sent_at', 'body_encrypted', 'text_body', 'html_body']).where('recipient', '=', account.email).execute();
  t.true(rows.every((row) => row.sent_at !== null && row.body_encrypted === null && row.text_body === null && row.html_body === null));
  // The link itself still works: the mail carried it.
  t.is((await new Browser().get(link)).status, 200);
});
