// Device authorization grant (RFC 8628) over HTTP with openid-client: the device asks for a
// code, the user enters it on Keyhold's page, confirms, signs in, and the device's polling
// then gets tokens. The attacker's side: polling before approval or after denial, a wrong
// code, a form posted without or with a foreign CSRF token, a device code used twice.
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser, parseForms, type Page } from '../helpers/browser.ts';
import { createUser, registerClient } from '../helpers/oidc.ts';
import { discoverWith } from '../helpers/protocol.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let server: TestServer;
let defaults: TestServer;

test.before(async () => {
  [server, defaults] = await Promise.all([startTestServer({ env: { DEVICE_FLOW: 'true' } }), startTestServer({ redis: false })]);
});
test.after.always(async () => {
  await Promise.all([server?.stop(), defaults?.stop()]);
});

async function deviceClient() {
  const client = await registerClient(server, {
    client_name: 'Living Room TV',
    token_endpoint_auth_method: 'none',
    grant_types: [DEVICE_GRANT, 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  });
  const config = await discoverWith(server.issuer, client.clientId, oidc.None());
  return { clientId: client.clientId, config };
}

async function poll(clientId: string, deviceCode: string) {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Enters `userCode` on the verification page; the page that follows (confirmation, or the page again with an error). */
async function enterCode(browser: Browser, verificationUri: string, userCode: string): Promise<Page> {
  const page = await browser.get(verificationUri);
  return browser.submit(page, /\/device$/, { user_code: userCode });
}

test('discovery lists the device authorization endpoint only when DEVICE_FLOW is on', async (t) => {
  const on = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  t.is(on.device_authorization_endpoint, `${server.issuer}/device/auth`);
  t.true((on.grant_types_supported as string[]).includes(DEVICE_GRANT));
  const off = (await (await fetch(`${defaults.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  t.is(off.device_authorization_endpoint, undefined);
  t.false((off.grant_types_supported as string[]).includes(DEVICE_GRANT));
  t.is((await fetch(`${defaults.issuer}/device`)).status, 404);
});

test('a device signs in: pending until the user confirms and signs in on Keyhold\'s pages, then tokens, once', async (t) => {
  const { clientId, config } = await deviceClient();
  const user = await createUser(server);
  const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid email offline_access' });
  t.regex(started.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);

  const early = await poll(clientId, started.device_code);
  t.is(early.status, 400);
  t.is(early.body.error, 'authorization_pending');

  const browser = new Browser();
  const codePage = await browser.get(started.verification_uri);
  t.is(codePage.status, 200);
  t.regex(codePage.body, /<link rel="stylesheet" href="\/assets\/keyhold.css">/);
  t.truthy(parseForms(codePage.body, codePage.url)[0]?.fields.find((field) => field.name === 'xsrf')?.value, 'the form carries its CSRF field');

  const confirm = await browser.submit(codePage, /\/device$/, { user_code: started.user_code.toLowerCase().replace('-', '') });
  t.true(confirm.body.includes(started.user_code), 'the confirmation shows the code to compare');
  t.true(confirm.body.includes('Living Room TV'));
  t.is((await poll(clientId, started.device_code)).body.error, 'authorization_pending', 'seeing the confirmation approves nothing');

  let page = await browser.submit(confirm, /\/device$/, {}, { button: 'confirm' });
  t.true(page.body.includes('name="password"'), 'then the usual sign-in page');
  page = await browser.submit(page, /\/login$/, { email: user.email, password: user.password });
  if (/action="[^"]*\/confirm"/.test(page.body)) page = await browser.submit(page, /\/confirm$/);
  t.true(page.body.includes('Device signed in'), page.body.slice(0, 400));

  const tokens = await oidc.pollDeviceAuthorizationGrant(config, started);
  t.is(tokens.claims()?.sub, user.id);
  t.truthy(tokens.refresh_token);
  const again = await poll(clientId, started.device_code);
  t.is(again.body.error, 'invalid_grant');
});

test('a device whose user cancels on the confirmation page gets access_denied, and the code is spent', async (t) => {
  const { clientId, config } = await deviceClient();
  const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
  const browser = new Browser();
  const confirm = await enterCode(browser, started.verification_uri, started.user_code);
  const cancelForm = parseForms(confirm.body, confirm.url).find((form) => form.buttons.some((button) => button.name === 'abort'))!;
  const body = new URLSearchParams([...cancelForm.fields, ...cancelForm.buttons].map((field) => [field.name, field.value]));
  const cancelled = await browser.request(cancelForm.action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.true(cancelled.body.includes('was cancelled'));
  const denied = await poll(clientId, started.device_code);
  t.is(denied.status, 400);
  t.is(denied.body.error, 'access_denied');
  const reused = await enterCode(new Browser(), started.verification_uri, started.user_code);
  t.is(reused.status, 400);
  t.true(reused.body.includes('already used'));
});

test('a device whose user denies consent after signing in gets access_denied', async (t) => {
  const { clientId, config } = await deviceClient();
  const user = await createUser(server);
  const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid email' });
  const browser = new Browser();
  const confirm = await enterCode(browser, started.verification_uri, started.user_code);
  let page = await browser.submit(confirm, /\/device$/, {}, { button: 'confirm' });
  page = await browser.submit(page, /\/login$/, { email: user.email, password: user.password });
  t.regex(page.body, /action="[^"]*\/abort"/, 'a third-party device client is asked for consent');
  await browser.submit(page, /\/abort$/);
  t.is((await poll(clientId, started.device_code)).body.error, 'access_denied');
});

test('a wrong code is refused on the page; nothing is approved', async (t) => {
  const { clientId, config } = await deviceClient();
  const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
  const wrong = await enterCode(new Browser(), started.verification_uri, 'BCDF-GHJK');
  t.is(wrong.status, 400);
  t.true(wrong.body.includes('not valid'));
  t.is((await poll(clientId, started.device_code)).body.error, 'authorization_pending');
});

test('a confirmation posted without this browser\'s CSRF token approves nothing', async (t) => {
  const { clientId, config } = await deviceClient();
  const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
  // The victim's browser has a code page open (and so a CSRF secret); the attacker's page
  // posts a confirmation with a token of its own, then with none.
  const victim = new Browser();
  await victim.get(started.verification_uri);
  const attackerToken = parseForms((await new Browser().get(started.verification_uri)).body, started.verification_uri)[0]!.fields.find((field) => field.name === 'xsrf')!.value;
  for (const xsrf of [attackerToken, undefined]) {
    const body = new URLSearchParams({ user_code: started.user_code, confirm: 'yes', ...(xsrf ? { xsrf } : {}) });
    const forged = await victim.request(`${server.issuer}/device`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    t.is(forged.status, 400);
    t.false(forged.body.includes('name="password"'));
  }
  t.is((await poll(clientId, started.device_code)).body.error, 'authorization_pending');
});

test('guessing user codes is limited per address (429 with Retry-After); the device is not approved', async (t) => {
  const limited = await startTestServer({ redis: false, env: { DEVICE_FLOW: 'true', DEVICE_CODE_RATE_LIMIT: '3' } });
  try {
    const client = await registerClient(limited, { token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT], response_types: [], redirect_uris: [] });
    const config = await discoverWith(limited.issuer, client.clientId, oidc.None());
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const browser = new Browser();
    for (let attempt = 0; attempt < 3; attempt++) t.is((await enterCode(browser, started.verification_uri, 'BCDF-GHJK')).status, 400);
    const blocked = await enterCode(browser, started.verification_uri, started.user_code);
    t.is(blocked.status, 429);
    t.truthy(blocked.headers.get('retry-after'));
    t.false(blocked.body.includes(started.user_code), 'no confirmation page for the right code either');
  } finally {
    await limited.stop();
  }
});
