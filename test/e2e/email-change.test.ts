// Changing the account's email address through the Account API, with mail delivered over
// SMTP to a real server in this process: re-authentication, the old address told at once with
// a cancel link (and an undo link after the switch), pending changes and reset links voided
// by a password reset or an email change, and reset links bound to the address they went to.
import test from 'ava';
import * as oidc from 'openid-client';
import { accountResourceFor } from '#src/services/resources.ts';
import { callApi } from '../helpers/api.ts';
import { Browser } from '../helpers/browser.ts';
import { startServerWithMailbox, type Mailbox } from '../helpers/mailbox.ts';
import { createUser, discover, login, registerClient } from '../helpers/oidc.ts';
import type { TestServer } from '../helpers/server.ts';
import { h1 } from '../helpers/page.ts';

let server: TestServer;
let mailbox: Mailbox;
let config: oidc.Configuration;
let stop: (() => Promise<void>) | undefined;

test.before(async () => {
  ({ server, mailbox, stop } = await startServerWithMailbox());
  config = await discover(server, await registerClient(server, { first_party: true }));
});
test.after.always(async () => {
  await stop?.();
});

const VERIFY_SUBJECT = /^Confirm your new email address/;
const REQUESTED_SUBJECT = /^A change of your Keyhold email address was requested$/;
const CHANGED_SUBJECT = /^The email address of your Keyhold account was changed$/;
const RESET_SUBJECT = /^Reset your Keyhold password$/;
const NEW_PASSWORD = 'lilac ferry compass 62';


const api = (token: string, method: string, path: string, body?: unknown) => callApi(server, token, method, path, body);

async function signedIn() {
  const user = await createUser(server);
  const { tokens } = await login(config, user, { resource: accountResourceFor(server.issuer), scope: 'openid account:read account:write' }, new Browser());
  return { user, token: tokens.access_token };
}

const moved = (user: { id: string }, label = 'moved') => `${label}-${user.id.slice(0, 8)}@example.test`;
const linkTo = (mail: { links: string[] }, path: string) => {
  const link = mail.links.find((candidate) => candidate.startsWith(`${server.issuer}${path}?token=`));
  if (!link) throw new Error(`no ${path} link in ${JSON.stringify(mail.links)}`);
  return link;
};
const emailOf = async (id: string) => (await server.keyhold.db.selectFrom('accounts').select('email').where('id', '=', id).executeTakeFirstOrThrow()).email;

/** The "Forgot password?" form sent for `email`, and the link it mailed. */
async function resetLink(email: string): Promise<string> {
  const browser = new Browser();
  await browser.submit(await browser.get(`${server.issuer}/recovery`), /\/recovery$/, { email });
  return linkTo(await mailbox.next(email, RESET_SUBJECT), '/recovery/reset');
}

test('an email change needs the password (or a recent sign-in); a wrong one is refused and counted like a login', async (t) => {
  const { user, token } = await signedIn();
  const wrong = await api(token, 'POST', '/api/account/email', { email: moved(user), password: 'not my password' });
  t.is(wrong.status, 400);
  t.is(wrong.body.error, 'invalid_password');
  t.deepEqual(await mailbox.flush(moved(user)), [], 'nothing mailed to the new address');
  t.deepEqual(await mailbox.flush(user.email), []);

  // A sign-in older than RECENT_LOGIN_WINDOW does not stand in for the password.
  const longAgo = Math.floor(Date.now() / 1000) - 3600;
  const stale = await t.throwsAsync(server.keyhold.emailOwnership.requestEmailChange(user.id, moved(user), { authTime: longAgo }));
  t.is((stale as { code?: string }).code, 'invalid_password');
  const audit = await server.keyhold.db.selectFrom('audit_log').select('event').where('account_id', '=', user.id).where('event', '=', 'email.change_requested').execute();
  t.is(audit.length, 0);

  // Right after signing in, the token's session is recent enough.
  const recent = await api(token, 'POST', '/api/account/email', { email: moved(user) });
  t.is(recent.status, 202);
});

