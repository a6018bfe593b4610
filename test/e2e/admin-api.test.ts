// The Admin API over HTTP against a real server: tokens for <ISSUER>/api/admin (a client's
// own and an administrator's), every route with good and bad input, scopes (admin:read
// cannot write), unknown ids, and the audit trail of every action with its actor.
import test from 'ava';
import * as oidc from 'openid-client';
import { callApi } from '../helpers/api.ts';
import { adminClientToken, adminServiceClient, adminUserToken } from '../helpers/admin.ts';
import { createUser, login, tokenRequest } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const PASSWORD = 'violet harbour lantern 91';

let server: TestServer;
/** A service client's token (tenant default): bound to its tenant. */
let write: string;
let read: string;
/** An administrator holding role owner: reaches every tenant and the shared roles and APIs. */
let owner: string;

test.before(async () => {
  // Administrators sign in here with the password alone: second factors are test/e2e/mfa*.test.ts's subject.
  server = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
  write = await adminClientToken(server, 'admin');
  read = await adminClientToken(server, 'admin:read');
  owner = (await adminUserToken(server, { roles: ['admin', 'owner'] })).token;
});
test.after.always(async () => {
  await server?.stop();
});

const api = (token: string | undefined, method: string, path: string, body?: unknown) => callApi(server, token, method, path, body);
const uniqueEmail = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}@example.test`;

test('no token is 401 with the Bearer challenge; a token for another API is 401 invalid_token', async (t) => {
  const anonymous = await api(undefined, 'GET', '/api/admin/users');
  t.is(anonymous.status, 401);
  t.is(anonymous.body.error, 'unauthorized');
  t.regex(anonymous.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+\/api\/admin"$/);

  const garbage = await api('not-a-token', 'GET', '/api/admin/users');
  t.is(garbage.status, 401);
  t.regex(garbage.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

  // An administrator's token for the Account API is not a token for the Admin API.
  const { user, config } = await adminUserToken(server, { roles: ['admin', 'owner'] });
  const { tokens } = await login(config, user, { resource: `${server.issuer}/api/account`, scope: 'openid account:read' });
  const wrongAudience = await api(tokens.access_token, 'GET', '/api/admin/users');
  t.is(wrongAudience.status, 401);
  t.regex(wrongAudience.body.error_description, /not for the Admin API/);

  const inQuery = await api(undefined, 'GET', `/api/admin/users?access_token=${write}`);
  t.is(inQuery.status, 400);
});

test('a disabled administrator and a deleted service client are refused at once', async (t) => {
  const { user, token } = await adminUserToken(server, { roles: ['admin', 'owner'] });
  t.is((await api(token, 'GET', '/api/admin/users')).status, 200);
  await api(owner, 'PATCH', `/api/admin/users/${user.id}`, { active: false });
  t.is((await api(token, 'GET', '/api/admin/users')).status, 401);

  const service = await adminServiceClient(server, 'admin');
  const issued = await tokenRequest(server, service, { grant_type: 'client_credentials', resource: `${server.issuer}/api/admin`, scope: 'admin' });
  const serviceToken = issued.body.access_token as string;
  t.is((await api(serviceToken, 'GET', '/api/admin/users')).status, 200);
  await api(owner, 'DELETE', `/api/admin/clients/${service.clientId}`);
  t.is((await api(serviceToken, 'GET', '/api/admin/users')).status, 401);
});

test('a user without role admin gets no admin scope, so no access', async (t) => {
  const { token } = await adminUserToken(server, { roles: ['user'], scope: 'openid admin' });
  const response = await api(token, 'GET', '/api/admin/users');
  t.is(response.status, 403);
  t.is(response.body.error, 'insufficient_scope');
});

test('admin:read reads but every write is 403 insufficient_scope', async (t) => {
  const listed = await api(read, 'GET', '/api/admin/users');
  t.is(listed.status, 200);
  const user = await createUser(server);
  const writes: Array<[string, string, unknown?]> = [
    ['POST', '/api/admin/users', { email: uniqueEmail('ro') }],
    ['PATCH', `/api/admin/users/${user.id}`, { active: false }],
    ['DELETE', `/api/admin/users/${user.id}`],
    ['POST', `/api/admin/users/${user.id}/logout`],
    ['POST', `/api/admin/users/${user.id}/password-reset`],
    ['POST', '/api/admin/clients', { metadata: { redirect_uris: ['https://app.example.test/cb'] } }],
    ['POST', '/api/admin/roles', { name: 'nope' }],
    ['PUT', '/api/admin/roles/user/grants', { grants: [] }],
    ['POST', '/api/admin/resources', { identifier: 'https://x.example.test', scopes: ['x:read'] }],
    ['POST', '/api/admin/tenants', { id: 'nope' }],
  ];
  for (const [method, path, body] of writes) {
    const response = await api(read, method, path, body);
    t.is(response.status, 403, `${method} ${path}`);
    t.is(response.body.error, 'insufficient_scope', `${method} ${path}`);
    t.regex(response.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="admin"/);
  }
  t.is((await api(read, 'GET', `/api/admin/users/${user.id}`)).body.active, true, 'nothing changed');
});

test('users: create (password policy applies), get, find by email, search, update, disable and enable', async (t) => {
  const email = uniqueEmail('ada');
  const weak = await api(write, 'POST', '/api/admin/users', { email, password: 'password' });
  t.is(weak.status, 400);
  t.is(weak.body.error, 'password_rejected');
  t.true(Array.isArray(weak.body.violations));

  const invalid = await api(write, 'POST', '/api/admin/users', { email: 'not an address', password: PASSWORD });
  t.is(invalid.status, 400);
  t.is(invalid.body.error, 'invalid_email');
  const extra = await api(write, 'POST', '/api/admin/users', { email, password: PASSWORD, admin: true });
  t.is(extra.status, 400);
  t.is(extra.body.error, 'validation_failed');

  const created = await api(write, 'POST', '/api/admin/users', { email, password: PASSWORD, name: 'Ada Lovelace', roles: ['user', 'editor'], tier: 'pro' });
  t.is(created.status, 201, JSON.stringify(created.body));
  t.is(created.body.email, email);
  t.deepEqual(created.body.roles, ['user', 'editor']);
  t.is(created.body.tenant, 'default');
  t.is(created.headers.get('location'), `/api/admin/users/${created.body.id}`);
  t.notRegex(JSON.stringify(created.body), /argon2|password/i);

  const again = await api(write, 'POST', '/api/admin/users', { email, password: PASSWORD });
  t.is(again.status, 409);
  t.is(again.body.error, 'email_taken');

  const fetched = await api(read, 'GET', `/api/admin/users/${created.body.id}`);
  t.deepEqual(fetched.body, created.body);
  t.is((await api(read, 'GET', `/api/admin/users/${UNKNOWN_ID}`)).status, 404);
  const notUuid = await api(read, 'GET', '/api/admin/users/not-a-uuid');
  t.is(notUuid.status, 404);
  t.is(notUuid.body.error, 'unknown_account');

  // A whole address finds that account alone, even when another address contains it.
  const longer = await api(write, 'POST', '/api/admin/users', { email: `x${email}` });
  t.is(longer.status, 201);
  const byEmail = await api(read, 'GET', `/api/admin/users?email=${encodeURIComponent(email.toUpperCase())}`);
  t.deepEqual(byEmail.body.items.map((item: { id: string }) => item.id), [created.body.id]);
  const byPart = await api(read, 'GET', `/api/admin/users?email=${encodeURIComponent(email.split('@')[0]!)}`);
  t.deepEqual(byPart.body.items.map((item: { id: string }) => item.id).sort(), [created.body.id, longer.body.id].sort());
  const byName = await api(read, 'GET', '/api/admin/users?name=lovelace&role=editor&tier=pro&active=true');
  t.true(byName.body.items.some((item: { id: string }) => item.id === created.body.id));
  const none = await api(read, 'GET', `/api/admin/users?email=${encodeURIComponent(email)}&active=false`);
  t.deepEqual(none.body.items, []);
  const badFilter = await api(read, 'GET', '/api/admin/users?active=maybe&limit=0');
  t.is(badFilter.status, 400);
  t.is(badFilter.body.error, 'validation_failed');
  t.deepEqual(badFilter.body.issues.map((issue: { path: string }) => issue.path).sort(), ['active', 'limit']);

  const patched = await api(write, 'PATCH', `/api/admin/users/${created.body.id}`, { name: 'Ada King', roles: ['user'], tier: null });
  t.is(patched.status, 200, JSON.stringify(patched.body));
  t.is(patched.body.name, 'Ada King');
  t.deepEqual(patched.body.roles, ['user']);
  t.is(patched.body.tier, null);
  const badRole = await api(write, 'PATCH', `/api/admin/users/${created.body.id}`, { roles: ['no spaces'] });
  t.is(badRole.status, 400);
  t.is(badRole.body.error, 'invalid_account');
  t.is((await api(write, 'PATCH', `/api/admin/users/${UNKNOWN_ID}`, { active: false })).status, 404);

  const disabled = await api(write, 'PATCH', `/api/admin/users/${created.body.id}`, { active: false });
  t.is(disabled.body.active, false);
  t.is(await server.keyhold.accounts.authenticate(email, PASSWORD), undefined, 'a disabled account cannot sign in');
  const enabled = await api(write, 'PATCH', `/api/admin/users/${created.body.id}`, { active: true });
  t.is(enabled.body.active, true);
  t.truthy(await server.keyhold.accounts.authenticate(email, PASSWORD));
});

test('users: cursor pagination walks every account once', async (t) => {
  const tier = `tier-${Math.random().toString(36).slice(2, 8)}`;
  const ids = new Set<string>();
  for (let index = 0; index < 5; index++) ids.add((await createUser(server, { tier })).id);
  const seen: string[] = [];
  let cursor: string | null = '';
  let pages = 0;
  while (cursor !== null) {
    const page = await api(read, 'GET', `/api/admin/users?tier=${tier}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    t.is(page.status, 200);
    t.true(page.body.items.length <= 2);
    seen.push(...page.body.items.map((item: { id: string }) => item.id));
    cursor = page.body.next_cursor;
    pages++;
  }
  t.is(pages, 3);
  t.deepEqual([...seen].sort(), [...ids].sort());

  // A cursor no list gave out is refused, never passed to SQL.
  for (const path of ['/api/admin/users', '/api/admin/audit']) {
    for (const cursor of ['not-a-cursor', Buffer.from("1' or 1=1").toString('base64url'), Buffer.from('\u0000').toString('base64url'), '!!']) {
      const response = await api(read, 'GET', `${path}?cursor=${cursor}`);
      t.is(response.status, 400, `${path} ${cursor}`);
      t.is(response.body.error, 'validation_failed');
      t.is(response.body.issues[0].path, 'cursor');
    }
  }
});

