// The Account API over HTTP: bearer tokens for the Account API resource (opaque, looked up
// on every call), profile reads and edits, password and email changes, GDPR export and
// erasure, stable error codes, and the OpenAPI document.
import test from 'ava';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { erasedSubject } from '#src/services/account-data.ts';
import { createResource, accountResourceFor } from '#src/services/resources.ts';
import { callApi, type ApiResponse } from '../helpers/api.ts';
import { Browser } from '../helpers/browser.ts';
import { authorize, createUser, discover, login, REDIRECT_URI, registerClient, type RegisteredClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const API = 'https://orders.example.test';
const ACCOUNT_SCOPES = 'openid account:read account:write';

let server: TestServer;
let client: RegisteredClient;
let config: oidc.Configuration;

test.before(async () => {
  // Accounts here carry tiers and roles as data; second factors are test/e2e/mfa*.test.ts's subject.
  server = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
  await createResource(server.keyhold.db, { identifier: API, scopes: ['orders:read'] });
  client = await registerClient(server, { first_party: true });
  config = await discover(server, client);
});
test.after.always(async () => {
  await server?.stop();
});

const api = (token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => callApi(server, token, method, path, body, headers);

/** A new user signed in to the first-party client with a token for the Account API. */
async function signedIn(options: { scope?: string; user?: Awaited<ReturnType<typeof createUser>>; browser?: Browser } = {}) {
  const user = options.user ?? (await createUser(server));
  const { tokens, browser } = await login(config, user, { resource: accountResourceFor(server.issuer), scope: options.scope ?? ACCOUNT_SCOPES }, options.browser);
  return { user, token: tokens.access_token, browser };
}

/** A second, independent sign-in (another browser, another grant) holding a refresh token. */
async function otherDevice(user: { email: string; password: string }) {
  const { tokens } = await login(config, user, { scope: 'openid offline_access', prompt: 'consent' }, new Browser());
  if (!tokens.refresh_token) throw new Error('no refresh token issued');
  return tokens.refresh_token;
}

async function mailsTo(recipient: string, template: string) {
  return server.keyhold.db.selectFrom('mail_outbox').select('created_at').where('recipient', '=', recipient).where('template', '=', template).execute();
}

const PROFILE_FIELDS = [
  'created_at',
  'email',
  'email_verified',
  'family_name',
  'given_name',
  'id',
  'last_login_at',
  'locale',
  'name',
  'phone_number',
  'phone_number_verified',
  'picture',
  'roles',
  'tenant',
  'tier',
  'updated_at',
  'zoneinfo',
];

test('GET /api/account answers the profile of the token holder, never cached', async (t) => {
  const user = await createUser(server, { name: 'Ada Lovelace', roles: ['editor'], tier: 'pro', tenant: 'acme' });
  const { token } = await signedIn({ user });
  const response = await api(token, 'GET', '/api/account');
  t.is(response.status, 200);
  t.deepEqual(Object.keys(response.body).sort(), PROFILE_FIELDS);
  t.is(response.body.id, user.id);
  t.is(response.body.email, user.email);
  t.true(response.body.email_verified);
  t.is(response.body.name, 'Ada Lovelace');
  t.deepEqual(response.body.roles, ['editor']);
  t.is(response.body.tier, 'pro');
  t.is(response.body.tenant, 'acme');
  t.truthy(response.body.last_login_at);
  t.is(response.headers.get('cache-control'), 'no-store');
});

test('PATCH /api/account changes the given fields, clears nulls, and keeps the rest', async (t) => {
  const { user, token } = await signedIn();
  const response = await api(token, 'PATCH', '/api/account', {
    given_name: 'Grace',
    family_name: 'Hopper',
    picture: 'https://images.example.test/grace.png',
    locale: 'en-GB',
    zoneinfo: 'Europe/Paris',
    phone_number: '+14155550123',
    name: null,
  });
  t.is(response.status, 200);
  t.like(response.body, { id: user.id, email: user.email, given_name: 'Grace', family_name: 'Hopper', picture: 'https://images.example.test/grace.png', locale: 'en-GB', zoneinfo: 'Europe/Paris', phone_number: '+14155550123', phone_number_verified: false, name: null });
  const reread = await api(token, 'GET', '/api/account');
  t.like(reread.body, { given_name: 'Grace', zoneinfo: 'Europe/Paris', name: null });
});

test('PATCH /api/account refuses invalid values and unknown fields with validation_failed and the issues', async (t) => {
  const { token } = await signedIn();
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ zoneinfo: 'Mars/Olympus_Mons' }, 'zoneinfo'],
    [{ picture: 'http://images.example.test/me.png' }, 'picture'],
    [{ locale: 'not a locale!' }, 'locale'],
    [{ phone_number: '0123' }, 'phone_number'],
    [{ email: 'other@example.test' }, ''],
    [{ roles: ['admin'] }, ''],
  ];
  for (const [patch, path] of cases) {
    const response = await api(token, 'PATCH', '/api/account', patch);
    t.is(response.status, 400, JSON.stringify(patch));
    t.is(response.body.error, 'validation_failed');
    t.true(Array.isArray(response.body.issues) && response.body.issues.some((issue: { path: string; message: string }) => issue.path === path && issue.message.length > 0), JSON.stringify(response.body));
    t.truthy(response.body.request_id);
  }
  const profile = await api(token, 'GET', '/api/account');
  t.is(profile.body.zoneinfo, null);
  t.deepEqual(profile.body.roles, ['user']);
});