test('the old address is told at once, with a cancel link; the code completes; the old address then gets an undo link', async (t) => {
  const { user, token } = await signedIn();
  const started = await api(token, 'POST', '/api/account/email', { email: moved(user), password: user.password });
  t.is(started.status, 202);
  t.regex(started.body.flow_id, /^[0-9a-f-]{36}$/);

  // Before anything is confirmed, the current address knows, and can stop it.
  const told = await mailbox.next(user.email, REQUESTED_SUBJECT);
  t.true(told.text.includes(moved(user)));
  linkTo(told, '/email-change/cancel');
  const verify = await mailbox.next(moved(user), VERIFY_SUBJECT);
  t.regex(verify.code ?? '', /^\d{6}$/);
  t.false(verify.text.includes('Test User'), 'no name in mail to an unconfirmed address');

  const wrongCode = await api(token, 'POST', '/api/account/email/verify', { flow_id: started.body.flow_id, code: verify.code === '000000' ? '111111' : '000000' });
  t.is(wrongCode.status, 400);
  t.is(wrongCode.body.error, 'invalid_code');
  const verified = await api(token, 'POST', '/api/account/email/verify', { flow_id: started.body.flow_id, code: verify.code });
  t.is(verified.status, 200);
  t.deepEqual(verified.body, { email: moved(user) });
  t.is((await api(token, 'GET', '/api/account')).body.email, moved(user));
  const notice = await mailbox.next(user.email, CHANGED_SUBJECT);
  linkTo(notice, '/email-change/cancel');

  const reused = await api(token, 'POST', '/api/account/email/verify', { flow_id: started.body.flow_id, code: verify.code });
  t.is(reused.status, 400);
});

test("another account's address gets the same 202 and no mail to it; requests are limited by a cool-down; a code completes only its own account's flow", async (t) => {
  const { user, token } = await signedIn();
  const owner = await createUser(server);
  const taken = await api(token, 'POST', '/api/account/email', { email: owner.email, password: user.password });
  t.is(taken.status, 202);
  t.deepEqual(Object.keys(taken.body).sort(), ['expires_at', 'flow_id']);
  t.deepEqual(await mailbox.flush(owner.email), []);
  const invalid = await api(token, 'POST', '/api/account/email', { email: 'not an address', password: user.password });
  t.is(invalid.status, 400);
  t.is(invalid.body.error, 'invalid_email');

  const other = await signedIn();
  const started = await api(other.token, 'POST', '/api/account/email', { email: moved(other.user, 'first'), password: other.user.password });
  t.is(started.status, 202);
  const again = await api(other.token, 'POST', '/api/account/email', { email: moved(other.user, 'second'), password: other.user.password });
  t.is(again.status, 429);
  t.is(again.body.error, 'rate_limited');
  const code = (await mailbox.next(moved(other.user, 'first'), VERIFY_SUBJECT)).code;
  const stolen = await api(token, 'POST', '/api/account/email/verify', { flow_id: started.body.flow_id, code });
  t.is(stolen.status, 400);
  t.is((await api(other.token, 'POST', '/api/account/email/verify', { flow_id: started.body.flow_id, code })).status, 200);
});

test('a pending email change does not survive a password reset: its code and link are void afterwards', async (t) => {
  // Someone holding the password and a token starts moving the account to their address...
  const { user, token } = await signedIn();
  const attacker = moved(user, 'attacker');
  const started = await api(token, 'POST', '/api/account/email', { email: attacker, password: user.password });
  t.is(started.status, 202);
  const verify = await mailbox.next(attacker, VERIFY_SUBJECT);

  // ...and the owner resets the password.
  const browser = new Browser();
  const form = await browser.get(await resetLink(user.email));
  t.is(h1(await browser.submit(form, /\/recovery\/reset$/, { password: NEW_PASSWORD })), 'Password changed');

  const byCode = await server.keyhold.emailOwnership.completeEmailChange({ flowId: started.body.flow_id, code: verify.code!, accountId: user.id }).catch((error: Error) => error);
  t.true(byCode instanceof Error, 'the code is void');
  const other = new Browser();
  const confirm = await other.get(linkTo(verify, '/verify'));
  t.is(confirm.status, 400);
  t.is(await emailOf(user.id), user.email);
});

