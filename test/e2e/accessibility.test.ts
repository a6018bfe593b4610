// Accessibility in real Chromium: axe-core (injected through the DevTools protocol, so the
// pages keep their CSP) finds no serious or critical violation on any page of a sign-in —
// login, registration, forced MFA enrolment, the MFA challenge and its recovery code, consent
// with a client logo, recovery and reset, the account pages, logout, an error page, a German
// page — and a person signs in with the keyboard alone. Password, one-time-code and username
// fields carry the autocomplete values password managers need.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { generate } from 'otplib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.ts';
import { startServerWithMailbox, type Mailbox } from '../helpers/mailbox.ts';
import { authorizationRequest, createUser, discover, registerClient } from '../helpers/oidc.ts';
import type { TestServer } from '../helpers/server.ts';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 32"><rect width="120" height="32" rx="6" fill="#0b6e4f"/><text x="60" y="22" font-size="16" text-anchor="middle" fill="#fff" font-family="sans-serif">ACME</text></svg>';

let server: TestServer;
let mailbox: Mailbox;
let browser: Browser;
let consentConfig: oidc.Configuration;
let firstPartyConfig: oidc.Configuration;
let stop: (() => Promise<void>) | undefined;

test.before(async () => {
  ({ server, mailbox, stop } = await startServerWithMailbox({
    BRAND_NAME: 'Acme Cloud',
    BRAND_LOGO_URL: 'https://cdn.example.test/acme.svg',
    BRAND_PRIMARY_COLOR: '#0b6e4f',
    BRAND_SUPPORT_URL: 'https://acme.example/help',
    BRAND_PRIVACY_URL: 'https://acme.example/privacy',
    LOGIN_RATE_LIMIT: '1000',
  }));
  consentConfig = await discover(server, await registerClient(server, { client_name: 'Photo Printer', logo_uri: 'https://cdn.example.test/printer.svg' }));
  firstPartyConfig = await discover(server, await registerClient(server, { first_party: true }));
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await stop?.();
});

/** A browser context whose client callbacks and logo requests are answered locally. */
async function newContext(options: { locale?: string } = {}): Promise<{ context: BrowserContext; page: Page; callbacks: string[] }> {
  const context = await browser.newContext(options.locale ? { locale: options.locale } : {});
  const callbacks: string[] = [];
  // Seen as requests: a redirect the route below may not get to answer still shows here.
  context.on('request', (request) => {
    if (request.url().startsWith('https://app.example.test/') && callbacks.at(-1) !== request.url()) callbacks.push(request.url());
  });
  await context.route('https://app.example.test/**', (route) => {
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<!DOCTYPE html><html lang="en"><title>Client</title><main><h1>Client</h1></main></html>' });
  });
  await context.route('https://cdn.example.test/**', (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO }));
  return { context, page: await context.newPage(), callbacks };
}

