// The sessions page (/account/sessions) over HTTP: each device's session with its device,
// address and times, this one marked; one device signs another out (that browser's session
// and its apps' refresh tokens end at once), or every other one. The attacker's side: a form
// without its CSRF token is refused, another account's session id is not found (and that
// session lives on), and a browser that is not signed in sees nothing.
import test from 'ava';
import * as oidc from 'openid-client';
import { DeviceBrowser, parseForms, type Page } from '../helpers/browser.ts';
import { createUser, discover, login, registerClient } from '../helpers/oidc.ts';
import { alertText, h1, links, notice } from '../helpers/page.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const LAPTOP = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

let server: TestServer;
let config: oidc.Configuration;

test.before(async () => {
  server = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
  config = await discover(server, await registerClient(server, { first_party: true }));
});
test.after.always(async () => {
  await server?.stop();
});

/** Signs `user` in on a new device: its browser and an app's refresh token. */
async function device(user: { email: string; password: string }, userAgent: string) {
  const browser = new DeviceBrowser(userAgent);
  const { tokens } = await login(config, user, { scope: 'openid offline_access', prompt: 'consent' }, browser);
  await server.keyhold.background.settled();
  return { browser, refreshToken: tokens.refresh_token! };
}

const sessionsPage = (browser: DeviceBrowser) => browser.get(`${server.issuer}/account/sessions`);

async function refreshWorks(refreshToken: string): Promise<boolean> {
  try {
    await oidc.refreshTokenGrant(config, refreshToken);
    return true;
  } catch (error) {
    if ((error as oidc.ResponseBodyError).error === 'invalid_grant') return false;
    throw error;
  }
}

/** The session ids the page offers to sign out. */
const revocable = (page: Page) =>
  parseForms(page.body, page.url)
    .filter((form) => form.action.endsWith('/account/sessions/revoke'))
    .map((form) => form.fields.find((field) => field.name === 'session')!.value);

/** A form post as a browser sends it, with the fields given (and no others). */
const post = (browser: DeviceBrowser, path: string, fields: Record<string, string>) =>
  browser.request(`${server.issuer}${path}`, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

test('the page lists each device, marks this one, and the phone signs the laptop out: its session and refresh token end at once', async (t) => {
  const user = await createUser(server);
  const laptop = await device(user, LAPTOP);
  const phone = await device(user, PHONE);

  const security = await phone.browser.get(`${server.issuer}/account/security`);
  t.is(links(security)['Where you are signed in'], '/account/sessions');

  const page = await sessionsPage(phone.browser);
  t.is(page.status, 200);
  t.is(h1(page), 'Where you are signed in');
  t.regex(page.body, /Chrome 120 on macOS/);
  t.regex(page.body, /Safari 17 on iOS/);
  t.is((page.body.match(/This device/g) ?? []).length, 1);
  t.regex(page.body, /127\.0\.0\.1/);
  t.regex(page.body, /<time datetime="\d{4}-\d\d-\d\dT/);
  // Only the other device can be signed out from here (this one signs out through logout).
  const [laptopSession, ...rest] = revocable(page);
  t.deepEqual(rest, []);
  t.is(laptopSession!, (await server.keyhold.sessions.list(user.id)).find((session) => session.userAgent === LAPTOP)!.id);

  const done = await phone.browser.submit(page, /\/account\/sessions\/revoke$/, {});
  t.is(done.status, 200);
  t.regex(notice(done) ?? '', /session was ended/);
  t.deepEqual(revocable(done), []);
  t.false(await refreshWorks(laptop.refreshToken));
  t.true(await refreshWorks(phone.refreshToken));
  t.is((await sessionsPage(laptop.browser)).status, 401, 'the laptop is signed out');
  t.is((await sessionsPage(phone.browser)).status, 200);
});

test('"Sign out every other device" keeps only this one', async (t) => {
  const user = await createUser(server);
  const laptop = await device(user, LAPTOP);
  const tablet = await device(user, LAPTOP.replace('Macintosh; Intel Mac OS X 10_15_7', 'X11; Linux x86_64'));
  const phone = await device(user, PHONE);
  const page = await sessionsPage(phone.browser);
  t.is(revocable(page).length, 2);
  const done = await phone.browser.submit(page, /\/account\/sessions\/revoke-others$/, {});
  t.is(done.status, 200);
  t.regex(notice(done) ?? '', /Ended 2 other/);
  t.false(await refreshWorks(laptop.refreshToken));
  t.false(await refreshWorks(tablet.refreshToken));
  t.true(await refreshWorks(phone.refreshToken));
  t.deepEqual((await server.keyhold.sessions.list(user.id)).map((session) => session.userAgent), [PHONE]);
});

test('without the CSRF token, or with a forged one, nothing is ended', async (t) => {
  const user = await createUser(server);
  const laptop = await device(user, LAPTOP);
  const phone = await device(user, PHONE);
  const [laptopSession] = revocable(await sessionsPage(phone.browser));
  for (const fields of [{ session: laptopSession! }, { session: laptopSession!, csrf: 'forged' }] as Array<Record<string, string>>) {
    const refused = await post(phone.browser, '/account/sessions/revoke', fields);
    t.is(refused.status, 403);
  }
  t.is((await post(phone.browser, '/account/sessions/revoke-others', {})).status, 403);
  // A token from another browser is not this browser's either.
  const laptopCsrf = /name="csrf" value="([^"]+)"/.exec((await sessionsPage(laptop.browser)).body)![1]!;
  t.is((await post(phone.browser, '/account/sessions/revoke-others', { csrf: laptopCsrf })).status, 403);
  t.true(await refreshWorks(laptop.refreshToken));
  t.is((await server.keyhold.sessions.list(user.id)).length, 2);
});

test('another account\'s session id is not found, and that session lives on', async (t) => {
  const victim = await createUser(server);
  const victimDevice = await device(victim, LAPTOP);
  const [victimSession] = await server.keyhold.sessions.list(victim.id);
  const attacker = await createUser(server);
  // Two devices of its own, so that the page carries its forms (and their CSRF token).
  await device(attacker, LAPTOP);
  const attackerDevice = await device(attacker, PHONE);
  const page = await sessionsPage(attackerDevice.browser);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
  for (const session of [victimSession!.id, 'no-such-session', 'x'.repeat(500)]) {
    const refused = await post(attackerDevice.browser, '/account/sessions/revoke', { csrf, session });
    t.is(refused.status, 404, session.slice(0, 20));
    t.regex(alertText(refused) ?? '', /no such session/);
  }
  t.true(await refreshWorks(victimDevice.refreshToken));
  t.is((await sessionsPage(victimDevice.browser)).status, 200);
  t.is((await server.keyhold.sessions.list(victim.id)).length, 1);
});

test('a browser that is not signed in gets no page and can end nothing', async (t) => {
  const stranger = new DeviceBrowser(LAPTOP);
  t.is((await sessionsPage(stranger)).status, 401);
  t.is((await post(stranger, '/account/sessions/revoke-others', {})).status, 403);
});
