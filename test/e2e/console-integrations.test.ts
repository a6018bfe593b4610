// The console's integration screens in Debian Chromium: connectors (create with the fields of
// the type, the redirect URI to register upstream, change, delete; never a secret on screen),
// signing keys (rotate: the new kid and its stage), webhooks (the secret shown once, a failed
// delivery to a real local receiver, retried from the console). A read-only administrator
// sees the same screens without a write control, and its token is refused for each write.
// Every screen passes axe-core at 390 px under the console's CSP.
import test from 'ava';
import type { Browser } from 'playwright-core';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { adminResourceFor } from '#src/services/resources.ts';
import { callApi } from '../helpers/api.ts';
import { adminUserToken } from '../helpers/admin.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { checkScreen, openConsole } from '../helpers/console.ts';
import { createUser } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

let server: TestServer;
let browser: Browser;
let receiver: WebhookReceiver;
/** Made by the administrator's tests, looked at by the read-only one. */
const made: { connector?: string; webhook?: string; delivery?: string } = {};

test.before(async () => {
  receiver = await startWebhookReceiver();
  server = await startTestServer({
    env: {
      MFA_REQUIRED_TIERS: 'none',
      MFA_REQUIRED_ROLES: 'none',
      // The receiver listens on loopback; only eventWorker.drain() delivers, and one failed
      // attempt is final, so the test decides when a delivery fails and when it is retried.
      WEBHOOK_ALLOW_PRIVATE: 'true',
      EVENTS_POLL_INTERVAL: '3600',
      EVENTS_MAX_ATTEMPTS: '1',
    },
  });
  browser = await launchChromium();
  await server.keyhold.admin.roles.create(CLI_ACTOR, { name: 'auditor' });
  await server.keyhold.admin.roles.setGrants(CLI_ACTOR, 'auditor', [{ resource: adminResourceFor(server.issuer), scopes: ['admin:read'] }]);
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
  await receiver?.close();
});

const api = (token: string | undefined, method: string, path: string, body?: unknown) => callApi(server, token, method, path, body);
const owner = async () => (await adminUserToken(server, { roles: ['admin', 'owner'] })).token;