async function callbackNumber(callbacks: string[], count: number): Promise<URL> {
  for (let waited = 0; callbacks.length < count; waited += 50) {
    if (waited > 30_000) throw new Error(`no callback #${count}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return new URL(callbacks[count - 1]!);
}

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** axe-core's serious and critical violations on the page as it is now. */
async function seriousViolations(page: Page): Promise<Violation[]> {
  // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') stays on.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, targets: violation.nodes.slice(0, 3).map((node) => node.target.join(' ')) }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

async function assertAccessible(t: ExecutionContext, page: Page, name: string): Promise<void> {
  await page.waitForLoadState('load');
  t.deepEqual(await seriousViolations(page), [], `${name} (${page.url()})`);
}

const autocompleteOf = (page: Page, selector: string) => page.locator(selector).getAttribute('autocomplete');

test('the check can fail: axe reports a critical violation on a page built to have one', async (t) => {
  const { context, page } = await newContext();
  try {
    await page.setContent('<!DOCTYPE html><html><body><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><form><input type="text"></form></body></html>');
    const found = (await seriousViolations(page)).map((violation) => violation.id);
    t.true(found.includes('image-alt'), found.join(', '));
    t.true(found.includes('label'), found.join(', '));
  } finally {
    await context.close();
  }
});

test.serial('a whole sign-in with forced MFA enrolment and consent, then the account pages, has no serious violation', async (t) => {
  const user = await createUser(server, { tier: 'pro' });
  const { context, page, callbacks } = await newContext();
  try {
    const request = await authorizationRequest(consentConfig);
    await page.goto(request.url.toString());
    await assertAccessible(t, page, 'login');
    t.is(await autocompleteOf(page, '#email'), 'username webauthn');
    t.is(await autocompleteOf(page, '#password'), 'current-password');

    await page.fill('#email', user.email);
    await page.fill('#password', user.password);
    await page.click('form[action$="/login"] button[type="submit"]');
    await page.waitForSelector('input[name="kind"][value="totp"]', { state: 'attached' });
    await assertAccessible(t, page, 'MFA enrolment choice');

    await page.click('form:has(input[name="kind"][value="totp"]) button[type="submit"]');
    await page.waitForSelector('#totp-secret');
    await assertAccessible(t, page, 'TOTP enrolment');
    t.is(await autocompleteOf(page, '#code'), 'one-time-code');
    const secret = (await page.textContent('#totp-secret'))!.trim();
    await page.fill('#code', await generate({ secret }));
    await page.click('form[action$="/mfa/enrol/confirm"] button[type="submit"]');
    await page.waitForSelector('ul.recovery-codes');
    await assertAccessible(t, page, 'recovery codes');

    await page.click('form button[type="submit"]');
    await page.waitForSelector('button[name="consent"]');
    await assertAccessible(t, page, 'consent with client logo');
    t.is(await page.locator('.client-logo img').getAttribute('alt'), 'Photo Printer');
    await page.click('button[name="consent"]');
    t.truthy((await callbackNumber(callbacks, 1)).searchParams.get('code'));

    // A new tab of the same browser (signed in), while the first settles at the client.
    const account = await context.newPage();
    await account.goto(`${server.issuer}/account/security`);
    await assertAccessible(t, account, 'security settings');
    t.is(await account.locator('input[autocomplete="username"][hidden]').getAttribute('value'), user.email);
    await account.goto(`${server.issuer}/account/password`);
    await assertAccessible(t, account, 'change password');
    t.is(await autocompleteOf(account, '#current_password'), 'current-password');
    t.is(await autocompleteOf(account, '#password'), 'new-password');
    t.is(await account.locator('input[autocomplete="username"][hidden]').getAttribute('value'), user.email);

    await account.goto(`${server.issuer}/session/end`);
    await assertAccessible(t, account, 'logout');

    // The challenge next time: a fresh browser, the password, then the code page.
    const second = await newContext();
    try {
      await second.page.goto((await authorizationRequest(consentConfig)).url.toString());
      await second.page.fill('#email', user.email);
      await second.page.fill('#password', user.password);
      await second.page.click('form[action$="/login"] button[type="submit"]');
      await second.page.waitForSelector('form[action$="/mfa"] #code');
      await assertAccessible(t, second.page, 'MFA challenge');
      t.is(await autocompleteOf(second.page, '#code'), 'one-time-code');
      await second.page.click('text=Use a recovery code instead');
      await second.page.waitForSelector('input[name="factor"][value="recovery"]', { state: 'attached' });
      await assertAccessible(t, second.page, 'MFA recovery code');
    } finally {
      await second.context.close();
    }
  } finally {
    await context.close();
  }
});

test.serial('registration, recovery, reset, error and German pages have no serious violation; the reset page names the account for password managers', async (t) => {
  const user = await createUser(server);
  const { context, page } = await newContext();
  try {
    await page.goto((await authorizationRequest(firstPartyConfig)).url.toString());
    await page.click('text=Create account');
    await page.waitForSelector('form[action$="/register"]');
    await assertAccessible(t, page, 'register');
    t.is(await autocompleteOf(page, '#email'), 'username');
    t.is(await autocompleteOf(page, '#password'), 'new-password');

    await page.goBack();
    await page.click('text=Forgot password?');
    await page.waitForSelector('form[action$="/recovery"]');
    await assertAccessible(t, page, 'recovery');
    await page.fill('#email', user.email);
    await page.click('form[action$="/recovery"] button[type="submit"]');
    await page.waitForSelector('h1:has-text("Check your email")');
    await assertAccessible(t, page, 'recovery sent');

    const mail = await mailbox.next(user.email);
    await page.goto(mail.links.find((link) => link.includes('/recovery/reset'))!);
    await assertAccessible(t, page, 'reset');
    t.is(await autocompleteOf(page, '#password'), 'new-password');
    const username = page.locator('form[action$="/recovery/reset"] input[autocomplete="username"]');
    t.is(await username.getAttribute('value'), user.email);
    t.is(await username.getAttribute('hidden'), '');
    t.is(await username.getAttribute('name'), null, 'the username field is never posted');

    await page.goto(`${server.issuer}/interaction/no-such-interaction`);
    await assertAccessible(t, page, 'error');

    await page.goto((await authorizationRequest(firstPartyConfig, { ui_locales: 'de' })).url.toString());
    t.is(await page.getAttribute('html', 'lang'), 'de');
    await assertAccessible(t, page, 'German login');
  } finally {
    await context.close();
  }
});

test.serial('keyboard only: Tab and Enter sign a person in, in the order the form reads', async (t) => {
  const user = await createUser(server);
  const { context, page, callbacks } = await newContext();
  try {
    const request = await authorizationRequest(firstPartyConfig);
    await page.goto(request.url.toString());
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent?.trim() || document.activeElement?.tagName);
    // The email field has the focus on arrival; nothing needs a pointer.
    t.is(await focused(), 'email');
    await page.keyboard.type(user.email);
    await page.keyboard.press('Tab');
    t.is(await focused(), 'password');
    await page.keyboard.type(user.password);
    await page.keyboard.press('Tab');
    t.is(await focused(), 'Sign in');
    await page.keyboard.press('Enter');
    const callback = await callbackNumber(callbacks, 1);
    const tokens = await oidc.authorizationCodeGrant(firstPartyConfig, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    t.is(tokens.claims()!.sub, user.id);
  } finally {
    await context.close();
  }
});