test('users: force logout ends every refresh token; password reset queues a mail; delete erases', async (t) => {
  const { user, config, refreshToken } = await adminUserToken(server, { roles: ['user'], scope: 'openid offline_access' });
  t.truthy(refreshToken);
  const logout = await api(write, 'POST', `/api/admin/users/${user.id}/logout`);
  t.is(logout.status, 204);
  const refused = await t.throwsAsync(oidc.refreshTokenGrant(config, refreshToken!));
  t.is((refused as oidc.ResponseBodyError).error, 'invalid_grant');
  t.is((await api(write, 'POST', `/api/admin/users/${UNKNOWN_ID}/logout`)).status, 404);

  const reset = await api(write, 'POST', `/api/admin/users/${user.id}/password-reset`);
  t.is(reset.status, 204);
  const mails = await server.keyhold.db.selectFrom('mail_outbox').select('template').where('recipient', '=', user.email).execute();
  t.true(mails.some((mail) => mail.template === 'password_reset'));
  t.is((await api(write, 'POST', `/api/admin/users/${UNKNOWN_ID}/password-reset`)).status, 404);

  const erased = await api(write, 'DELETE', `/api/admin/users/${user.id}`);
  t.is(erased.status, 204);
  t.is((await api(read, 'GET', `/api/admin/users/${user.id}`)).status, 404);
  t.is((await api(write, 'DELETE', `/api/admin/users/${user.id}`)).status, 404);
});