test.serial('an owner creates a connector with the fields of its type, sees the redirect URI and the list, changes and deletes one; no secret is shown', async (t) => {
  const admin = await createUser(server, { roles: ['admin', 'owner'] });
  const consolePage = await openConsole(browser, server, admin);
  const { page } = consolePage;
  page.on('dialog', (dialog) => void dialog.accept());
  try {
    await page.click('nav >> text=Connectors');
    await page.waitForSelector('h1:has-text("Connectors")');
    await page.waitForSelector('text=No connector yet.');
    await page.click('summary:has-text("New connector")');
    const form = page.locator('form[aria-label="New connector"]');
    // The fields follow the type: an issuer for oidc, Apple's key instead of a secret.
    t.is(await form.locator('input[name=issuer]').count(), 1);
    await form.locator('select[name=type]').selectOption('apple');
    t.is(await form.locator('input[name=issuer]').count(), 0);
    t.is(await form.locator('input[name=client_secret]').count(), 0);
    t.is(await form.locator('textarea[name=private_key]').count(), 1);
    await checkScreen(t, page, 'connectors-new-apple');

    const secret = `upstream-secret-${Date.now()}`;
    await form.locator('select[name=type]').selectOption('github');
    t.is(await form.locator('input[name=base_url]').count(), 1);
    await form.locator('input[name=id]').fill('gh-console');
    await form.locator('input[name=name]').fill('GitHub');
    await form.locator('input[name=client_id]').fill('Iv1.console0123');
    await form.locator('input[name=client_secret]').fill(secret);
    await form.locator('button[type=submit]').click();
    t.is(await page.textContent('[data-redirect-uri]'), `${server.issuer}/connect/gh-console/callback`);
    await page.waitForSelector('tr[data-connector="gh-console"]');
    t.regex((await page.textContent('tr[data-connector="gh-console"]')) ?? '', /GitHub.*Iv1\.console0123.*set/);
    t.false((await page.content()).includes(secret), 'the secret is not on the page');
    await checkScreen(t, page, 'connectors');
    const stored = await server.keyhold.admin.connectors.get(CLI_ACTOR, 'gh-console');
    t.is(stored.type, 'github');
    t.is(stored.scope, 'read:user user:email');
    t.true(stored.has_secret);

    // A refused creation (the id is taken) says why, and adds nothing.
    t.is(await form.locator('select[name=type]').inputValue(), 'oidc', 'the form starts again');
    await form.locator('select[name=type]').selectOption('google');
    await form.locator('input[name=id]').fill('gh-console');
    await form.locator('input[name=name]').fill('Another');
    await form.locator('input[name=client_id]').fill('other');
    await form.locator('input[name=client_secret]').fill('other-secret');
    await form.locator('button[type=submit]').click();
    await page.waitForSelector('form[aria-label="New connector"] [role=alert]');
    t.regex((await page.textContent('form[aria-label="New connector"] [role=alert]')) ?? '', /connector_exists/);
    t.is((await server.keyhold.admin.connectors.get(CLI_ACTOR, 'gh-console')).name, 'GitHub');

    // Its detail: change the name and scope; an empty secret field keeps the secret.
    await page.click('a:has-text("gh-console")');
    await page.waitForSelector('form[aria-label="Change connector"]');
    t.is(await page.textContent('[data-redirect-uri]'), `${server.issuer}/connect/gh-console/callback`);
    await checkScreen(t, page, 'connector-detail');
    const change = page.locator('form[aria-label="Change connector"]');
    await change.locator('input[name=name]').fill('GitHub (corp)');
    await change.locator('input[name=scope]').fill('read:user user:email read:org');
    await change.locator('button[type=submit]').click();
    await page.waitForSelector('text=Saved.');
    const changed = await server.keyhold.admin.connectors.get(CLI_ACTOR, 'gh-console');
    t.is(changed.name, 'GitHub (corp)');
    t.is(changed.scope, 'read:user user:email read:org');
    t.true(changed.has_secret);
    made.connector = 'gh-console';

    // Delete another one.
    await server.keyhold.admin.connectors.create(CLI_ACTOR, { id: 'to-delete', type: 'google', name: 'Google', client_id: 'g', client_secret: 's' });
    await page.goto(`${server.issuer}/console/#/connectors/to-delete`);
    await page.click('button:has-text("Delete")');
    await page.waitForSelector('tr[data-connector="gh-console"]');
    t.is(await page.locator('tr[data-connector="to-delete"]').count(), 0);
    t.is((await api(await owner(), 'GET', '/api/admin/connectors/to-delete')).status, 404);
    t.deepEqual(consolePage.problems, []);
  } finally {
    await consolePage.close();
  }
});

test.serial('an administrator rotates the signing keys and sees the new kid listed with its stage', async (t) => {
  const admin = await createUser(server, { roles: ['admin', 'owner'] });
  const consolePage = await openConsole(browser, server, admin);
  const { page } = consolePage;
  try {
    await page.click('nav >> text=Signing keys');
    await page.waitForSelector('tr[data-kid]');
    const before = await page.locator('tr[data-kid]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-kid')));
    t.true(before.length >= 1);
    t.true(await page.locator('tr[data-stage="signing"]').count() >= 1);
    await checkScreen(t, page, 'keys');

    // One algorithm (the nodes' own: the one a signing key has).
    const alg = ((await page.locator('tr[data-stage="signing"] td').nth(1).textContent()) ?? '').trim();
    await page.locator('form[aria-label="Rotate signing keys"] select[name=alg]').selectOption(alg);
    await page.click('button:has-text("Rotate keys")');
    await page.waitForSelector('text=/Published /');
    const listed = (await api(await owner(), 'GET', '/api/admin/keys')).body.keys as Array<{ kid: string; alg: string; stage: string }>;
    const fresh = listed.filter((key) => !before.includes(key.kid));
    t.is(fresh.length, 1);
    t.is(fresh[0]!.alg, alg);
    const row = page.locator(`tr[data-kid="${fresh[0]!.kid}"]`);
    await row.waitFor();
    t.is(await row.getAttribute('data-stage'), fresh[0]!.stage);
    t.regex((await row.textContent()) ?? '', new RegExp(alg));
    t.regex((await page.textContent('[role=status]')) ?? '', new RegExp(fresh[0]!.kid));
    await checkScreen(t, page, 'keys-rotated');

    // Retiring the new key now would leave no key to sign after the rotation: refused, with the reason.
    page.on('dialog', (dialog) => void dialog.accept());
    await row.locator('button:has-text("Retire")').click();
    await page.waitForSelector('[role=alert]');
    t.regex((await page.textContent('[role=alert]')) ?? '', /last_signing_key/);
    const after = (await api(await owner(), 'GET', '/api/admin/keys')).body.keys as Array<{ kid: string; stage: string }>;
    t.is(after.find((key) => key.kid === fresh[0]!.kid)?.stage, fresh[0]!.stage);
    t.deepEqual(consolePage.problems, []);
  } finally {
    await consolePage.close();
  }
});

