// Signing in with an unverified address (an account made by the CLI or an import without
// --verified): with REQUIRE_VERIFIED_EMAIL=true the right password leads to a mailed code
// first, and only then to the client; the wrong password gets the usual single message.
// With REQUIRE_VERIFIED_EMAIL=false such an account signs in directly, unverified.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { Browser, parseForms } from '../helpers/browser.ts';
import { startServerWithMailbox, type ServerWithMailbox } from '../helpers/mailbox.ts';
import { atRedirectUri, finishAtClient, openAuthorization } from '../helpers/oidc.ts';
import { alertText, fieldValue, h1, notice as noticeText } from '../helpers/page.ts';

type Instance = ServerWithMailbox;

let strict: Instance;
let lenient: Instance;

const startInstance = startServerWithMailbox;

test.before(async () => {
  // The default is REQUIRE_VERIFIED_EMAIL=true: `strict` sets nothing.
  [strict, lenient] = await Promise.all([startInstance({}), startInstance({ REQUIRE_VERIFIED_EMAIL: 'false' })]);
});
test.after.always(async () => {
  for (const instance of [strict, lenient]) await instance?.stop();
});

const PASSWORD = 'quiet meadow copper 42';
const VERIFY_SUBJECT = /^Confirm your email address/;

/** An account as `keyhold user create` makes it without --verified. */
async function unverifiedAccount(instance: Instance) {
  const email = `cli-${randomBytes(5).toString('hex')}@example.test`;
  const account = await instance.server.keyhold.accounts.create({ email, password: PASSWORD, name: 'Cli User' });
  return { ...account, password: PASSWORD };
}

// Scope claims go to userinfo only when an access token is issued; ask for them in the ID token too.
const openLogin = (instance: Instance, browser?: Browser) =>
  openAuthorization(instance.config, { claims: JSON.stringify({ id_token: { email: null, email_verified: null } }) }, browser);


async function emailVerified(instance: Instance, accountId: string): Promise<boolean> {
  const row = await instance.server.keyhold.db.selectFrom('accounts').select('email_verified').where('id', '=', accountId).executeTakeFirstOrThrow();
  return row.email_verified;
}

test('REQUIRE_VERIFIED_EMAIL=true: the right password of an unverified account leads to the code page, not to the client', async (t) => {
  const user = await unverifiedAccount(strict);
  const flow = await openLogin(strict);
  const page = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  t.false(atRedirectUri(page.url));
  t.is(page.status, 200);
  t.is(h1(page), 'Confirm your email address');
  t.regex(page.body, new RegExp(`to <strong>${user.email.replace(/\./g, '\\.')}</strong>`));
  const form = parseForms(page.body, page.url).find((candidate) => /\/verify-email$/.test(candidate.action))!;
  t.deepEqual(form.fields.map((field) => field.name).sort(), ['code', 'csrf', 'flow']);
  t.false(flow.browser.cookies.has('keyhold_session'));
  t.false(await emailVerified(strict, user.id));
});

