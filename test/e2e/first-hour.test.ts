// The README's first hour, followed literally on a fresh DATA_DIR: `npm start` (embedded
// database, development), `npx keyhold init` beside it, the API example and the SPA example
// as the README starts them, then a real Chromium signs in at the SPA, refreshes its tokens,
// calls the API (which verifies the token offline) and signs out. Only the ports differ from
// the README's (free ones, so that test runs do not collide), passed as the README's
// settings (PORT, ISSUER, --spa-origin, API_URL).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { createJoseVerifier } from '../../examples/api/jose.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { runCommand, startExample, type Started } from '../helpers/example-process.ts';
import { freePort } from '../helpers/free-port.ts';
import { startKeyholdProcess, type KeyholdProcess } from '../helpers/keyhold-process.ts';

let dataDir: string;
let keyhold: KeyholdProcess | undefined;
let api: Started | undefined;
let spa: Started | undefined;
let browser: Browser | undefined;

test.before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'keyhold-first-hour-'));
});

test.after.always(async () => {
  await browser?.close();
  await spa?.stop();
  await api?.stop();
  await keyhold?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface SpaStatus {
  signed_in: boolean;
  sub?: string;
  scope?: string;
  has_refresh_token?: boolean;
  access_token?: string;
  api?: { status: number; body: { orders?: unknown[]; error?: string } };
}

async function status(page: Page): Promise<SpaStatus> {
  const text = await page.locator('#status').textContent();
  if (text?.startsWith('error:')) throw new Error(`the SPA says ${text}`);
  return JSON.parse(text ?? '{}') as SpaStatus;
}

test('from npm start to a signed-in SPA and a verified API call, as the README says', async (t) => {
  // ## Run it: npm start (the defaults: embedded database, development).
  const port = String(await freePort());
  const issuer = `http://localhost:${port}`;
  keyhold = await startKeyholdProcess({ DATA_DIR: dataDir, PORT: port, ISSUER: issuer, ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' }, { npm: true });
  t.regex(keyhold.output(), /Keyhold is running \(development\)/);
  t.true(keyhold.output().includes(`Discovery   ${issuer}/.well-known/openid-configuration`));

  // ## Quickstart: npx keyhold init, beside the running server.
  const spaPort = await freePort();
  const spaOrigin = `http://localhost:${spaPort}`;
  const initEnv = { DATA_DIR: dataDir, ISSUER: issuer };
  const init = await runCommand('npx', ['keyhold', 'init', '--spa-origin', spaOrigin], initEnv);
  t.is(init.code, 0, init.stderr);
  const made = JSON.parse(init.stdout) as { user: { email: string; password: string; status: string }; spa: { client_id: string; status: string }; api: { identifier: string }; service: { client_id: string; client_secret: string } };
  t.is(made.user.status, 'created');
  t.is(made.spa.client_id, 'demo-spa');
  t.truthy(made.service.client_secret);
  // Run again: nothing new, and it says what exists.
  const again = await runCommand('npx', ['keyhold', 'init', '--spa-origin', spaOrigin], initEnv);
  t.is(again.code, 0, again.stderr);
  const existing = JSON.parse(again.stdout) as { user: { status: string; password?: string }; spa: { status: string }; service: { status: string; client_secret?: string } };
  t.deepEqual([existing.user.status, existing.spa.status, existing.service.status], ['exists', 'exists', 'exists']);
  t.is(existing.user.password, undefined);
  t.is(existing.service.client_secret, undefined);

  // ## Verify in an API: examples/api, trusting Keyhold's tokens for its identifier.
  const apiPort = String(await freePort());
  api = await startExample('examples/api/main.ts', { ISSUER: issuer, AUDIENCE: made.api.identifier, PORT: apiPort, CORS_ORIGIN: spaOrigin });
  const apiUrl = `http://localhost:${apiPort}`;

  // ## Sign in from a local app: examples/spa.
  spa = await startExample('examples/spa/serve.ts', { ISSUER: issuer, API_URL: apiUrl, PORT: String(spaPort) });
  t.is(spa.url, spaOrigin);

  browser = await launchChromium();
  const page = await (await browser.newContext()).newPage();
  await page.goto(spaOrigin);
  await page.waitForSelector('body[data-state="signed-out"]');
  await page.click('#sign-in');
  await page.waitForURL((url) => url.origin === issuer);
  await page.fill('#email', made.user.email);
  await page.fill('#password', made.user.password);
  await page.click('form[action$="/login"] button[type="submit"]');
  await page.waitForSelector('body[data-state="signed-in"]');
  const signedIn = await status(page);
  t.truthy(signedIn.sub);
  t.true(signedIn.has_refresh_token, 'offline_access gave the first-party SPA a refresh token');
  const claims = JSON.parse(Buffer.from(signedIn.access_token!.split('.')[1]!, 'base64url').toString()) as { aud: string; scope: string };
  t.is(claims.aud, made.api.identifier, 'the access token is a JWT for the API');
  t.deepEqual(claims.scope.split(' ').sort(), ['orders:read', 'orders:write'], signedIn.scope);

  // Refresh: a new access token without leaving the page.
  await page.click('#refresh');
  await page.waitForFunction((old) => !document.querySelector('#status')!.textContent!.includes(old), signedIn.access_token!);
  const refreshed = await status(page);
  t.true(refreshed.signed_in);
  t.not(refreshed.access_token, signedIn.access_token);

  // ## Call an API: from the SPA, and from here with the SPA's token.
  await page.click('#call-api');
  await page.waitForFunction(() => document.querySelector('#status')!.textContent!.includes('"api"'));
  const called = await status(page);
  t.is(called.api!.status, 200, JSON.stringify(called.api));
  t.deepEqual(called.api!.body.orders, []);
  const direct = await fetch(`${apiUrl}/orders`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
  t.is(direct.status, 200);
  const tampered = await fetch(`${apiUrl}/orders`, { headers: { authorization: `Bearer ${refreshed.access_token!.slice(0, -4)}AAAA` } });
  t.is(tampered.status, 401, 'a token whose signature does not verify is refused');
  // The README's jose snippet (examples/api/jose.ts) accepts the same token.
  const verifyWithJose = await createJoseVerifier(issuer, made.api.identifier);
  t.is((await verifyWithJose(refreshed.access_token!, 'orders:read')).sub, signedIn.sub!);
  await t.throwsAsync(verifyWithJose(refreshed.access_token!, 'orders:delete'), { message: /insufficient_scope/ });

  // The service client from init calls the same API with its own token (examples/service).
  const service = await runCommand(process.execPath, ['--import', 'tsx', 'examples/service/main.ts'], {
    KEYHOLD_ISSUER: issuer,
    CLIENT_ID: made.service.client_id,
    CLIENT_SECRET: made.service.client_secret,
    API_URL: apiUrl,
    API_RESOURCE: made.api.identifier,
  });
  t.is(service.code, 0, service.stderr);

  // Sign out: Keyhold asks, ends its session, and returns to the SPA signed out.
  await page.click('#sign-out');
  await page.waitForURL((url) => url.origin === issuer);
  await page.click('button[name="logout"][value="yes"]');
  await page.waitForURL((url) => url.origin === spaOrigin);
  await page.waitForSelector('body[data-state="signed-out"]');
  // The session at Keyhold is gone: signing in again asks for the password.
  await page.click('#sign-in');
  await page.waitForSelector('#password');
  t.pass();
});