test('the cancel link: GET only asks, the CSRF-protected POST voids the pending change and signs out everywhere', async (t) => {
  const { user, token } = await signedIn();
  const started = await api(token, 'POST', '/api/account/email', { email: moved(user), password: user.password });
  const cancelLink = linkTo(await mailbox.next(user.email, REQUESTED_SUBJECT), '/email-change/cancel');
  const verify = await mailbox.next(moved(user), VERIFY_SUBJECT);

  const browser = new Browser();
  const page = await browser.get(cancelLink);
  t.is(page.status, 200);
  t.is(h1(page), 'Cancel the email change');
  t.is((await browser.get(cancelLink)).status, 200, 'opening the link changes nothing');
  const forged = await new Browser().request(new URL('/email-change/cancel', server.issuer).toString(), {
    method: 'POST',
    body: new URLSearchParams({ token: new URL(cancelLink).searchParams.get('token')! }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.is(forged.status, 403);

  const done = await browser.submit(page, /\/email-change\/cancel$/);
  t.is(done.status, 200);
  t.is(h1(done), 'Email change cancelled');
  const completed = await api(token, 'POST', '/api/account/email/verify', { flow_id: started.body.flow_id, code: verify.code });
  t.is(completed.status, 401, 'the requesting token was revoked');
  await t.throwsAsync(server.keyhold.emailOwnership.completeEmailChange({ flowId: started.body.flow_id, code: verify.code!, accountId: user.id }));
  t.is(await emailOf(user.id), user.email);
  t.is((await browser.get(cancelLink)).status, 410, 'the link works once');
});

test('the undo link after a completed change restores the old address, ends every session and removes the password', async (t) => {
  const { user, token } = await signedIn();
  const attacker = moved(user, 'taker');
  const started = await api(token, 'POST', '/api/account/email', { email: attacker, password: user.password });
  const code = (await mailbox.next(attacker, VERIFY_SUBJECT)).code;
  t.is((await api(token, 'POST', '/api/account/email/verify', { flow_id: started.body.flow_id, code })).status, 200);
  const undoLink = linkTo(await mailbox.next(user.email, CHANGED_SUBJECT), '/email-change/cancel');

  const browser = new Browser();
  const done = await browser.submit(await browser.get(undoLink), /\/email-change\/cancel$/);
  t.is(h1(done), 'Email address restored');
  t.is(await emailOf(user.id), user.email);
  t.is((await api(token, 'GET', '/api/account')).status, 401);
  t.is(await server.keyhold.accounts.authenticate(user.email, user.password), undefined, 'the password the taker knew is gone');
  t.regex((await mailbox.next(user.email, /was restored$/)).text, /Choose a new password/);
  // The owner gets back in with a reset mailed to the restored address.
  const form = await browser.get(await resetLink(user.email));
  t.is(h1(await browser.submit(form, /\/recovery\/reset$/, { password: NEW_PASSWORD })), 'Password changed');
  t.truthy(await server.keyhold.accounts.authenticate(user.email, NEW_PASSWORD));
});

test('a reset link mailed to an address the account no longer uses does not work', async (t) => {
  // Changed through the Account API: the completed change voids the pending reset.
  const { user, token } = await signedIn();
  const link = await resetLink(user.email);
  const started = await api(token, 'POST', '/api/account/email', { email: moved(user), password: user.password });
  const code = (await mailbox.next(moved(user), VERIFY_SUBJECT)).code;
  t.is((await api(token, 'POST', '/api/account/email/verify', { flow_id: started.body.flow_id, code })).status, 200);
  const browser = new Browser();
  const page = await browser.get(link);
  t.true([400, 410].includes(page.status), `status ${page.status}`);
  t.false(await server.keyhold.db.selectFrom('self_service_flows').select('id').where('account_id', '=', user.id).where('kind', '=', 'recovery').where('state', '=', 'pending').executeTakeFirst().then(Boolean));

  // Changed any other way (an operator, a direct update): the flow is bound to its address.
  const other = await createUser(server);
  const otherLink = await resetLink(other.email);
  await server.keyhold.db.updateTable('accounts').set({ email: moved(other), email_normalized: moved(other) }).where('id', '=', other.id).execute();
  const stale = await browser.get(otherLink);
  t.is(stale.status, 410);
  t.is(h1(stale), 'Link no longer valid');
  const token2 = new URL(otherLink).searchParams.get('token')!;
  await t.throwsAsync(server.keyhold.credentials.resetPassword(token2, NEW_PASSWORD));
  t.truthy(await server.keyhold.accounts.authenticate(moved(other), other.password), 'the password is unchanged');
});