test.serial('an administrator creates a webhook (its secret shown once), sees a failed delivery and retries it', async (t) => {
  const admin = await createUser(server, { roles: ['admin', 'owner'] });
  // Events from before the webhook are fanned out now, to the webhooks there are (none).
  await server.keyhold.eventWorker.drain();
  const consolePage = await openConsole(browser, server, admin);
  const { page } = consolePage;
  try {
    await page.click('nav >> text=Webhooks');
    await page.waitForSelector('text=No webhook yet.');
    await page.click('summary:has-text("New webhook")');
    const form = page.locator('form[aria-label="New webhook"]');
    await form.locator('input[name=url]').fill(receiver.url);
    await form.locator('input[name=events][value="auth.user_created"]').check();
    await form.locator('button[type=submit]').click();
    const secret = (await page.textContent('[data-secret]')) ?? '';
    t.regex(secret, /^whsec_[\w-]{43}$/);
    receiver.secret = secret;
    await page.waitForSelector('tr[data-webhook]');
    const webhookId = (await page.getAttribute('tr[data-webhook]', 'data-webhook'))!;
    t.regex((await page.textContent('tr[data-webhook]')) ?? '', /auth\.user_created/);
    await checkScreen(t, page, 'webhooks');
    // Shown once: the list loaded again has no secret, nor does the API.
    await page.reload();
    await page.waitForSelector('tr[data-webhook]');
    t.is(await page.locator('[data-secret]').count(), 0);
    t.false((await page.content()).includes(secret));
    t.false(JSON.stringify((await api(await owner(), 'GET', '/api/admin/webhooks')).body).includes(secret.slice(6)));

    // One event, its delivery refused by the receiver (500): failed after the one attempt.
    receiver.failNext(1);
    await server.keyhold.admin.users.create(CLI_ACTOR, { email: `webhook-${Date.now()}@example.test` });
    await server.keyhold.eventWorker.drain();
    await page.click(`tr[data-webhook="${webhookId}"] a`);
    await page.waitForSelector('tr[data-delivery]');
    const failed = page.locator('tr[data-delivery][data-status="failed"]');
    t.true((await failed.count()) >= 1);
    t.regex((await failed.first().textContent()) ?? '', /auth\.user_created/);
    t.regex((await failed.first().locator('td').nth(3).textContent()) ?? '', /500/);
    await checkScreen(t, page, 'webhook-detail');
    made.webhook = webhookId;

    // Retry: queued again, delivered at the next run, and the screen says so.
    const deliveryId = (await failed.first().getAttribute('data-delivery'))!;
    made.delivery = deliveryId;
    const delivered = receiver.events.length;
    await page.click(`tr[data-delivery="${deliveryId}"] button:has-text("Retry")`);
    await page.waitForSelector('text=/queued again/');
    await server.keyhold.eventWorker.drain();
    t.true(receiver.events.length > delivered);
    t.is(receiver.events.at(-1)!.type, 'auth.user_created');
    await page.click('button:has-text("Refresh")');
    await page.waitForSelector(`tr[data-delivery="${deliveryId}"][data-status="delivered"]`);
    t.is(await page.locator(`tr[data-delivery="${deliveryId}"] button:has-text("Retry")`).count(), 0);
    await checkScreen(t, page, 'webhook-detail-delivered');
    t.deepEqual(consolePage.problems, []);
  } finally {
    await consolePage.close();
  }
});

