// The login page: one answer for unknown accounts and wrong passwords, CSRF enforced,
// failures throttled.
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser, parseForms, type Page } from '../helpers/browser.ts';
import { createPasswordHasher } from '#src/services/passwords.ts';
import { atRedirectUri, createUser, discover, login, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { alertText } from '../helpers/page.ts';

let server: TestServer;
let config: oidc.Configuration;

test.before(async () => {
  server = await startTestServer({ env: { LOGIN_RATE_LIMIT: '3' } });
  config = await discover(server, await registerClient(server));
});
test.after.always(async () => {
  await server?.stop();
});

async function openLoginPage(browser = new Browser()): Promise<{ browser: Browser; page: Page }> {
  const { page } = await openAuthorization(config, { scope: 'openid' }, browser);
  return { browser, page };
}

test('the login page is a plain form with email, password and a CSRF field', async (t) => {
  const { page } = await openLoginPage();
  t.is(page.status, 200);
  const form = parseForms(page.body, page.url).find((candidate) => candidate.action.endsWith('/login'))!;
  t.is(form.method, 'post');
  t.deepEqual(form.fields.map((field) => field.name).sort(), ['csrf', 'email', 'password']);
  t.true(form.fields.find((field) => field.name === 'csrf')!.value.length > 20);
  // No inline script: only Keyhold's own passkey assets and the passkey options as inert JSON.
  for (const tag of page.body.match(/<script[^>]*>/g) ?? []) t.regex(tag, /^<script (src="\/assets\/(webauthn|passkey)\.js"|type="application\/json")>$/);
  t.regex(page.headers.get('cache-control') ?? '', /no-store/);
});

test('unknown email and wrong password get the same status and message', async (t) => {
  const user = await createUser(server);
  const first = await openLoginPage();
  const wrongPassword = await first.browser.submit(first.page, /\/login$/, { email: user.email, password: 'not the password' }, { follow: false });
  const second = await openLoginPage();
  const unknownEmail = await second.browser.submit(second.page, /\/login$/, { email: 'nobody@example.test', password: 'not the password' }, { follow: false });
  t.is(wrongPassword.status, 401);
  t.is(unknownEmail.status, wrongPassword.status);
  t.is(alertText(wrongPassword), 'Invalid email or password.');
  t.is(alertText(unknownEmail), alertText(wrongPassword));
  // The typed email is kept; the password never comes back.
  t.regex(wrongPassword.body, new RegExp(`value="${user.email.replace('.', '\\.')}"`));
  t.notRegex(wrongPassword.body, /not the password/);
});

test('a login POST with a missing or forged CSRF token is refused', async (t) => {
  const user = await createUser(server);
  const { browser, page } = await openLoginPage();
  const missing = await browser.submit(page, /\/login$/, { email: user.email, password: user.password, csrf: '' }, { follow: false });
  t.is(missing.status, 403);
  t.regex(missing.body, /csrf_failed/);
  const forged = await browser.submit(page, /\/login$/, { email: user.email, password: user.password, csrf: 'A'.repeat(43) }, { follow: false });
  t.is(forged.status, 403);
  // A token from another browser (another CSRF cookie) is refused too.
  const other = await openLoginPage();
  const token = parseForms(other.page.body, other.page.url)[0]!.fields.find((field) => field.name === 'csrf')!.value;
  const crossed = await browser.submit(page, /\/login$/, { email: user.email, password: user.password, csrf: token }, { follow: false });
  t.is(crossed.status, 403);
  // The genuine form still works.
  const ok = await browser.submit(page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  t.true(atRedirectUri(ok.url) || /\/confirm"/.test(ok.body));
});

test('repeated failures are throttled, even when the right password finally arrives', async (t) => {
  const user = await createUser(server);
  const { browser, page } = await openLoginPage();
  for (let attempt = 0; attempt < 3; attempt++) {
    const failed = await browser.submit(page, /\/login$/, { email: user.email, password: `wrong-${attempt}` }, { follow: false });
    t.is(failed.status, 401);
  }
  const blocked = await browser.submit(page, /\/login$/, { email: user.email, password: user.password }, { follow: false });
  t.is(blocked.status, 429);
  t.truthy(Number(blocked.headers.get('retry-after')) > 0);
  t.regex(alertText(blocked) ?? '', /Too many failed attempts/);
});

test('a disabled account cannot sign in and gets the same message', async (t) => {
  const user = await createUser(server);
  await server.keyhold.db.updateTable('accounts').set({ active: false }).where('id', '=', user.id).execute();
  const { browser, page } = await openLoginPage();
  const response = await browser.submit(page, /\/login$/, { email: user.email, password: user.password }, { follow: false });
  t.is(response.status, 401);
  t.is(alertText(response), 'Invalid email or password.');
});

test('a hash made with older argon2 parameters is rehashed with the current ones at the next login', async (t) => {
  const stronger = await startTestServer({ env: { ARGON2_ITERATIONS: '2' } });
  try {
    const weakHasher = createPasswordHasher({ memoryCost: 8192, timeCost: 1, parallelism: 1 });
    const account = await stronger.keyhold.accounts.create({ email: 'rehash@example.test', passwordHash: await weakHasher.hash('a perfectly fine passphrase'), emailVerified: true });
    const client = await registerClient(stronger, { first_party: true });
    await login(await discover(stronger, client), { email: account.email, password: 'a perfectly fine passphrase' });
    const { password_hash: hash } = await stronger.keyhold.db.selectFrom('accounts').select('password_hash').where('id', '=', account.id).executeTakeFirstOrThrow();
    t.regex(hash!, /^\$argon2id\$v=19\$m=8192,p=1,t=2\$/);
    // The new hash still verifies the same password.
    await t.notThrowsAsync(login(await discover(stronger, client), { email: account.email, password: 'a perfectly fine passphrase' }));
  } finally {
    await stronger.stop();
  }
});
