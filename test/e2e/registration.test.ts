// Self-service registration through the HTML forms, with mail delivered over SMTP to a real
// server in this process: prompt=create, the form and its CSRF field, the mailed code and
// link continuing the original authorization request, enumeration-safe duplicates, password
// rules, wrong and resent codes, expiry, and REGISTRATION=closed / invite.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { Browser, parseForms, type Page } from '../helpers/browser.ts';
import { startServerWithMailbox, type Mailbox } from '../helpers/mailbox.ts';
import { atRedirectUri, createUser, discover, finishAtClient, openAuthorization, REDIRECT_URI, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { alerts, alertText, fieldNames, fieldValue, h1, links as pageLinks, notice as noticeText, title } from '../helpers/page.ts';

let mailbox: Mailbox;
let server: TestServer;
let config: oidc.Configuration;

let stop: (() => Promise<void>) | undefined;

// Every test here registers from 127.0.0.1; the per-address limit has its own test
// (registration-limits.test.ts).
test.before(async () => {
  ({ mailbox, server, config, stop } = await startServerWithMailbox({ EMAIL_VERIFICATION_TTL: '60', REGISTRATION_RATE_LIMIT: '1000' }));
});
test.after.always(async () => {
  await stop?.();
});

const PASSWORD = 'violet harbour lantern 91';
const VERIFY_SUBJECT = /^Confirm your email address/;

const newEmail = (prefix = 'reg') => `${prefix}-${randomBytes(5).toString('hex')}@example.test`;

// With an access token issued, scope claims go to userinfo only (conformIdTokenClaims); ask
// for the ones under test in the ID token as well.
const ID_TOKEN_CLAIMS = JSON.stringify({ id_token: { email: null, email_verified: null, name: null } });

const startAuthorization = (cfg: oidc.Configuration, parameters: Record<string, string> = {}, browser?: Browser) =>
  openAuthorization(cfg, { claims: ID_TOKEN_CLAIMS, ...parameters }, browser);


async function accountRow(email: string) {
  return server.keyhold.db.selectFrom('accounts').selectAll().where('email_normalized', '=', email.toLowerCase()).executeTakeFirst();
}

async function accountCount(email: string): Promise<number> {
  const row = await server.keyhold.db
    .selectFrom('accounts')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('email_normalized', '=', email.toLowerCase())
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** prompt=create, the registration form filled in and sent: the "check your mail" page and the mail. */
async function register(email: string, options: { password?: string; name?: string; browser?: Browser; cfg?: oidc.Configuration } = {}) {
  const flow = await startAuthorization(options.cfg ?? config, { prompt: 'create' }, options.browser);
  const check = await flow.browser.submit(flow.page, /\/register$/, { email, password: options.password ?? PASSWORD, name: options.name ?? 'Ada Lovelace' });
  return { flow, check };
}

test('the login page links to "Create account" and "Forgot password?", and both pages open', async (t) => {
  const flow = await startAuthorization(config);
  t.is(flow.page.status, 200);
  t.is(h1(flow.page), 'Sign in');
  const links = pageLinks(flow.page);
  t.truthy(links['Create account'], 'no "Create account" link');
  t.truthy(links['Forgot password?'], 'no "Forgot password?" link');

  const registration = await flow.browser.get(new URL(links['Create account']!, flow.page.url).toString());
  t.is(registration.status, 200);
  t.is(h1(registration), 'Create account');
  t.deepEqual(fieldNames(registration, /\/register$/), ['csrf', 'email', 'name', 'password']);

  const recovery = await flow.browser.get(new URL(links['Forgot password?']!, flow.page.url).toString());
  t.is(recovery.status, 200);
  t.is(h1(recovery), 'Reset your password');
  // The hidden `interaction` field leads back to this sign-in afterwards.
  t.deepEqual(fieldNames(recovery, /\/recovery$/), ['csrf', 'email', 'interaction']);
});

test('discovery lists prompt=create in prompt_values_supported while registration is open', async (t) => {
  const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as { prompt_values_supported?: string[] };
  // Initiating User Registration via OpenID Connect 1.0 §4: the OP advertises `create` here.
  t.deepEqual(metadata.prompt_values_supported?.filter((value) => ['create', 'login'].includes(value)).sort(), ['create', 'login']);
});

test('prompt=create goes straight to the registration form: email, password, name and a CSRF field', async (t) => {
  const flow = await startAuthorization(config, { prompt: 'create' });
  t.is(flow.page.status, 200);
  t.regex(flow.page.url, /\/interaction\/[^/]+\/register$/);
  t.is(h1(flow.page), 'Create account');
  const form = parseForms(flow.page.body, flow.page.url).find((candidate) => candidate.action.endsWith('/register'))!;
  t.is(form.method, 'post');
  t.deepEqual(form.fields.map((field) => field.name).sort(), ['csrf', 'email', 'name', 'password']);
  t.true(form.fields.find((field) => field.name === 'csrf')!.value.length > 20);
  t.notRegex(flow.page.body, /<script/);
});

test('registering shows "check your email", mails a 6-digit code and a link, and the code continues the original request', async (t) => {
  const email = newEmail();
  const { flow, check } = await register(email, { name: 'Ada Lovelace' });
  t.is(check.status, 200);
  t.is(h1(check), 'Check your email');
  t.regex(check.body, new RegExp(`We sent a six-digit code to <strong>${email.replace(/\./g, '\\.')}</strong>`));
  t.deepEqual(fieldNames(check, /\/register\/confirm$/), ['code', 'csrf', 'flow']);
  // Nothing exists until the address is proven.
  t.is(await accountRow(email), undefined);

  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  t.deepEqual(mail.to, [email]);
  t.regex(mail.code ?? '', /^\d{6}$/);
  const link = mail.links.find((candidate) => candidate.startsWith(`${server.issuer}/verify?token=`));
  t.truthy(link, `no /verify link in ${mail.text}`);
  t.true(mail.html.includes(mail.code!));

  const done = await flow.browser.submit(check, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
  const { callbackUrl, claims, tokens } = await finishAtClient(config, flow, done);
  t.is(callbackUrl.origin + callbackUrl.pathname, REDIRECT_URI);
  t.is(callbackUrl.searchParams.get('state'), flow.state);
  t.is(claims.email, email);
  t.is(claims.email_verified, true);
  t.is(claims.name, 'Ada Lovelace');
  t.deepEqual(claims.amr, ['pwd']);
  const account = await accountRow(email);
  t.truthy(account);
  t.is(claims.sub, account!.id);
  t.true(account!.email_verified);
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  t.is(userinfo.email_verified, true);
});

test('sending the form again within the cool-down mails nothing new and keeps the same flow', async (t) => {
  const email = newEmail('twice');
  const flow = await startAuthorization(config, { prompt: 'create' });
  const first = await flow.browser.submit(flow.page, /\/register$/, { email, password: PASSWORD });
  const again = await flow.browser.submit(flow.page, /\/register$/, { email, password: PASSWORD });
  t.is(again.status, 200);
  t.is(fieldValue(again, /\/register\/confirm$/, 'flow'), fieldValue(first, /\/register\/confirm$/, 'flow'));
  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  t.is((await mailbox.flush(email)).length, 0, 'one mail only');
  const done = await flow.browser.submit(again, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(config, flow, done);
  t.is(claims.email, email);
});

test('sending the form again within the cool-down with another password and name: the last ones count', async (t) => {
  const email = newEmail('changed');
  const FIRST_PASSWORD = 'amber kettle orchard 17';
  const flow = await startAuthorization(config, { prompt: 'create' });
  const first = await flow.browser.submit(flow.page, /\/register$/, { email, password: FIRST_PASSWORD, name: 'First Name' });
  // Back to the form in the same sign-in, a second thought about the password and name.
  const again = await flow.browser.submit(flow.page, /\/register$/, { email, password: PASSWORD, name: 'Second Name' });
  t.is(fieldValue(again, /\/register\/confirm$/, 'flow'), fieldValue(first, /\/register\/confirm$/, 'flow'));
  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  t.deepEqual(await mailbox.flush(email), [], 'one mail only');
  const done = await flow.browser.submit(again, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(config, flow, done);
  t.is(claims.email, email);
  t.is(claims.name, 'Second Name');
  t.truthy(await server.keyhold.accounts.authenticate(email, PASSWORD));
  t.is(await server.keyhold.accounts.authenticate(email, FIRST_PASSWORD), undefined);
});

test('a code only completes the registration from the sign-in that started it', async (t) => {
  const email = newEmail();
  const { flow, check } = await register(email);
  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  const flowId = fieldValue(check, /\/register\/confirm$/, 'flow')!;

  // Someone else's sign-in (another browser) with the flow id and the right code.
  const other = await startAuthorization(config, { prompt: 'create' });
  const stolen = await other.browser.submit(other.page, /\/register$/, { email: newEmail('other'), password: PASSWORD }, { stopAt: atRedirectUri });
  const hijack = await other.browser.submit(stolen, /\/register\/confirm$/, { flow: flowId, code: mail.code! }, { follow: false });
  t.is(hijack.status, 400);
  t.is(await accountRow(email), undefined);

  // The rightful sign-in still completes.
  const done = await flow.browser.submit(check, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(config, flow, done);
  t.is(claims.email, email);
  t.truthy(await accountRow(email));
});

test('the mailed link opened in the same browser: GET shows a confirm form (not used up), POST continues to the client', async (t) => {
  const email = newEmail();
  const { flow } = await register(email);
  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  const link = mail.links.find((candidate) => candidate.includes('/verify?token='))!;

  const confirm = await flow.browser.get(link);
  t.is(confirm.status, 200);
  t.is(h1(confirm), 'Confirm your email address');
  t.true(fieldNames(confirm, /./)!.includes('csrf'));
  t.true(fieldNames(confirm, /./)!.includes('token'));
  // A mail scanner's GET must not consume it: it still renders, no account yet.
  t.is((await flow.browser.get(link)).status, 200);
  t.is(await accountRow(email), undefined);

  const form = parseForms(confirm.body, confirm.url)[0]!;
  const done = await flow.browser.submit(confirm, new RegExp(form.action.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), {}, { stopAt: atRedirectUri });
  t.true(atRedirectUri(done.url) || /\/confirm"/.test(done.body), `the link did not continue the authorization request: ${done.status} ${h1(done)} ${done.body.slice(0, 300)}`);
  const { claims } = await finishAtClient(config, flow, done);
  t.is(claims.email, email);
  t.is(claims.email_verified, true);
  t.deepEqual(claims.amr, ['pwd']);
});

test('the mailed link opened in another browser asks for the chosen password, then confirms and says to return to the application', async (t) => {
  const email = newEmail();
  await register(email);
  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  const link = mail.links.find((candidate) => candidate.includes('/verify?token='))!;

  const other = new Browser();
  const confirm = await other.get(link);
  t.is(confirm.status, 200);
  const asked = await other.submit(confirm, /./, {}, { stopAt: atRedirectUri });
  t.is(asked.status, 200);
  t.true(fieldNames(asked, /./)!.includes('password'), 'another browser must prove it is the registrant');
  t.is(await accountRow(email), undefined);
  const wrong = await other.submit(asked, /./, { password: 'not the chosen password' }, { stopAt: atRedirectUri });
  t.is(wrong.status, 400);
  t.is(await accountRow(email), undefined);

  const done = await other.submit(wrong, /./, { password: PASSWORD }, { stopAt: atRedirectUri });
  t.false(atRedirectUri(done.url));
  t.is(done.status, 200);
  t.is(h1(done), 'Email address confirmed');
  t.regex(done.body, /Return to the application/);
  // Confirmed, but the other browser is not signed in.
  t.false(other.cookies.has('keyhold_session'));
  const account = await accountRow(email);
  t.truthy(account);
  t.true(account!.email_verified);
  // The link works once.
  const again = await other.get(link);
  t.is(again.status, 410);
  t.is(h1(again), 'Link already used');
});

test('pre-hijack: a second registrant never gets the first one\'s flow, and the first one\'s mailed link does not complete in the owner\'s browser', async (t) => {
  const victim = newEmail('victim');
  const ATTACKER_PASSWORD = 'attacker owns this 4242';
  // The attacker registers the victim's address with a password of their choosing...
  const attacker = await register(victim, { password: ATTACKER_PASSWORD, name: 'Visit evil.example now' });
  const attackerMail = await mailbox.next(victim, VERIFY_SUBJECT);
  t.false(attackerMail.text.includes('evil.example'), 'no attacker-chosen name in mail to an unconfirmed address');
  t.true(attackerMail.text.startsWith('Hello,'));

  // ...and the victim registers too, within the cool-down, in their own browser.
  const owner = await register(victim, { password: PASSWORD });
  t.is(owner.check.status, 200);
  t.is(h1(owner.check), 'Check your email');
  const attackerFlow = fieldValue(attacker.check, /\/register\/confirm$/, 'flow');
  const ownerFlow = fieldValue(owner.check, /\/register\/confirm$/, 'flow');
  t.not(ownerFlow, attackerFlow, "the victim's request must not be handed the attacker's flow");
  const ownerMail = await mailbox.next(victim, VERIFY_SUBJECT);

  // The victim clicks the attacker's (earlier) mail in the victim's browser: it asks for the
  // password chosen at registration, and the victim's own password is not it.
  const confirm = await owner.flow.browser.get(attackerMail.links.find((candidate) => candidate.includes('/verify?token='))!);
  const asked = await owner.flow.browser.submit(confirm, /./, {}, { stopAt: atRedirectUri });
  t.false(atRedirectUri(asked.url));
  t.true(fieldNames(asked, /./)!.includes('password'));
  const refused = await owner.flow.browser.submit(asked, /./, { password: PASSWORD }, { stopAt: atRedirectUri });
  t.is(refused.status, 400);
  t.is(await accountRow(victim), undefined);

  // The attacker's browser cannot complete with the victim's mailed link either.
  const ownerLink = ownerMail.links.find((candidate) => candidate.includes('/verify?token='))!;
  const hijack = await attacker.flow.browser.get(ownerLink);
  const hijackAsked = await attacker.flow.browser.submit(hijack, /./, {}, { stopAt: atRedirectUri });
  t.false(atRedirectUri(hijackAsked.url));
  const hijackRefused = await attacker.flow.browser.submit(hijackAsked, /./, { password: ATTACKER_PASSWORD }, { stopAt: atRedirectUri });
  t.is(hijackRefused.status, 400);
  t.is(await accountRow(victim), undefined);

  // The victim's own code, in the victim's sign-in, creates the account with the victim's password.
  const done = await owner.flow.browser.submit(owner.check, /\/register\/confirm$/, { code: ownerMail.code! }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(config, owner.flow, done);
  t.is(claims.email, victim);
  t.truthy(await server.keyhold.accounts.authenticate(victim, PASSWORD));
  t.is(await server.keyhold.accounts.authenticate(victim, ATTACKER_PASSWORD), undefined);
});

test("one sign-in cannot resend (and so void) another sign-in's registration code", async (t) => {
  const email = newEmail();
  const { flow, check } = await register(email);
  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  const flowId = fieldValue(check, /\/register\/confirm$/, 'flow')!;
  await backdateLastSent(flowId, 61);
  const other = await register(newEmail('other'));
  const resent = await other.flow.browser.submit(other.check, /\/register\/resend$/, { flow: flowId });
  t.is(resent.status, 429);
  t.deepEqual(await mailbox.flush(email), []);
  const done = await flow.browser.submit(check, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
  t.is((await finishAtClient(config, flow, done)).claims.email, email);
});

test('a taken address gets the same page as a new one, its owner a "someone tried to register" mail, and nothing changes', async (t) => {
  const owner = await createUser(server, { email: newEmail('owner'), name: 'Original Owner' });
  const before = await accountRow(owner.email);

  const freshEmail = newEmail();
  const fresh = await register(freshEmail, { name: 'Someone' });
  const duplicate = await register(owner.email, { password: 'a different passphrase 77', name: 'Someone' });
  t.is(duplicate.check.status, fresh.check.status);
  t.is(title(duplicate.check), title(fresh.check));
  t.is(h1(duplicate.check), 'Check your email');
  for (const action of [/\/register\/confirm$/, /\/register\/resend$/]) {
    t.deepEqual(fieldNames(duplicate.check, action), fieldNames(fresh.check, action));
  }
  // The pages differ only in the address, the flow id and the CSRF token.
  const normalise = (page: Page, email: string) => {
    const flowId = fieldValue(page, /\/register\/confirm$/, 'flow')!;
    const csrf = fieldValue(page, /\/register\/confirm$/, 'csrf')!;
    return page.body.replaceAll(email, 'EMAIL').replaceAll(flowId, 'FLOW').replaceAll(csrf, 'CSRF').replace(/\/interaction\/[^/"]+\//g, '/interaction/UID/');
  };
  t.is(normalise(duplicate.check, owner.email), normalise(fresh.check, freshEmail));

  const notice = await mailbox.next(owner.email, /Someone tried to register/);
  t.regex(notice.text, /no new one was created/);
  t.is(notice.code, undefined);
  t.false(notice.text.includes('/verify?token='));
  // No code or link went to the address.
  t.deepEqual((await mailbox.flush(owner.email)).map((mail) => mail.subject), []);

  t.is(await accountCount(owner.email), 1);
  const after = await accountRow(owner.email);
  t.is(after!.id, before!.id);
  t.is(after!.password_hash, before!.password_hash);
  t.is(after!.name, 'Original Owner');
  t.deepEqual(after!.updated_at, before!.updated_at);
  // The old password still signs in; the one typed into the form does not.
  t.truthy(await server.keyhold.accounts.authenticate(owner.email, owner.password));
  t.is(await server.keyhold.accounts.authenticate(owner.email, 'a different passphrase 77'), undefined);
});

for (const [label, password, local, message] of [
  ['too short', 'abc1234', 'shorty', /Use at least 8 characters\./],
  ['common', 'password123', 'common', /This password is too common\./],
  ['containing the email name', 'marigold-in-the-springtime', 'marigold', /Do not use your email address in your password\./],
] as const) {
  test(`a weak password (${label}) is refused with 400 and a message, and nothing is mailed`, async (t) => {
    const email = `${local}@${randomBytes(4).toString('hex')}.example.test`;
    const { check } = await register(email, { password, name: 'Weak Pw' });
    t.is(check.status, 400);
    t.is(h1(check), 'Create account');
    const messages = alerts(check);
    t.true(messages.some((text) => message.test(text)), `messages: ${JSON.stringify(messages)}`);
    // The form comes back with what was typed, except the password.
    t.is(fieldValue(check, /\/register$/, 'email'), email);
    t.is(fieldValue(check, /\/register$/, 'name'), 'Weak Pw');
    t.is(fieldValue(check, /\/register$/, 'password'), '');
    t.false(check.body.includes(password));
    t.deepEqual(await mailbox.flush(email), []);
    const flows = await server.keyhold.db.selectFrom('self_service_flows').select('id').where('email', '=', email).execute();
    t.is(flows.length, 0);
    t.is(await accountRow(email), undefined);
  });
}

test('a registration or code form without its CSRF token, or with a forged one, is refused with 403', async (t) => {
  const email = newEmail();
  const flow = await startAuthorization(config, { prompt: 'create' });
  const missing = await flow.browser.submit(flow.page, /\/register$/, { email, password: PASSWORD, name: 'X', csrf: '' }, { follow: false });
  t.is(missing.status, 403);
  t.regex(missing.body, /csrf_failed/);
  const forged = await flow.browser.submit(flow.page, /\/register$/, { email, password: PASSWORD, name: 'X', csrf: 'A'.repeat(43) }, { follow: false });
  t.is(forged.status, 403);
  t.deepEqual(await mailbox.flush(email), []);

  const check = await flow.browser.submit(flow.page, /\/register$/, { email, password: PASSWORD, name: 'X' });
  t.is(check.status, 200);
  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  const noCsrf = await flow.browser.submit(check, /\/register\/confirm$/, { code: mail.code!, csrf: '' }, { follow: false });
  t.is(noCsrf.status, 403);
  t.is(await accountRow(email), undefined);
  // The genuine form still works afterwards.
  const done = await flow.browser.submit(check, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
  t.is((await finishAtClient(config, flow, done)).claims.email, email);
});

const wrongCode = (code: string, n: number) => String((Number(code) + 1 + n) % 1_000_000).padStart(6, '0');

test('a wrong code is answered 400; after 4 wrong codes the right one still works', async (t) => {
  const email = newEmail();
  const { flow, check } = await register(email);
  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  let page = check;
  for (let attempt = 0; attempt < 4; attempt++) {
    page = await flow.browser.submit(page, /\/register\/confirm$/, { code: wrongCode(mail.code!, attempt) }, { stopAt: atRedirectUri });
    t.is(page.status, 400);
    t.regex(alertText(page) ?? '', /That code is not valid or has expired/);
  }
  const done = await flow.browser.submit(page, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
  t.is((await finishAtClient(config, flow, done)).claims.email, email);
});

test('after 5 wrong codes even the right code fails, and no account is created', async (t) => {
  const email = newEmail();
  const { flow, check } = await register(email);
  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  let page = check;
  for (let attempt = 0; attempt < 5; attempt++) {
    page = await flow.browser.submit(page, /\/register\/confirm$/, { code: wrongCode(mail.code!, attempt) }, { stopAt: atRedirectUri });
    t.is(page.status, 400);
  }
  const refused = await flow.browser.submit(page, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
  t.is(refused.status, 400);
  t.false(atRedirectUri(refused.url));
  t.regex(alertText(refused) ?? '', /not valid or has expired/);
  t.is(await accountRow(email), undefined);
});

/** Pretends the last mail of the flow went out `seconds` ago (the resend cool-down). */
async function backdateLastSent(flowId: string, seconds: number) {
  await server.keyhold.db
    .updateTable('self_service_flows')
    .set({ last_sent_at: sql<Date>`now() - make_interval(secs => ${seconds})` })
    .where('id', '=', flowId)
    .execute();
}

test('resend mails a new code and link that work; the old code and link no longer do', async (t) => {
  const email = newEmail();
  const { flow, check } = await register(email);
  const first = await mailbox.next(email, VERIFY_SUBJECT);
  const flowId = fieldValue(check, /\/register\/confirm$/, 'flow')!;
  await backdateLastSent(flowId, 61);

  const resent = await flow.browser.submit(check, /\/register\/resend$/);
  t.is(resent.status, 200);
  t.is(noticeText(resent), 'We sent a new code.');
  t.is(fieldValue(resent, /\/register\/confirm$/, 'flow'), flowId);
  const second = await mailbox.next(email, VERIFY_SUBJECT);
  t.regex(second.code ?? '', /^\d{6}$/);
  const firstLink = first.links.find((link) => link.includes('/verify?token='))!;
  const secondLink = second.links.find((link) => link.includes('/verify?token='))!;
  t.not(secondLink, firstLink);

  const oldLink = await new Browser().get(firstLink);
  t.is(oldLink.status, 400);
  t.is(h1(oldLink), 'Link not valid');
  if (first.code !== second.code) {
    const oldCode = await flow.browser.submit(resent, /\/register\/confirm$/, { code: first.code! }, { stopAt: atRedirectUri });
    t.is(oldCode.status, 400);
    t.is(await accountRow(email), undefined);
  }
  const done = await flow.browser.submit(resent, /\/register\/confirm$/, { code: second.code! }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(config, flow, done);
  t.is(claims.email, email);
  t.is(claims.email_verified, true);
});

test('resending twice in quick succession hits the cool-down: 429, no second mail, the code form stays', async (t) => {
  const email = newEmail();
  const { flow, check } = await register(email);
  await mailbox.next(email, VERIFY_SUBJECT);
  await backdateLastSent(fieldValue(check, /\/register\/confirm$/, 'flow')!, 61);

  const first = await flow.browser.submit(check, /\/register\/resend$/);
  t.is(first.status, 200);
  const code = (await mailbox.next(email, VERIFY_SUBJECT)).code!;
  const second = await flow.browser.submit(first, /\/register\/resend$/);
  t.is(second.status, 429);
  t.regex(noticeText(second) ?? '', /Please wait/);
  t.deepEqual(await mailbox.flush(email), []);
  // The code from the mail that did go out still works from the cool-down page.
  const done = await flow.browser.submit(second, /\/register\/confirm$/, { code }, { stopAt: atRedirectUri });
  t.is((await finishAtClient(config, flow, done)).claims.email, email);
});

test('an expired registration (EMAIL_VERIFICATION_TTL=60, expiry moved into the past) refuses the code and the link', async (t) => {
  const email = newEmail();
  const { flow, check } = await register(email);
  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  const flowId = fieldValue(check, /\/register\/confirm$/, 'flow')!;
  const row = await server.keyhold.db.selectFrom('self_service_flows').select(['created_at', 'expires_at']).where('id', '=', flowId).executeTakeFirstOrThrow();
  const lifetime = (new Date(row.expires_at).getTime() - new Date(row.created_at).getTime()) / 1000;
  t.true(Math.abs(lifetime - 60) < 5, `flow lifetime ${lifetime}s, expected 60s`);

  await server.keyhold.db
    .updateTable('self_service_flows')
    .set({ expires_at: sql<Date>`now() - interval '1 second'` })
    .where('id', '=', flowId)
    .execute();
  const refused = await flow.browser.submit(check, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
  t.is(refused.status, 400);
  t.false(atRedirectUri(refused.url));
  t.regex(alertText(refused) ?? '', /not valid or has expired/);
  const link = await new Browser().get(mail.links.find((candidate) => candidate.includes('/verify?token='))!);
  t.is(link.status, 410);
  t.is(h1(link), 'Link expired');
  t.is(await accountRow(email), undefined);
});

test('REGISTRATION=closed: no "Create account" link, the register page is 403, prompt=create is not offered', async (t) => {
  const closed = await startTestServer({ env: { REGISTRATION: 'closed' } });
  t.teardown(() => closed.stop());
  const closedConfig = await discover(closed, await registerClient(closed));

  const flow = await startAuthorization(closedConfig);
  t.is(flow.page.status, 200);
  t.is(h1(flow.page), 'Sign in');
  t.false(flow.page.body.includes('Create account'));
  t.regex(flow.page.body, />Forgot password\?<\/a>/);
  const uid = /\/interaction\/([^/?"]+)\/login/.exec(flow.page.body)![1]!;
  const registerPage = await flow.browser.get(`${closed.issuer}/interaction/${uid}/register`);
  t.is(registerPage.status, 403);
  t.regex(registerPage.body, /Registration is closed/);
  const csrf = fieldValue(flow.page, /\/login$/, 'csrf')!;
  const posted = await flow.browser.request(`${closed.issuer}/interaction/${uid}/register`, {
    method: 'POST',
    body: new URLSearchParams({ csrf, email: newEmail(), password: PASSWORD, name: 'X' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.is(posted.status, 403);

  const metadata = (await (await fetch(`${closed.issuer}/.well-known/openid-configuration`)).json()) as { prompt_values_supported?: string[] };
  t.false((metadata.prompt_values_supported ?? []).includes('create'));
  // And a client asking for it anyway does not get a registration page.
  const asked = await startAuthorization(closedConfig, { prompt: 'create' });
  t.false(/\/register$/.test(asked.page.url));
  t.false(asked.page.body.includes('name="password"'));
  t.true(atRedirectUri(asked.page.url), `prompt=create with registration closed: ${asked.page.status} at ${asked.page.url}`);
  t.is(new URL(asked.page.url).searchParams.get('error'), 'invalid_request');
});

test('REGISTRATION=invite: the invitation field is required, an invitation for the address works, a wrong one is refused', async (t) => {
  const { server: invite, mailbox: inviteMailbox, config: inviteConfig, stop: stopInvite } = await startServerWithMailbox({ REGISTRATION: 'invite' });
  t.teardown(stopInvite);

  const email = newEmail('invited');
  const flow = await startAuthorization(inviteConfig, { prompt: 'create' });
  t.deepEqual(fieldNames(flow.page, /\/register$/), ['csrf', 'email', 'invitation', 'name', 'password']);
  t.regex(flow.page.body, /<input id="invitation" name="invitation"[^>]* required/);

  const without = await flow.browser.submit(flow.page, /\/register$/, { email, password: PASSWORD, name: 'Invited' });
  t.is(without.status, 400);
  t.true(alerts(without).some((text) => /invitation is not valid/.test(text)), JSON.stringify(alerts(without)));

  const { invitation } = await invite.keyhold.registration.invite(email);
  const invitationMail = await inviteMailbox.next(email, /invited/);
  t.true(invitationMail.text.includes(invitation));
  const forOther = (await invite.keyhold.registration.invite(newEmail('someone-else'))).invitation;

  const wrongAddress = await flow.browser.submit(without, /\/register$/, { email, password: PASSWORD, name: 'Invited', invitation: forOther });
  t.is(wrongAddress.status, 400);
  t.true(alerts(wrongAddress).some((text) => /invitation is not valid for this email address/.test(text)));
  const garbled = await flow.browser.submit(without, /\/register$/, { email, password: PASSWORD, name: 'Invited', invitation: `${invitation}x` });
  t.is(garbled.status, 400);
  t.deepEqual(await inviteMailbox.flush(email), []);

  const check = await flow.browser.submit(without, /\/register$/, { email, password: PASSWORD, name: 'Invited', invitation });
  t.is(check.status, 200);
  t.is(h1(check), 'Check your email');
  const mail = await inviteMailbox.next(email, VERIFY_SUBJECT);
  const done = await flow.browser.submit(check, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(inviteConfig, flow, done);
  t.is(claims.email, email);
  t.is(claims.email_verified, true);

  // The invitation is spent once the account exists.
  const again = await startAuthorization(inviteConfig, { prompt: 'create' });
  const reused = await again.browser.submit(again.page, /\/register$/, { email, password: 'another fine passphrase', name: 'Again', invitation });
  t.is(reused.status, 400);
});