test.serial('an administrator without role owner sees the connectors but is refused a change, with the reason; nothing is added', async (t) => {
  const admin = await createUser(server, { roles: ['admin'] });
  const consolePage = await openConsole(browser, server, admin);
  const { page } = consolePage;
  try {
    await page.goto(`${server.issuer}/console/#/connectors`);
    await page.waitForSelector('tr[data-connector]');
    await page.click('summary:has-text("New connector")');
    const form = page.locator('form[aria-label="New connector"]');
    await form.locator('select[name=type]').selectOption('google');
    await form.locator('input[name=id]').fill('not-an-owner');
    await form.locator('input[name=name]').fill('Google');
    await form.locator('input[name=client_id]').fill('g');
    await form.locator('input[name=client_secret]').fill('s');
    await form.locator('button[type=submit]').click();
    await page.waitForSelector('form[aria-label="New connector"] [role=alert]');
    t.regex((await page.textContent('form[aria-label="New connector"] [role=alert]')) ?? '', /only an owner.*\(forbidden\)/);
    t.is((await api(await owner(), 'GET', '/api/admin/connectors/not-an-owner')).status, 404);
    t.deepEqual(consolePage.problems, []);
  } finally {
    await consolePage.close();
  }
});

test.serial('a read-only administrator sees connectors, signing keys and webhooks without a write control; its token is refused for each write', async (t) => {
  t.truthy(made.connector && made.webhook && made.delivery, 'the administrator tests ran first');
  const auditor = await createUser(server, { roles: ['auditor'] });
  const consolePage = await openConsole(browser, server, auditor);
  const { page } = consolePage;
  const writeControls = 'summary:has-text("New"), form button[type=submit], button:has-text("Delete"), button:has-text("Retire"), button:has-text("Retry"), button:has-text("Rotate")';
  try {
    t.is(await page.textContent('header .badge'), 'Read-only');
    const screens = [
      ['connectors', '#/connectors', 'tr[data-connector]'],
      ['connector-detail', `#/connectors/${made.connector}`, '[data-redirect-uri]'],
      ['keys', '#/keys', 'tr[data-kid]'],
      ['webhooks', '#/webhooks', 'tr[data-webhook]'],
      ['webhook-detail', `#/webhooks/${made.webhook}`, 'tr[data-delivery]'],
    ] as const;
    for (const [name, hash, shown] of screens) {
      await page.goto(`${server.issuer}/console/${hash}`);
      await page.waitForSelector(shown);
      t.is(await page.locator(writeControls).count(), 0, name);
      await checkScreen(t, page, `${name}-read-only`);
    }

    t.true(consolePage.tokens.size > 0);
    const [token] = [...consolePage.tokens];
    const writes: Array<[string, string, unknown?]> = [
      ['POST', '/api/admin/connectors', { id: 'sneaky', type: 'google', name: 'Sneaky', client_id: 'x', client_secret: 'y' }],
      ['PATCH', `/api/admin/connectors/${made.connector}`, { name: 'Sneaky' }],
      ['DELETE', `/api/admin/connectors/${made.connector}`],
      ['POST', '/api/admin/keys/rotate', {}],
      ['POST', '/api/admin/webhooks', { url: receiver.url }],
      ['DELETE', `/api/admin/webhooks/${made.webhook}`],
      ['POST', `/api/admin/webhooks/${made.webhook}/deliveries/${made.delivery}/retry`],
    ];
    for (const [method, path, body] of writes) {
      const answer = await api(token, method, path, body);
      t.is(answer.status, 403, `${method} ${path}`);
      t.is(answer.body.error, 'insufficient_scope', `${method} ${path}`);
    }
    t.is((await server.keyhold.admin.connectors.get(CLI_ACTOR, made.connector!)).name, 'GitHub (corp)');
    t.deepEqual(consolePage.problems, []);
  } finally {
    await consolePage.close();
  }
});