test('requests without a usable bearer token are 401 with a WWW-Authenticate challenge', async (t) => {
  const { token } = await signedIn();

  const missing = await api(undefined, 'GET', '/api/account');
  t.is(missing.status, 401);
  t.is(missing.body.error, 'unauthorized');
  t.regex(missing.headers.get('www-authenticate') ?? '', /^Bearer realm="/);
  t.notRegex(missing.headers.get('www-authenticate') ?? '', /error=/);

  for (const authorization of ['Bearer not-a-real-token', 'Bearer', `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${token}x`]) {
    const refused = await api(undefined, 'GET', '/api/account', undefined, { authorization });
    t.is(refused.status, 401, authorization);
    t.is(refused.body.error, 'unauthorized');
    t.regex(refused.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
  }

  const inQuery = await api(undefined, 'GET', `/api/account?access_token=${encodeURIComponent(token)}`);
  t.is(inQuery.status, 400);
  t.is(inQuery.body.error, 'invalid_request');

  t.is((await api(token, 'GET', '/api/account')).status, 200);
});

test('an expired token is refused', async (t) => {
  const { user, token } = await signedIn();
  const { provider } = server.keyhold.engine;
  const issued = (await provider.AccessToken.find(token))!;
  const shortLived = new provider.AccessToken({
    client: (await provider.Client.find(issued.clientId!))!,
    accountId: user.id,
    grantId: issued.grantId,
    gty: 'authorization_code',
    scope: 'account:read',
    aud: accountResourceFor(server.issuer),
    // Two seconds of life: at least one whole second is left for the first request, however
    // close to a second boundary the token is saved, so that request cannot race the expiry.
    expiresIn: 2,
  });
  const value = await shortLived.save();
  const { exp } = (await provider.AccessToken.find(value))!;
  t.is((await api(value, 'GET', '/api/account')).status, 200);
  // Past the token's exp (whole seconds) by a margin, by the same clock.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, (exp! + 1) * 1000 + 250 - Date.now())));
  const expired = await api(value, 'GET', '/api/account');
  t.is(expired.status, 401);
  t.regex(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
});

test('a token whose grant is gone is refused', async (t) => {
  const { token } = await signedIn();
  const { provider } = server.keyhold.engine;
  const issued = (await provider.AccessToken.find(token))!;
  // Only the grant object goes; the token itself is still stored.
  await (await provider.Grant.find(issued.grantId))!.destroy();
  t.truthy(await provider.AccessToken.find(token));
  const refused = await api(token, 'GET', '/api/account');
  t.is(refused.status, 401);
  t.is(refused.body.error, 'unauthorized');
});

test('a token of a disabled account is refused until the account is enabled again', async (t) => {
  const { user, token } = await signedIn();
  await server.keyhold.db.updateTable('accounts').set({ active: false }).where('id', '=', user.id).execute();
  const refused = await api(token, 'GET', '/api/account');
  t.is(refused.status, 401);
  t.regex(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  await server.keyhold.db.updateTable('accounts').set({ active: true }).where('id', '=', user.id).execute();
  t.is((await api(token, 'GET', '/api/account')).status, 200);
});

test('a token for another resource, or for userinfo, is not an Account API token', async (t) => {
  const user = await createUser(server);
  const forApi = await login(config, user, { resource: API, scope: 'openid orders:read' });
  t.is(forApi.tokens.access_token.split('.').length, 3, 'a JWT for the API');
  const jwtResponse = await api(forApi.tokens.access_token, 'GET', '/api/account');
  t.is(jwtResponse.status, 401);
  t.regex(jwtResponse.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

  const forUserinfo = await login(config, user);
  const userinfoResponse = await api(forUserinfo.tokens.access_token, 'GET', '/api/account');
  t.is(userinfoResponse.status, 401);
  t.is(userinfoResponse.body.error, 'unauthorized');
});

test('a read-only token may read but not write: 403 insufficient_scope', async (t) => {
  const { token } = await signedIn({ scope: 'openid account:read' });
  t.is((await api(token, 'GET', '/api/account')).status, 200);
  t.is((await api(token, 'GET', '/api/account/export')).status, 200);
  for (const [method, path, body] of [
    ['PATCH', '/api/account', { name: 'x' }],
    ['POST', '/api/account/password', { current_password: 'a', new_password: 'b' }],
    ['POST', '/api/account/email', { email: 'new@example.test' }],
    ['DELETE', '/api/account', { password: 'x' }],
  ] as const) {
    const response = await api(token, method, path, body);
    t.is(response.status, 403, `${method} ${path}`);
    t.is(response.body.error, 'forbidden');
    t.is(response.headers.get('www-authenticate'), `Bearer realm="${accountResourceFor(server.issuer)}", error="insufficient_scope", scope="account:write"`);
  }
});

test('a password change needs the current password and a password the policy accepts', async (t) => {
  const { user, token } = await signedIn();
  const wrong = await api(token, 'POST', '/api/account/password', { current_password: 'not my password', new_password: 'a brand new passphrase 42' });
  t.is(wrong.status, 400);
  t.is(wrong.body.error, 'invalid_password');

  const common = await api(token, 'POST', '/api/account/password', { current_password: user.password, new_password: 'password123' });
  t.is(common.status, 400);
  t.is(common.body.error, 'password_rejected');
  t.true(common.body.violations.some((violation: { code: string; message: string }) => violation.code === 'common' && violation.message.length > 0));

  const missing = await api(token, 'POST', '/api/account/password', { new_password: 'a brand new passphrase 42' });
  t.is(missing.status, 400);
  t.is(missing.body.error, 'validation_failed');
  t.true(missing.body.issues.some((issue: { path: string }) => issue.path === 'current_password'));

  // Nothing changed: the original password still signs in.
  await t.notThrowsAsync(login(config, user, {}, new Browser()));
});

test('after a password change the old password no longer signs in and the new one does', async (t) => {
  const { user, token } = await signedIn();
  const newPassword = 'violet stapler orbit 9';
  const changed = await api(token, 'POST', '/api/account/password', { current_password: user.password, new_password: newPassword });
  t.is(changed.status, 204);

  const old = await t.throwsAsync(authorize(config, user, {}, new Browser()));
  t.regex(old!.message, /status 401/);
  await t.notThrowsAsync(login(config, { email: user.email, password: newPassword }, {}, new Browser()));
  t.is((await mailsTo(user.email, 'password_changed')).length, 1);
});

test('a password change ends other sessions and grants unless asked to keep them; the calling token keeps working', async (t) => {
  const { user, token } = await signedIn();
  const otherRefreshToken = await otherDevice(user);

  const kept = await api(token, 'POST', '/api/account/password', { current_password: user.password, new_password: 'quiet harbour lantern 7', keep_other_sessions: true });
  t.is(kept.status, 204);
  const refreshed = await oidc.refreshTokenGrant(config, otherRefreshToken);
  t.truthy(refreshed.refresh_token);

  const ended = await api(token, 'POST', '/api/account/password', { current_password: 'quiet harbour lantern 7', new_password: 'copper meadow signal 3', keep_other_sessions: false });
  t.is(ended.status, 204);
  const refused = await t.throwsAsync(oidc.refreshTokenGrant(config, refreshed.refresh_token!));
  t.is((refused as oidc.ResponseBodyError).error, 'invalid_grant');
  t.is((await api(token, 'GET', '/api/account')).status, 200);
});

// Email changes (re-authentication, the old address's cancel link, voiding) are in email-change.test.ts.

test('a burst of wrong current passwords (password change, deletion) gets LOGIN_RATE_LIMIT checks, the rest 429', async (t) => {
  const { user, token } = await signedIn();
  const guesses = (count: number, request: (index: number) => Promise<ApiResponse>) => Promise.all(Array.from({ length: count }, (_, index) => request(index)));
  // LOGIN_RATE_LIMIT defaults to 10 per account and address; both routes share it.
  const changes = await guesses(15, (index) => api(token, 'POST', '/api/account/password', { current_password: `guess ${index}`, new_password: 'a brand new passphrase 42' }));
  const deletions = await guesses(15, (index) => api(token, 'DELETE', '/api/account', { password: `guess ${index}` }));
  const all = [...changes, ...deletions];
  t.is(all.filter((answer) => answer.body.error === 'invalid_password').length, 10, JSON.stringify(all.map((answer) => answer.status)));
  const limited = all.filter((answer) => answer.status === 429);
  t.is(limited.length, 20);
  t.is(limited[0]!.body.error, 'rate_limited');
  t.true(Number(limited[0]!.headers.get('retry-after')) > 0);
  t.regex(limited[0]!.headers.get('ratelimit') ?? '', /^"login-account-address";r=0;t=\d+$/);
  // The right password is refused too while the limit lasts; nothing changed or was deleted.
  t.is((await api(token, 'DELETE', '/api/account', { password: user.password })).status, 429);
  t.truthy(await server.keyhold.accounts.findById(user.id));
  t.truthy(await server.keyhold.accounts.authenticate(user.email, user.password));
});

test('the export holds the account and its audit events, as an attachment', async (t) => {
  const { user, token } = await signedIn();
  t.is((await api(token, 'PATCH', '/api/account', { given_name: 'Exported' })).status, 200);
  const response = await fetch(`${server.issuer}/api/account/export`, { headers: { authorization: `Bearer ${token}` } });
  t.is(response.status, 200);
  t.regex(response.headers.get('content-disposition') ?? '', /^attachment; filename="keyhold-account-[0-9a-f-]+\.json"$/);
  t.is(response.headers.get('cache-control'), 'no-store');
  const text = await response.text();
  const document = JSON.parse(text);
  t.is(document.format, 'keyhold-account-export/1');
  t.like(document.account, { id: user.id, email: user.email, givenName: 'Exported', hasPassword: true });
  t.true(document.auditLog.some((entry: { event: string }) => entry.event === 'profile.updated'));
  t.notRegex(text, /\$argon2/);
});

test('deleting the account needs the password; afterwards the account, its token and its personal data are gone', async (t) => {
  const { user, token } = await signedIn();
  await api(token, 'PATCH', '/api/account', { given_name: 'Erased' });
  const otherRefreshToken = await otherDevice(user);

  const wrong = await api(token, 'DELETE', '/api/account', { password: 'not my password' });
  t.is(wrong.status, 400);
  t.is(wrong.body.error, 'invalid_password');
  const malformed = await api(token, 'DELETE', '/api/account', { password: 5 });
  t.is(malformed.status, 400);
  t.is(malformed.body.error, 'validation_failed');
  t.truthy(await server.keyhold.db.selectFrom('accounts').select('id').where('id', '=', user.id).executeTakeFirst());

  const deleted = await api(token, 'DELETE', '/api/account', { password: user.password });
  t.is(deleted.status, 204);
  t.is(await server.keyhold.db.selectFrom('accounts').select('id').where('id', '=', user.id).executeTakeFirst(), undefined);

  const after = await api(token, 'GET', '/api/account');
  t.is(after.status, 401);
  t.is(after.body.error, 'unauthorized');
  await t.throwsAsync(oidc.refreshTokenGrant(config, otherRefreshToken));

  const subject = erasedSubject(server.keyhold.keys.pseudonyms, user.id);
  const audit = await server.keyhold.db.selectFrom('audit_log').selectAll().where('event', '=', 'account.deleted').execute();
  const row = audit.find((entry) => entry.details.erased_subject === subject);
  t.truthy(row);
  t.false(JSON.stringify(row).includes(user.email));
  t.is(row!.account_id, null);
  t.is(await server.keyhold.db.selectFrom('audit_log').select('id').where('account_id', '=', user.id).executeTakeFirst(), undefined);
  const trail = await server.keyhold.db.selectFrom('audit_log').selectAll().where(sql<string>`details->>'erased_subject'`, '=', row!.details.erased_subject as string).execute();
  t.true(trail.length > 1, 'earlier events are kept, pseudonymised');
  t.false(trail.some((entry) => JSON.stringify(entry).includes(user.email) || JSON.stringify(entry).includes(user.id)));
});

test('right after signing in, deletion needs no password; a sign-in older than RECENT_LOGIN_WINDOW does', async (t) => {
  const stale = await createUser(server);
  const longAgo = Math.floor(Date.now() / 1000) - 3600;
  const refused = await t.throwsAsync(server.keyhold.accountData.deleteAccount(stale.id, { authTime: longAgo }));
  t.is((refused as { code?: string }).code, 'invalid_password');
  await t.throwsAsync(server.keyhold.accountData.deleteAccount(stale.id, {}));
  t.truthy(await server.keyhold.db.selectFrom('accounts').select('id').where('id', '=', stale.id).executeTakeFirst());

  const { user, token } = await signedIn();
  const deleted = await api(token, 'DELETE', '/api/account', {});
  t.is(deleted.status, 204);
  t.is(await server.keyhold.db.selectFrom('accounts').select('id').where('id', '=', user.id).executeTakeFirst(), undefined);
});

test('malformed JSON is 400 invalid_body; another content type is 415', async (t) => {
  const { token } = await signedIn();
  const malformed = await api(token, 'PATCH', '/api/account', '{"name": ');
  t.is(malformed.status, 400);
  t.is(malformed.body.error, 'invalid_body');

  const form = await api(token, 'PATCH', '/api/account', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' });
  t.is(form.status, 415);
  t.is(form.body.error, 'unsupported_media_type');

  const notAnObject = await api(token, 'POST', '/api/account/email', '["a@example.test"]');
  t.is(notAnObject.status, 400);
  t.is(notAnObject.body.error, 'validation_failed');
});

test('an unsupported method on an Account API path is a JSON 405', async (t) => {
  const { token } = await signedIn();
  const response = await api(token, 'PUT', '/api/account', { name: 'x' });
  t.is(response.status, 405);
  t.is(response.body.error, 'method_not_allowed');
  t.regex(response.headers.get('allow') ?? '', /PATCH/);
});

test('GET /api/openapi.json is an OpenAPI 3.1 document of the Account API with the issuer endpoints', async (t) => {
  const response = await fetch(`${server.issuer}/api/openapi.json`);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /application\/json/);
  const document = (await response.json()) as Record<string, any>;
  t.regex(document.openapi, /^3\.1\.\d+$/);
  // The same document holds the Admin API (test/e2e/admin-api.test.ts, api-contract.test.ts).
  t.deepEqual(
    Object.keys(document.paths)
      .filter((path) => !path.startsWith('/api/admin/'))
      .sort(),
    [
      '/api/account',
      '/api/account/email',
      '/api/account/email/verify',
      '/api/account/export',
      '/api/account/factors',
      '/api/account/factors/recovery-codes',
      '/api/account/factors/{id}',
      '/api/account/factors/{id}/confirm',
      '/api/account/identities',
      '/api/account/identities/{connector}/{subject}',
      '/api/account/password',
      '/api/account/sessions',
      '/api/account/sessions/revoke-others',
      '/api/account/sessions/{id}',
      '/api/openapi.json',
    ],
  );
  t.deepEqual(Object.keys(document.paths['/api/account']).sort(), ['delete', 'get', 'patch']);

  const metadata = config.serverMetadata();
  const flow = document.components.securitySchemes.oauth2.flows.authorizationCode;
  t.is(flow.authorizationUrl, metadata.authorization_endpoint);
  t.is(flow.tokenUrl, metadata.token_endpoint);
  t.deepEqual(Object.keys(flow.scopes).sort(), ['account:read', 'account:write']);
  t.deepEqual(document.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', description: document.components.securitySchemes.bearer.description });

  // Validity, $refs and error codes are checked against the served routes in api-contract.test.ts.
});

test('CORS: registered client origins may call the Account API from a browser; others get no CORS headers', async (t) => {
  const { token } = await signedIn();
  const allowedOrigin = new URL(REDIRECT_URI).origin;
  const preflight = await fetch(`${server.issuer}/api/account`, {
    method: 'OPTIONS',
    headers: { origin: allowedOrigin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization, content-type' },
  });
  t.is(preflight.status, 204);
  t.is(preflight.headers.get('access-control-allow-origin'), allowedOrigin);
  t.regex(preflight.headers.get('access-control-allow-methods') ?? '', /PATCH/);
  t.regex(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);

  const actual = await api(token, 'GET', '/api/account', undefined, { origin: allowedOrigin });
  t.is(actual.status, 200);
  t.is(actual.headers.get('access-control-allow-origin'), allowedOrigin);

  const foreign = await fetch(`${server.issuer}/api/account`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.test', 'access-control-request-method': 'GET' } });
  t.is(foreign.headers.get('access-control-allow-origin'), null);
  const foreignGet = await api(token, 'GET', '/api/account', undefined, { origin: 'https://evil.example.test' });
  t.is(foreignGet.headers.get('access-control-allow-origin'), null);
});

test('CORS: a client created on this node is allowed at once, even right after the origins were read', async (t) => {
  const spaOrigin = `https://spa-${Date.now().toString(36)}.example.test`;
  const preflight = () =>
    fetch(`${server.issuer}/api/account`, { method: 'OPTIONS', headers: { origin: spaOrigin, 'access-control-request-method': 'GET' } });
  // Read (and cache) the registered origins before the client exists.
  t.is((await preflight()).headers.get('access-control-allow-origin'), null);

  await registerClient(server, { redirect_uris: [`${spaOrigin}/callback`], token_endpoint_auth_method: 'none' });
  const after = await preflight();
  t.is(after.status, 204);
  t.is(after.headers.get('access-control-allow-origin'), spaOrigin);
});
