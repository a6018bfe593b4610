// The admin console in Debian Chromium (playwright-core): an administrator signs in through
// Keyhold as the built-in console client (code + PKCE), creates a user and a client, signs a
// user out everywhere and reads the audit entry; an `admin:read` administrator sees no write
// control and its own token is refused for writes; a non-admin is refused. Every screen is
// checked with axe-core and at 390 px, under the console's CSP (violations fail the test).
// Over plain HTTP: the page's headers, the bundle budget, the console's routes against the
// OpenAPI document, and the two routes the console added (stats, user security).
import { gzipSync } from 'node:zlib';
import test from 'ava';
import type { Browser } from 'playwright-core';
import { OPERATIONS } from '../../console/api.ts';
import { buildConsoleBundle } from '#src/http/console-bundle.ts';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { CONSOLE_CLIENT_ID } from '#src/services/console-client.ts';
import { adminResourceFor } from '#src/services/resources.ts';
import { callApi } from '../helpers/api.ts';
import { adminClientToken, adminUserToken } from '../helpers/admin.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { checkScreen, openConsole as openBrowserConsole } from '../helpers/console.ts';
import { createUser, discover, login, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let browser: Browser;

test.before(async () => {
  // Administrators sign in with the password alone here: forced MFA enrolment for role admin
  // is the subject of test/e2e/mfa*.test.ts, and the console is reached the same way after it.
  server = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
  browser = await launchChromium();
  // A read-only administrator: a role granting admin:read alone.
  await server.keyhold.admin.roles.create(CLI_ACTOR, { name: 'auditor' });
  await server.keyhold.admin.roles.setGrants(CLI_ACTOR, 'auditor', [{ resource: adminResourceFor(server.issuer), scopes: ['admin:read'] }]);
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

const api = (token: string | undefined, method: string, path: string, body?: unknown) => callApi(server, token, method, path, body);

const openConsole = (user: { email: string; password: string }, width = 390) => openBrowserConsole(browser, server, user, width);

test('the console page: strict CSP without unsafe-inline, hashed assets cached for good, the page itself revalidated', async (t) => {
  const redirect = await fetch(`${server.issuer}/console`, { redirect: 'manual' });
  t.is(redirect.status, 302);
  t.is(redirect.headers.get('location'), '/console/');

  const response = await fetch(`${server.issuer}/console/`);
  t.is(response.status, 200);
  const csp = response.headers.get('content-security-policy') ?? '';
  t.regex(csp, /script-src 'self'(;|$)/);
  t.regex(csp, /style-src 'self'(;|$)/);
  t.regex(csp, /connect-src 'self'(;|$)/);
  t.notRegex(csp, /unsafe-inline|unsafe-eval/);
  t.is(response.headers.get('cache-control'), 'no-cache');
  const html = await response.text();
  t.notRegex(html, /<script>|<style>| style=| on[a-z]+=/i, 'no inline script, style or handler');

  const script = /src="(\/console\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
  const stylesheet = /href="(\/console\/assets\/main-[A-Z0-9]+\.css)"/.exec(html)?.[1];
  t.truthy(script);
  t.truthy(stylesheet);
  const asset = await fetch(`${server.issuer}${script}`);
  t.is(asset.status, 200);
  t.regex(asset.headers.get('content-type') ?? '', /javascript/);
  t.is(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  t.is((await fetch(`${server.issuer}/console/assets/main-NOTBUILT.js`)).status, 404);
  t.is((await fetch(`${server.issuer}/console/assets/..%2f..%2fpackage.json`)).status, 404);
});

test('bundle budget: under 40 kB of gzipped JavaScript and 10 kB of gzipped CSS', async (t) => {
  const bundle = await buildConsoleBundle();
  const script = gzipSync(bundle.assets.get(bundle.script)!.body).length;
  const stylesheet = gzipSync(bundle.assets.get(bundle.stylesheet)!.body).length;
  t.log(`console bundle: ${script} B gzipped JS, ${stylesheet} B gzipped CSS`);
  t.true(script < 40_000, `${script} B`);
  t.true(stylesheet < 10_000, `${stylesheet} B`);
});

test('every Admin API route the console calls is in /api/openapi.json with that method', async (t) => {
  const document = (await (await fetch(`${server.issuer}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId?: string }>> };
  for (const [operationId, [method, path]] of Object.entries(OPERATIONS)) {
    t.is(document.paths[path]?.[method]?.operationId, operationId, `${method} ${path}`);
  }
});

test('the built-in console client: public, PKCE, only <ISSUER>/console/callback, restored at start', async (t) => {
  const owner = (await adminUserToken(server, { roles: ['admin', 'owner'] })).token;
  const client = await api(owner, 'GET', `/api/admin/clients/${CONSOLE_CLIENT_ID}`);
  t.is(client.status, 200);
  t.false(client.body.has_secret);
  t.true(client.body.first_party);
  t.deepEqual(client.body.metadata.redirect_uris, [`${server.issuer}/console/callback`]);
  t.is(client.body.metadata.token_endpoint_auth_method, 'none');

  // Another redirect URI is refused by the engine before any sign-in page.
  const authorize = new URL(`${server.issuer}/auth`);
  authorize.search = new URLSearchParams({ client_id: CONSOLE_CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: 'https://evil.example/console/callback', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).toString();
  const refused = await fetch(authorize, { redirect: 'manual' });
  t.is(refused.status, 400);
  // Without PKCE: refused too (a public client).
  authorize.searchParams.set('redirect_uri', `${server.issuer}/console/callback`);
  authorize.searchParams.delete('code_challenge');
  authorize.searchParams.delete('code_challenge_method');
  const withoutPkce = await fetch(authorize, { redirect: 'manual' });
  t.regex(withoutPkce.headers.get('location') ?? '', /error=invalid_request/);

  // An operator's edit is undone at the next start (another node starting does the same).
  await server.keyhold.admin.clients.update(CLI_ACTOR, CONSOLE_CLIENT_ID, { metadata: { redirect_uris: ['https://evil.example/cb'] } });
  const { ensureConsoleClient } = await import('#src/services/console-client.ts');
  await ensureConsoleClient(server.keyhold.db, server.issuer);
  t.deepEqual((await api(owner, 'GET', `/api/admin/clients/${CONSOLE_CLIENT_ID}`)).body.metadata.redirect_uris, [`${server.issuer}/console/callback`]);
});

test('stats: counts per day from the audit log, only the caller tenant for a tenant administrator; bad input is 400', async (t) => {
  const owner = (await adminUserToken(server, { roles: ['admin', 'owner'] })).token;
  await api(owner, 'POST', '/api/admin/tenants', { id: 'stats-a' });
  const inA = await createUser(server, { tenant: 'stats-a' });
  const adminA = (await adminUserToken(server, { roles: ['admin'], tenant: 'stats-a' })).token;
  const read = await adminClientToken(server, 'admin:read');
  const client = await discover(server, await registerClient(server));
  await login(client, inA);
  const outside = await createUser(server);
  await login(client, outside);

  const today = new Date().toISOString().slice(0, 10);
  const everyTenant = await api(owner, 'GET', '/api/admin/stats?days=3');
  t.is(everyTenant.status, 200);
  t.is(everyTenant.body.days.length, 3);
  t.is(everyTenant.body.days.at(-1).date, today);
  const ownerToday = everyTenant.body.days.at(-1);

  const tenantA = await api(adminA, 'GET', '/api/admin/stats?days=3');
  t.is(tenantA.status, 200);
  // Tenant stats-a: its own administrator's sign-in and inA's, nobody else's.
  t.is(tenantA.body.days.at(-1).sign_ins, 2);
  t.true(ownerToday.sign_ins >= 4);
  t.is(tenantA.body.active_sessions, 2);
  t.true(everyTenant.body.active_sessions > 2);
  // A session an administrator ended does not count, though its device record stays until it expires.
  await api(owner, 'POST', `/api/admin/users/${inA.id}/logout`);
  t.is((await api(adminA, 'GET', '/api/admin/stats?days=3')).body.active_sessions, 1);

  t.is((await api(read, 'GET', '/api/admin/stats')).status, 200);
  t.is((await api(undefined, 'GET', '/api/admin/stats')).status, 401);
  for (const days of ['0', '91', 'x', '1.5']) t.is((await api(owner, 'GET', `/api/admin/stats?days=${days}`)).status, 400, days);
  t.is((await api(owner, 'GET', '/api/admin/stats?tenant=other')).status, 400);
});

test('user security: sessions, factors, lockout; another tenant account is unknown; no secret in the answer', async (t) => {
  const owner = (await adminUserToken(server, { roles: ['admin', 'owner'] })).token;
  await api(owner, 'POST', '/api/admin/tenants', { id: 'sec-b' });
  const adminB = (await adminUserToken(server, { roles: ['admin'], tenant: 'sec-b' })).token;
  const user = await createUser(server);
  const client = await discover(server, await registerClient(server));
  await login(client, user);
  await server.keyhold.lockout.recordFailure(user.id);
  for (let failures = 1; failures < server.keyhold.config.policy.LOCKOUT_THRESHOLD; failures++) await server.keyhold.lockout.recordFailure(user.id);

  const answer = await api(owner, 'GET', `/api/admin/users/${user.id}/security`);
  t.is(answer.status, 200);
  t.is(answer.body.sessions.length, 1);
  t.truthy(answer.body.locked_until);
  t.deepEqual(answer.body.factors, []);
  t.deepEqual(answer.body.identities, []);
  t.notRegex(JSON.stringify(answer.body), /secret|password|cookie/i);

  t.is((await api(adminB, 'GET', `/api/admin/users/${user.id}/security`)).status, 404);
  t.is((await api(owner, 'GET', '/api/admin/users/not-a-uuid/security')).status, 404);
  t.is((await api(undefined, 'GET', `/api/admin/users/${user.id}/security`)).status, 401);

  await api(owner, 'POST', `/api/admin/users/${user.id}/logout`);
  await api(owner, 'POST', `/api/admin/users/${user.id}/unlock`);
  const after = await api(owner, 'GET', `/api/admin/users/${user.id}/security`);
  t.deepEqual(after.body.sessions, []);
  t.is(after.body.locked_until, null);
});

test.serial('an administrator signs in, creates a user and a client, signs a user out everywhere and reads the audit entry', async (t) => {
  const admin = await createUser(server, { roles: ['admin', 'owner'] });
  const someone = await createUser(server, { name: 'Signed In Somewhere' });
  await login(await discover(server, await registerClient(server)), someone);
  const consolePage = await openConsole(admin);
  const { page } = consolePage;
  try {
    t.is(await page.textContent('header .badge'), 'Administrator');
    t.is(new URL(page.url()).pathname, '/console/', 'the callback URL (with its code) is left');
    t.regex(await page.textContent('[data-stat="sign-ins"]') ?? '', /^\d+$/);
    await checkScreen(t, page, 'dashboard');

    // Create a user.
    await page.click('nav >> text=Users');
    await page.waitForSelector('table');
    await checkScreen(t, page, 'users');
    await page.click('summary:has-text("New user")');
    const email = `made-in-console-${Date.now()}@example.test`;
    const form = page.locator('form[aria-label="New user"]');
    await form.locator('input[name=email]').fill(email);
    await form.locator('input[name=name]').fill('Made In Console');
    await form.locator('input[name=password]').fill('violet harbour lantern 91');
    await form.locator('button[type=submit]').click();
    await page.waitForSelector(`h1:has-text("${email}")`);
    const made = await server.keyhold.admin.users.get(CLI_ACTOR, { email });
    t.is(made.name, 'Made In Console');

    // Sign another user out everywhere, from the user's detail.
    await page.goto(`${server.issuer}/console/#/users/${someone.id}`);
    await page.waitForSelector('ul[aria-label="Sessions"]');
    t.is(await page.locator('ul[aria-label="Sessions"] li:not(.muted)').count(), 1);
    await checkScreen(t, page, 'user-detail');
    await page.click('button:has-text("Sign out everywhere")');
    await page.waitForSelector('text=Every session and token ended.');
    await page.waitForSelector('ul[aria-label="Sessions"] li.muted');
    t.deepEqual(await server.keyhold.sessions.list(someone.id), []);

    // Its audit entry, through the filter.
    await page.click('text=Audit entries of this account');
    await page.waitForSelector('tr[data-action="admin.account_logged_out"]');
    t.regex((await page.textContent('tr[data-action="admin.account_logged_out"]')) ?? '', new RegExp(`account:${admin.id}`));
    await checkScreen(t, page, 'audit');

    // Create a service client: its secret and snippet are shown once.
    await page.click('nav >> text=Clients');
    await page.waitForSelector('table');
    await page.click('summary:has-text("New client")');
    await page.check('input[name=preset][value=service]');
    const clientForm = page.locator('form[aria-label="New client"]');
    await clientForm.locator('input[name=client_id]').fill('console-made-service');
    await clientForm.locator('input[name=client_name]').fill('Reports job');
    await clientForm.locator('button[type=submit]').click();
    const secret = (await page.textContent('[data-secret]')) ?? '';
    t.regex(secret, /^[A-Za-z0-9_-]{43}$/);
    t.regex((await page.textContent('[data-snippet]')) ?? '', /client_credentials/);
    t.notRegex((await page.textContent('[data-snippet]')) ?? '', new RegExp(secret));
    await checkScreen(t, page, 'clients');
    const stored = await api((await adminClientToken(server, 'admin:read')), 'GET', '/api/admin/clients/console-made-service');
    t.deepEqual(stored.body.metadata.grant_types, ['client_credentials']);

    // Its detail: rotating shows a new secret once.
    await page.goto(`${server.issuer}/console/#/clients/console-made-service`);
    await page.click('button:has-text("Rotate secret")');
    await page.waitForSelector('[data-secret]');
    t.not(await page.textContent('[data-secret]'), secret);
    await checkScreen(t, page, 'client-detail');

    // A web client's redirect URIs change on its detail; its snippet names the first.
    const web = await registerClient(server);
    await page.goto(`${server.issuer}/console/#/clients/${web.clientId}`);
    const redirectForm = page.locator('form[aria-label="Change redirect URIs"]');
    await redirectForm.waitFor();
    t.is(await page.locator('[data-secret]').count(), 0, 'the secret of the client shown before is gone');
    await redirectForm.locator('textarea[name=redirect_uris]').fill('https://app.example.test/new-callback\nhttps://app.example.test/second');
    await redirectForm.locator('button[type=submit]').click();
    await page.waitForSelector('text=Redirect URIs saved.');
    const changed = await api(await adminClientToken(server, 'admin:read'), 'GET', `/api/admin/clients/${web.clientId}`);
    t.deepEqual(changed.body.metadata.redirect_uris, ['https://app.example.test/new-callback', 'https://app.example.test/second']);
    await page.waitForSelector('ul[aria-label="Redirect URIs"] >> text=https://app.example.test/second');
    t.regex((await page.textContent('[data-snippet]')) ?? '', /redirect_uri: https:\/\/app\.example\.test\/new-callback/);
    // A redirect URI the engine refuses (a fragment) is refused with its reason, and nothing changes.
    await redirectForm.locator('textarea[name=redirect_uris]').fill('https://app.example.test/cb#fragment');
    await redirectForm.locator('button[type=submit]').click();
    await page.waitForSelector('form[aria-label="Change redirect URIs"] [role=alert]');
    t.is(await redirectForm.locator('textarea[name=redirect_uris]').inputValue(), 'https://app.example.test/cb#fragment', 'what was typed stays, to be corrected');
    t.deepEqual((await api(await adminClientToken(server, 'admin:read'), 'GET', `/api/admin/clients/${web.clientId}`)).body.metadata.redirect_uris, ['https://app.example.test/new-callback', 'https://app.example.test/second']);
    await checkScreen(t, page, 'client-detail-web');

    for (const [link, name] of [['APIs and roles', 'apis-roles'], ['Tenants', 'tenants']] as const) {
      await page.click(`nav >> text=${link}`);
      await page.waitForSelector(`h1:has-text("${link}")`);
      await checkScreen(t, page, name);
    }
    t.deepEqual(consolePage.problems, []);
  } finally {
    await consolePage.close();
  }
});

test.serial('the console keeps its token in memory only; a refused token is refreshed, and a reload signs in again silently', async (t) => {
  const admin = await createUser(server, { roles: ['admin'] });
  const consolePage = await openConsole(admin, 1280);
  const { page } = consolePage;
  try {
    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
    for (const token of consolePage.tokens) t.false(stored.includes(token));
    t.deepEqual(JSON.parse(stored).local, {});

    // An access token refused (here: revoked) is replaced with the refresh token, no sign-in page.
    const { revocation_endpoint: revocation } = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as { revocation_endpoint: string };
    const [first] = [...consolePage.tokens];
    await fetch(revocation, { method: 'POST', body: new URLSearchParams({ client_id: CONSOLE_CLIENT_ID, token: first! }) });
    t.is((await api(first, 'GET', '/api/admin/users')).status, 401);
    await page.click('nav >> text=Clients');
    await page.waitForSelector('a:has-text("keyhold-console")');
    t.is(consolePage.tokens.size, 2);
    t.regex(page.url(), /\/console\/#\/clients$/);

    // A reload forgets the tokens; the Keyhold session signs the console in again, back on the same screen.
    await page.goto(`${server.issuer}/console/#/users`);
    await page.reload();
    await page.waitForSelector('table');
    t.is(new URL(page.url()).hash, '#/users', 'back on the screen asked for, without a password');
    t.is(consolePage.tokens.size, 3);
  } finally {
    await consolePage.close();
  }
});

test.serial('a read-only administrator (admin:read) sees no write control, and the API refuses its token for writes', async (t) => {
  const auditor = await createUser(server, { roles: ['auditor'] });
  const target = await createUser(server);
  const consolePage = await openConsole(auditor);
  const { page } = consolePage;
  try {
    t.is(await page.textContent('header .badge'), 'Read-only');
    await page.goto(`${server.issuer}/console/#/users/${target.id}`);
    await page.waitForSelector('ul[aria-label="Sessions"]');
    t.is(await page.locator('button:has-text("Sign out everywhere"), button:has-text("Disable"), form[aria-label="Profile and roles"]').count(), 0);
    await checkScreen(t, page, 'user-detail-read-only');
    await page.goto(`${server.issuer}/console/#/clients/${CONSOLE_CLIENT_ID}`);
    await page.waitForSelector('ul[aria-label="Redirect URIs"]');
    t.is(await page.locator('form[aria-label="Change redirect URIs"], button:has-text("Rotate secret"), button:has-text("Delete")').count(), 0);
    await checkScreen(t, page, 'client-detail-read-only');
    for (const screen of ['users', 'clients', 'apis', 'tenants']) {
      await page.goto(`${server.issuer}/console/#/${screen}`);
      await page.waitForFunction(() => !document.body.textContent?.includes('Loading…'));
      t.is(await page.locator('summary:has-text("New"), button[type=submit]:has-text("Save")').count(), 0, screen);
    }

    t.true(consolePage.tokens.size > 0);
    for (const token of consolePage.tokens) {
      const write = await api(token, 'PATCH', `/api/admin/users/${target.id}`, { active: false });
      t.is(write.status, 403);
      t.is(write.body.error, 'insufficient_scope');
      t.is((await api(token, 'POST', `/api/admin/users/${target.id}/logout`)).status, 403);
    }
    t.true((await server.keyhold.accounts.findById(target.id))?.active);
    t.deepEqual(consolePage.problems, []);
  } finally {
    await consolePage.close();
  }
});

test.serial('a user without an administrator role is refused: no screen, and its token reads nothing', async (t) => {
  const plain = await createUser(server);
  const consolePage = await openConsole(plain);
  const { page } = consolePage;
  try {
    t.is(await page.textContent('header .badge'), 'No access');
    t.regex((await page.textContent('[role=alert]')) ?? '', /no administrator role/);
    t.is(await page.locator('nav').count(), 0);
    await checkScreen(t, page, 'refused');
    // The console client's allow-list names admin scopes, but the token carries none: the roles decide.
    t.is(consolePage.tokens.size, 1);
    for (const token of consolePage.tokens) t.is((await api(token, 'GET', '/api/admin/users')).status, 403);

    // Signing out ends the Keyhold session too: the console then asks for the password again.
    await page.click('button:has-text("Sign out")');
    await page.click('button[name=logout][value=yes]');
    await page.waitForSelector('#password');
    t.regex(new URL(page.url()).pathname, /^\/interaction\//);
  } finally {
    await consolePage.close();
  }
});

test('a forged callback is refused with a message, and no token is asked for', async (t) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const tokenRequests: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/token')) tokenRequests.push(request.url());
  });
  try {
    // No sign-in was started in this browser: the state matches nothing.
    await page.goto(`${server.issuer}/console/callback?code=forged-code&state=forged-state`);
    await page.waitForSelector('[role=alert]');
    t.regex((await page.textContent('[role=alert]')) ?? '', /does not match/);
    t.deepEqual(tokenRequests, []);
    // An error from the authorization server is shown as such.
    await page.goto(`${server.issuer}/console/callback?error=access_denied&error_description=nope`);
    await page.waitForSelector('[role=alert]');
    t.regex((await page.textContent('[role=alert]')) ?? '', /nope/);
    t.deepEqual(tokenRequests, []);
  } finally {
    await context.close();
  }
});