test('the mailed code signs in and continues to the client; email_verified becomes true in the ID token and at userinfo', async (t) => {
  const user = await unverifiedAccount(strict);
  const flow = await openLogin(strict);
  const codePage = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  const mail = await strict.mailbox.next(user.email, VERIFY_SUBJECT);
  t.regex(mail.code ?? '', /^\d{6}$/);
  t.true(mail.links.some((link) => link.startsWith(`${strict.server.issuer}/verify?token=`)));
  // The address is not confirmed yet: the account's name (free text) stays out of the mail.
  t.regex(mail.text, /^Hello,\n/);
  t.false(mail.text.includes('Cli User'));

  // A wrong code first: refused, and the page stays.
  const wrong = String((Number(mail.code) + 1) % 1_000_000).padStart(6, '0');
  const refused = await flow.browser.submit(codePage, /\/verify-email$/, { code: wrong }, { stopAt: atRedirectUri });
  t.is(refused.status, 400);
  t.regex(alertText(refused) ?? '', /not valid or has expired/);
  t.false(await emailVerified(strict, user.id));

  const done = await flow.browser.submit(refused, /\/verify-email$/, { code: mail.code! }, { stopAt: atRedirectUri });
  const { tokens, claims } = await finishAtClient(strict.config, flow, done);
  t.is(claims.sub, user.id);
  t.is(claims.email, user.email);
  t.is(claims.email_verified, true);
  t.deepEqual(claims.amr, ['pwd']);
  const userinfo = await oidc.fetchUserInfo(strict.config, tokens.access_token, user.id);
  t.is(userinfo.email_verified, true);
  t.true(await emailVerified(strict, user.id));

  // Verified once: the next sign-in (another browser) goes straight through, no new mail.
  const again = await openLogin(strict);
  const direct = await again.browser.submit(again.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  t.is((await finishAtClient(strict.config, again, direct)).claims.email_verified, true);
  t.deepEqual(await strict.mailbox.flush(user.email), []);
});

test('the wrong password of an unverified account gets "Invalid email or password." like an unknown address, and no mail', async (t) => {
  const user = await unverifiedAccount(strict);
  const first = await openLogin(strict);
  const wrongPassword = await first.browser.submit(first.page, /\/login$/, { email: user.email, password: 'not the password at all' }, { stopAt: atRedirectUri });
  const second = await openLogin(strict);
  const unknown = await second.browser.submit(second.page, /\/login$/, { email: `nobody-${randomBytes(4).toString('hex')}@example.test`, password: 'not the password at all' }, { stopAt: atRedirectUri });

  t.is(wrongPassword.status, 401);
  t.is(alertText(wrongPassword), 'Invalid email or password.');
  t.is(unknown.status, wrongPassword.status);
  t.is(alertText(unknown), alertText(wrongPassword));
  t.is(h1(wrongPassword), 'Sign in');
  // Nothing hints at the unverified address (the passkey options, WebAuthn's own JSON, aside).
  t.notRegex(wrongPassword.body.replace(/<script type="application\/json">[^<]*<\/script>/g, ''), /verif|six-digit|name="code"/i);
  t.deepEqual(await strict.mailbox.flush(user.email), []);
  const flows = await strict.server.keyhold.db.selectFrom('self_service_flows').select('id').where('account_id', '=', user.id).execute();
  t.is(flows.length, 0);
});

test('REQUIRE_VERIFIED_EMAIL=false: the unverified account signs in directly and email_verified is false', async (t) => {
  const user = await unverifiedAccount(lenient);
  const flow = await openLogin(lenient);
  const page = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  t.notRegex(page.body, /name="code"/);
  const { tokens, claims } = await finishAtClient(lenient.config, flow, page);
  t.is(claims.sub, user.id);
  t.is(claims.email, user.email);
  t.is(claims.email_verified, false);
  t.deepEqual(claims.amr, ['pwd']);
  const userinfo = await oidc.fetchUserInfo(lenient.config, tokens.access_token, user.id);
  t.is(userinfo.email_verified, false);
  t.false(await emailVerified(lenient, user.id));
  t.deepEqual(await lenient.mailbox.flush(user.email), []);
});

/** Pretends the last mail of the flow went out `seconds` ago (the resend cool-down). */
async function backdateLastSent(instance: Instance, flowId: string, seconds: number) {
  await instance.server.keyhold.db
    .updateTable('self_service_flows')
    .set({ last_sent_at: sql<Date>`now() - make_interval(secs => ${seconds})` })
    .where('id', '=', flowId)
    .execute();
}

/** Signs `user` in with the password in a new browser: the code page and its mailed code. */
async function codePageFor(instance: Instance, user: { email: string; password: string }) {
  const flow = await openLogin(instance);
  const page = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  const mail = await instance.mailbox.next(user.email, VERIFY_SUBJECT);
  return { flow, page, code: mail.code!, flowId: fieldValue(page, /\/verify-email$/, 'flow')! };
}

test("one sign-in cannot resend (and so void) another sign-in's verification code", async (t) => {
  const victim = await unverifiedAccount(strict);
  const first = await codePageFor(strict, victim);
  await backdateLastSent(strict, first.flowId, 61);

  // Another sign-in (another browser, its own account) posts the first one's flow id to its resend.
  const other = await codePageFor(strict, await unverifiedAccount(strict));
  const resent = await other.flow.browser.submit(other.page, /\/verify-email\/resend$/, { flow: first.flowId }, { stopAt: atRedirectUri });
  t.not(resent.status, 200);
  t.not(noticeText(resent), 'We sent a new code.');
  t.deepEqual(await strict.mailbox.flush(victim.email), [], 'no new code for the first sign-in');

  // The first code still works in the first sign-in.
  const done = await first.flow.browser.submit(first.page, /\/verify-email$/, { code: first.code }, { stopAt: atRedirectUri });
  t.is((await finishAtClient(strict.config, first.flow, done)).claims.sub, victim.id);
});

const wrongCode = (code: string, attempt: number) => String((Number(code) + 1 + attempt) % 1_000_000).padStart(6, '0');

/** Five wrong codes: the verification is cancelled and even its right code fails. */
async function exhaustCode(t: import('ava').ExecutionContext, started: Awaited<ReturnType<typeof codePageFor>>) {
  let page = started.page;
  for (let attempt = 0; attempt < 5; attempt++) {
    page = await started.flow.browser.submit(page, /\/verify-email$/, { code: wrongCode(started.code, attempt) }, { stopAt: atRedirectUri });
    t.is(page.status, 400);
  }
  page = await started.flow.browser.submit(page, /\/verify-email$/, { code: started.code }, { stopAt: atRedirectUri });
  t.is(page.status, 400);
  return page;
}

test('after 5 wrong codes, "send a new code" mails a fresh code at once (no cool-down lock) and it completes the sign-in', async (t) => {
  const user = await unverifiedAccount(strict);
  const started = await codePageFor(strict, user);
  const dead = await exhaustCode(t, started);

  const resent = await started.flow.browser.submit(dead, /\/verify-email\/resend$/, {}, { stopAt: atRedirectUri });
  t.is(resent.status, 200);
  t.is(noticeText(resent), 'We sent a new code.');
  const fresh = await strict.mailbox.next(user.email, VERIFY_SUBJECT);
  t.not(fieldValue(resent, /\/verify-email$/, 'flow'), started.flowId);
  // Posting the dead flow id again mails nothing more (the cool-down of the new one runs).
  const again = await started.flow.browser.submit(dead, /\/verify-email\/resend$/, {}, { stopAt: atRedirectUri });
  t.is(again.status, 429);
  t.deepEqual(await strict.mailbox.flush(user.email), []);

  const done = await started.flow.browser.submit(resent, /\/verify-email$/, { code: fresh.code! }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(strict.config, started.flow, done);
  t.is(claims.sub, user.id);
  t.is(claims.email_verified, true);
  t.true(await emailVerified(strict, user.id));
});

test('after 5 wrong codes, reloading the sign-in shows a new verification with a fresh code that completes the sign-in', async (t) => {
  const user = await unverifiedAccount(strict);
  const started = await codePageFor(strict, user);
  await exhaustCode(t, started);

  const action = parseForms(started.page.body, started.page.url).find((form) => /\/verify-email$/.test(form.action))!.action;
  const reloaded = await started.flow.browser.get(action.replace(/\/verify-email$/, ''), atRedirectUri);
  t.is(reloaded.status, 200);
  t.is(h1(reloaded), 'Confirm your email address');
  const flowId = fieldValue(reloaded, /\/verify-email$/, 'flow');
  t.truthy(flowId);
  t.not(flowId, started.flowId);
  const fresh = await strict.mailbox.next(user.email, VERIFY_SUBJECT);
  // Reloading again keeps the new verification and mails nothing.
  const twice = await started.flow.browser.get(action.replace(/\/verify-email$/, ''), atRedirectUri);
  t.is(fieldValue(twice, /\/verify-email$/, 'flow'), flowId);
  t.deepEqual(await strict.mailbox.flush(user.email), []);

  const done = await started.flow.browser.submit(twice, /\/verify-email$/, { code: fresh.code! }, { stopAt: atRedirectUri });
  t.is((await finishAtClient(strict.config, started.flow, done)).claims.sub, user.id);
});