test('clients: create shows the secret once, list/get never; update is checked; rotate replaces the secret; delete', async (t) => {
  const metadata = { client_id: `svc-${Math.random().toString(36).slice(2, 8)}`, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
  const created = await api(write, 'POST', '/api/admin/clients', { metadata });
  t.is(created.status, 201, JSON.stringify(created.body));
  t.is(typeof created.body.client_secret, 'string');
  t.is(created.body.client.client_id, metadata.client_id);
  t.is(created.body.client.tenant, 'default');
  const clientId = metadata.client_id;
  const secret = created.body.client_secret as string;

  const fetched = await api(read, 'GET', `/api/admin/clients/${clientId}`);
  t.is(fetched.status, 200);
  t.false(JSON.stringify(fetched.body).includes(secret));
  t.true(fetched.body.has_secret);
  const listed = await api(read, 'GET', '/api/admin/clients?limit=200');
  t.true(listed.body.items.some((item: { client_id: string }) => item.client_id === clientId));
  t.false(JSON.stringify(listed.body).includes(secret));

  t.is((await api(write, 'POST', '/api/admin/clients', { metadata })).body.error, 'client_exists');
  const badRedirect = await api(write, 'POST', '/api/admin/clients', { metadata: { redirect_uris: ['not a url'] } });
  t.is(badRedirect.status, 400);
  t.true(['invalid_redirect_uri', 'invalid_client_metadata'].includes(badRedirect.body.error));
  t.is((await api(write, 'POST', '/api/admin/clients', { metadata: { scope: 'nothing:defined' } })).body.error, 'invalid_client_metadata');

  const updated = await api(write, 'PATCH', `/api/admin/clients/${clientId}`, { metadata: { client_name: 'Reports' } });
  t.is(updated.status, 200, JSON.stringify(updated.body));
  t.is(updated.body.metadata.client_name, 'Reports');
  const badUpdate = await api(write, 'PATCH', `/api/admin/clients/${clientId}`, { metadata: { grant_types: ['nonsense'] } });
  t.is(badUpdate.status, 400);
  t.is((await api(write, 'PATCH', `/api/admin/clients/${clientId}`, { metadata: { client_secret: 'x' } })).body.error, 'invalid_client_metadata');
  t.is((await api(write, 'PATCH', '/api/admin/clients/no-such-client', { first_party: true })).status, 404);
  const cleared = await api(write, 'PATCH', `/api/admin/clients/${clientId}`, { metadata: { client_name: null } });
  t.false('client_name' in cleared.body.metadata);

  const before = await tokenRequest(server, { clientId, clientSecret: secret }, { grant_type: 'client_credentials' });
  t.is(before.status, 200);
  const rotated = await api(write, 'POST', `/api/admin/clients/${clientId}/secret`);
  t.is(rotated.status, 200);
  t.not(rotated.body.client_secret, secret);
  t.is((await tokenRequest(server, { clientId, clientSecret: secret }, { grant_type: 'client_credentials' })).status, 401, 'the old secret stops at once');
  t.is((await tokenRequest(server, { clientId, clientSecret: rotated.body.client_secret }, { grant_type: 'client_credentials' })).status, 200);
  t.is((await api(write, 'POST', '/api/admin/clients/no-such-client/secret')).status, 404);

  t.is((await api(write, 'DELETE', `/api/admin/clients/${clientId}`)).status, 204);
  t.is((await api(read, 'GET', `/api/admin/clients/${clientId}`)).status, 404);
  t.is((await tokenRequest(server, { clientId, clientSecret: rotated.body.client_secret }, { grant_type: 'client_credentials' })).status, 401);
});

test('resources: create, list, get (identifier URL-encoded), update, delete; own APIs are fixed', async (t) => {
  const identifier = `https://reports-${Math.random().toString(36).slice(2, 8)}.example.test/api`;
  const path = `/api/admin/resources/${encodeURIComponent(identifier)}`;
  const created = await api(owner, 'POST', '/api/admin/resources', { identifier, scopes: ['reports:read', 'reports:write'] });
  t.is(created.status, 201, JSON.stringify(created.body));
  t.deepEqual(created.body, { identifier, scopes: ['reports:read', 'reports:write'], access_token_ttl: null });
  t.is((await api(owner, 'POST', '/api/admin/resources', { identifier, scopes: ['x'] })).body.error, 'resource_exists');
  t.is((await api(owner, 'POST', '/api/admin/resources', { identifier: 'not a uri', scopes: ['x'] })).body.error, 'invalid_resource');
  t.is((await api(owner, 'POST', '/api/admin/resources', { identifier })).body.error, 'validation_failed');

  t.deepEqual((await api(read, 'GET', path)).body, created.body);
  const listed = await api(read, 'GET', '/api/admin/resources?limit=200');
  t.true(listed.body.items.some((item: { identifier: string }) => item.identifier === identifier));

  await api(owner, 'PUT', '/api/admin/roles/user/grants', { grants: [{ resource: identifier, scopes: ['reports:read', 'reports:write'] }] });
  const updated = await api(owner, 'PATCH', path, { scopes: ['reports:read'], access_token_ttl: 120 });
  t.deepEqual(updated.body, { identifier, scopes: ['reports:read'], access_token_ttl: 120 });
  t.deepEqual((await api(read, 'GET', '/api/admin/roles/user')).body.grants, [{ resource: identifier, scopes: ['reports:read'] }], 'grants of removed scopes go');
  t.is((await api(owner, 'PATCH', path, { scopes: ['bad scope'] })).body.error, 'invalid_resource');

  const own = await api(owner, 'DELETE', `/api/admin/resources/${encodeURIComponent(`${server.issuer}/api/admin`)}`);
  t.is(own.status, 403);
  t.is(own.body.error, 'forbidden');

  t.is((await api(owner, 'DELETE', path)).status, 204);
  t.is((await api(read, 'GET', path)).status, 404);
  t.deepEqual((await api(read, 'GET', '/api/admin/roles/user')).body.grants, []);
  t.is((await api(owner, 'DELETE', path)).body.error, 'unknown_resource');
});

test('roles: create, list, get, update, replace grants, delete', async (t) => {
  const identifier = `https://payroll-${Math.random().toString(36).slice(2, 8)}.example.test`;
  await api(owner, 'POST', '/api/admin/resources', { identifier, scopes: ['payroll:read', 'payroll:admin'] });
  const name = `auditor-${Math.random().toString(36).slice(2, 8)}`;
  const created = await api(owner, 'POST', '/api/admin/roles', { name, description: 'Reads payroll' });
  t.is(created.status, 201);
  t.deepEqual(created.body, { name, description: 'Reads payroll', grants: [] });
  t.is((await api(owner, 'POST', '/api/admin/roles', { name })).body.error, 'role_exists');
  t.is((await api(owner, 'POST', '/api/admin/roles', { name: 'has space' })).body.error, 'invalid_role');

  const granted = await api(owner, 'PUT', `/api/admin/roles/${name}/grants`, { grants: [{ resource: identifier, scopes: ['payroll:read'] }] });
  t.deepEqual(granted.body.grants, [{ resource: identifier, scopes: ['payroll:read'] }]);
  t.is((await api(owner, 'PUT', `/api/admin/roles/${name}/grants`, { grants: [{ resource: identifier, scopes: ['payroll:delete'] }] })).body.error, 'invalid_scope');
  t.is((await api(owner, 'PUT', `/api/admin/roles/${name}/grants`, { grants: [{ resource: 'https://none.example.test', scopes: ['x'] }] })).body.error, 'unknown_resource');
  t.is((await api(owner, 'PUT', '/api/admin/roles/nobody/grants', { grants: [] })).status, 404);

  const updated = await api(owner, 'PATCH', `/api/admin/roles/${name}`, { description: null });
  t.is(updated.body.description, null);
  const listed = await api(read, 'GET', '/api/admin/roles?limit=200');
  t.true(listed.body.items.some((role: { name: string }) => role.name === name));
  t.true(listed.body.items.some((role: { name: string; grants: Array<{ scopes: string[] }> }) => role.name === 'admin' && role.grants[0]!.scopes.includes('admin')));

  t.is((await api(owner, 'DELETE', `/api/admin/roles/${name}`)).status, 204);
  t.is((await api(read, 'GET', `/api/admin/roles/${name}`)).status, 404);
  t.is((await api(owner, 'PATCH', `/api/admin/roles/${name}`, { description: 'x' })).status, 404);
});

test('tenants: create with overrides, get, list, update, delete only when empty', async (t) => {
  const id = `t-${Math.random().toString(36).slice(2, 8)}`;
  const created = await api(owner, 'POST', '/api/admin/tenants', { id, name: 'Acme', registration: 'invite', mfa_required_tiers: ['pro'] });
  t.is(created.status, 201, JSON.stringify(created.body));
  t.like(created.body, { id, name: 'Acme', registration: 'invite', mfa_required_tiers: ['pro'] });
  t.is((await api(owner, 'POST', '/api/admin/tenants', { id })).body.error, 'tenant_exists');
  t.is((await api(owner, 'POST', '/api/admin/tenants', { id: 'Not Valid' })).body.error, 'invalid_tenant');
  t.is((await api(owner, 'POST', '/api/admin/tenants', { id: 'x', registration: 'sometimes' })).body.error, 'validation_failed');
  const updated = await api(owner, 'PATCH', `/api/admin/tenants/${id}`, { registration: null });
  t.is(updated.body.registration, null);
  t.is((await api(owner, 'GET', `/api/admin/tenants/${id}`)).body.id, id);
  t.is((await api(read, 'GET', `/api/admin/tenants/${id}`)).status, 404, "another tenant's administrator does not see it");
  t.true((await api(owner, 'GET', '/api/admin/tenants?limit=200')).body.items.some((tenant: { id: string }) => tenant.id === id));

  const member = await api(owner, 'POST', '/api/admin/users', { email: uniqueEmail('member'), tenant: id });
  t.is(member.body.tenant, id);
  const busy = await api(owner, 'DELETE', `/api/admin/tenants/${id}`);
  t.is(busy.status, 409);
  t.is(busy.body.error, 'tenant_in_use');
  await api(owner, 'DELETE', `/api/admin/users/${member.body.id}`);
  t.is((await api(owner, 'DELETE', `/api/admin/tenants/${id}`)).status, 204);
  t.is((await api(owner, 'GET', `/api/admin/tenants/${id}`)).status, 404);
  t.is((await api(owner, 'DELETE', '/api/admin/tenants/default')).body.error, 'tenant_in_use');
});

test('a service client is bound to its tenant: roles, APIs and tenants, shared by every tenant, are for owners', async (t) => {
  for (const [method, path, body] of [
    ['POST', '/api/admin/roles', { name: 'svc-made' }],
    ['PUT', '/api/admin/roles/user/grants', { grants: [] }],
    ['POST', '/api/admin/resources', { identifier: 'https://svc.example.test', scopes: ['x:read'] }],
    ['POST', '/api/admin/tenants', { id: 'svc-made' }],
  ] as const) {
    const response = await api(write, method, path, body);
    t.is(response.status, 403, `${method} ${path}`);
    t.is(response.body.error, 'forbidden');
  }
  const promote = await api(write, 'POST', '/api/admin/users', { email: uniqueEmail('promote'), roles: ['owner'] });
  t.is(promote.status, 403, 'a tenant-bound administrator cannot make an owner');
});

test('audit: every admin action is recorded with its actor; filters by action, subject, actor and time', async (t) => {
  const since = new Date(Date.now() - 1000).toISOString();
  const created = await api(write, 'POST', '/api/admin/users', { email: uniqueEmail('audited') });
  await api(write, 'PATCH', `/api/admin/users/${created.body.id}`, { roles: ['user', 'editor'] });
  const entries = await api(read, 'GET', `/api/admin/audit?subject=${created.body.id}`);
  t.is(entries.status, 200);
  const actions = entries.body.items.map((entry: { action: string }) => entry.action);
  t.deepEqual(actions, ['account.authorization_changed', 'admin.account_created']);
  const actor = entries.body.items[0].actor as string;
  t.regex(actor, /^client:admin-svc-/);
  t.deepEqual(entries.body.items[0].details.roles, { from: ['user'], to: ['user', 'editor'] });

  const byAction = await api(read, 'GET', `/api/admin/audit?action=admin.account_created&subject=${created.body.id}&since=${encodeURIComponent(since)}`);
  t.is(byAction.body.items.length, 1);
  const byActor = await api(read, 'GET', `/api/admin/audit?actor=${encodeURIComponent(actor)}&limit=200`);
  t.true(byActor.body.items.every((entry: { actor: string }) => entry.actor === actor));
  t.true(byActor.body.items.length >= 2);
  const future = await api(read, 'GET', `/api/admin/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
  t.deepEqual(future.body.items, []);
  const bad = await api(read, 'GET', '/api/admin/audit?since=yesterday&subject=nope');
  t.is(bad.status, 400);
  t.is(bad.body.error, 'validation_failed');
});

test('POST /api/admin/users/{id}/unlock lifts a lockout; read-only tokens and unknown ids are refused', async (t) => {
  const user = await createUser(server);
  for (let i = 0; i < server.keyhold.config.LOCKOUT_THRESHOLD; i++) await server.keyhold.lockout.recordFailure(user.id);
  t.true(await server.keyhold.lockout.isLocked(user.id));
  t.is((await api(read, 'POST', `/api/admin/users/${user.id}/unlock`)).status, 403);
  t.is((await api(write, 'POST', `/api/admin/users/${UNKNOWN_ID}/unlock`)).status, 404);
  const unlocked = await api(write, 'POST', `/api/admin/users/${user.id}/unlock`);
  t.is(unlocked.status, 200);
  t.deepEqual(unlocked.body, { id: user.id, was_locked: true });
  t.false(await server.keyhold.lockout.isLocked(user.id));
  // One action, one audit entry: the administrator's (not also the lockout's account.unlocked).
  const entries = await server.keyhold.db.selectFrom('audit_log').select(['event', 'details']).where('account_id', '=', user.id).where('event', 'like', '%unlocked').execute();
  t.is(entries.length, 1);
  t.is(entries[0]!.event, 'admin.account_unlocked');
  t.like(entries[0]!.details, { was_locked: true });
  t.deepEqual((await api(write, 'POST', `/api/admin/users/${user.id}/unlock`)).body, { id: user.id, was_locked: false });
});
