// Tenants through the Admin API: an administrator of tenant A (without role owner) sees and
// changes only A — B's accounts, clients, tenant and audit entries answer 404, as if they did
// not exist — while an owner reaches every tenant; tokens carry the tenant of their subject
// (or of the client acting for itself); a role changed through the API shows in the next
// token after a refresh.
import test from 'ava';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { callApi } from '../helpers/api.ts';
import { adminServiceClient, adminUserToken } from '../helpers/admin.ts';
import { createUser, discover, login, registerClient, tokenRequest } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const REPORTS = 'https://reports.example.test';

let server: TestServer;
let owner: string;
/** Administrators of tenant a and tenant b (role admin, not owner). */
let adminA: string;
let adminB: string;
let userA: { id: string; email: string };
let userB: { id: string; email: string };
let clientB: string;

const api = (token: string, method: string, path: string, body?: unknown) => callApi(server, token, method, path, body);

test.before(async () => {
  // Administrators sign in here with the password alone: second factors are test/e2e/mfa*.test.ts's subject.
  server = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
  owner = (await adminUserToken(server, { roles: ['admin', 'owner'] })).token;
  for (const id of ['a', 'b']) {
    const created = await api(owner, 'POST', '/api/admin/tenants', { id, name: `Tenant ${id}` });
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  }
  adminA = (await adminUserToken(server, { roles: ['admin'], tenant: 'a' })).token;
  adminB = (await adminUserToken(server, { roles: ['admin'], tenant: 'b' })).token;
  userA = await createUser(server, { tenant: 'a' });
  userB = await createUser(server, { tenant: 'b' });
  clientB = (await api(adminB, 'POST', '/api/admin/clients', { metadata: { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] } })).body.client.client_id;
  await api(owner, 'POST', '/api/admin/resources', { identifier: REPORTS, scopes: ['reports:read', 'reports:admin'] });
  await api(owner, 'PUT', '/api/admin/roles/user/grants', { grants: [{ resource: REPORTS, scopes: ['reports:read'] }] });
  await api(owner, 'POST', '/api/admin/roles', { name: 'reports-admin' });
  await api(owner, 'PUT', '/api/admin/roles/reports-admin/grants', { grants: [{ resource: REPORTS, scopes: ['reports:read', 'reports:admin'] }] });
});
test.after.always(async () => {
  await server?.stop();
});

test("tenant B's objects do not exist for tenant A's administrator: 404, never 403", async (t) => {
  const probes: Array<[string, string, unknown?]> = [
    ['GET', `/api/admin/users/${userB.id}`],
    ['PATCH', `/api/admin/users/${userB.id}`, { active: false }],
    ['DELETE', `/api/admin/users/${userB.id}`],
    ['POST', `/api/admin/users/${userB.id}/logout`],
    ['POST', `/api/admin/users/${userB.id}/password-reset`],
    ['GET', `/api/admin/clients/${clientB}`],
    ['PATCH', `/api/admin/clients/${clientB}`, { metadata: { client_name: 'mine now' } }],
    ['POST', `/api/admin/clients/${clientB}/secret`],
    ['DELETE', `/api/admin/clients/${clientB}`],
    ['GET', '/api/admin/tenants/b'],
    ['PATCH', '/api/admin/tenants/b', { name: 'mine' }],
    ['DELETE', '/api/admin/tenants/b'],
  ];
  for (const [method, path, body] of probes) {
    const response = await api(adminA, method, path, body);
    t.is(response.status, 404, `${method} ${path}: ${JSON.stringify(response.body)}`);
  }
  // Untouched: B's account and client are as they were.
  const seenByOwner = await api(owner, 'GET', `/api/admin/users/${userB.id}`);
  t.is(seenByOwner.body.active, true);
  t.is(seenByOwner.body.tenant, 'b');
  t.is((await api(owner, 'GET', `/api/admin/clients/${clientB}`)).status, 200);
});

test("lists show only the administrator's tenant, whatever filter is asked for", async (t) => {
  const users = await api(adminA, 'GET', '/api/admin/users?limit=200');
  t.true(users.body.items.length > 0);
  t.true(users.body.items.every((user: { tenant: string }) => user.tenant === 'a'));
  t.true(users.body.items.some((user: { id: string }) => user.id === userA.id));
  t.deepEqual((await api(adminA, 'GET', '/api/admin/users?tenant=b')).body.items, []);
  t.deepEqual((await api(adminA, 'GET', `/api/admin/users?email=${encodeURIComponent(userB.email)}`)).body.items, []);
  t.deepEqual((await api(adminA, 'GET', '/api/admin/clients?tenant=b')).body.items, []);
  t.true((await api(adminB, 'GET', '/api/admin/clients')).body.items.some((client: { client_id: string }) => client.client_id === clientB));
  t.deepEqual((await api(adminA, 'GET', '/api/admin/tenants')).body.items.map((tenant: { id: string }) => tenant.id), ['a']);

  const everyone = await api(owner, 'GET', '/api/admin/users?limit=200');
  const tenants = new Set(everyone.body.items.map((user: { tenant: string }) => user.tenant));
  t.true(tenants.has('a') && tenants.has('b') && tenants.has('default'));
});

test("audit entries of tenant B are not shown to tenant A's administrator", async (t) => {
  await api(adminB, 'PATCH', `/api/admin/users/${userB.id}`, { tier: 'gold' });
  await api(adminA, 'PATCH', `/api/admin/users/${userA.id}`, { tier: 'gold' });
  const seenByA = await api(adminA, 'GET', '/api/admin/audit?limit=200');
  t.true(seenByA.body.items.some((entry: { subject: string }) => entry.subject === userA.id));
  t.false(seenByA.body.items.some((entry: { subject: string | null }) => entry.subject === userB.id));
  t.deepEqual((await api(adminA, 'GET', `/api/admin/audit?subject=${userB.id}`)).body.items, []);
  t.true((await api(owner, 'GET', `/api/admin/audit?subject=${userB.id}`)).body.items.length > 0);
});

test("tenant A's administrator creates in A only, cannot move accounts out, nor make owners", async (t) => {
  const created = await api(adminA, 'POST', '/api/admin/users', { email: `new-${Date.now()}@example.test` });
  t.is(created.status, 201);
  t.is(created.body.tenant, 'a');
  const elsewhere = await api(adminA, 'POST', '/api/admin/users', { email: `else-${Date.now()}@example.test`, tenant: 'b' });
  t.is(elsewhere.status, 403);
  const moved = await api(adminA, 'PATCH', `/api/admin/users/${created.body.id}`, { tenant: 'b' });
  t.is(moved.status, 403);
  const promoted = await api(adminA, 'PATCH', `/api/admin/users/${created.body.id}`, { roles: ['admin', 'owner'] });
  t.is(promoted.status, 403);
  const client = await api(adminA, 'POST', '/api/admin/clients', { metadata: { redirect_uris: ['https://app.example.test/callback'] } });
  t.is(client.body.client.tenant, 'a');
  t.is((await api(adminA, 'POST', '/api/admin/clients', { metadata: { redirect_uris: ['https://app.example.test/callback'] }, tenant: 'b' })).status, 403);

  // An owner moves accounts between tenants.
  const byOwner = await api(owner, 'PATCH', `/api/admin/users/${created.body.id}`, { tenant: 'b' });
  t.is(byOwner.body.tenant, 'b');
  t.is((await api(adminA, 'GET', `/api/admin/users/${created.body.id}`)).status, 404);
  t.is((await api(adminB, 'GET', `/api/admin/users/${created.body.id}`)).status, 200);
});

test("a service client in tenant A is an administrator of A only; its API tokens carry tenant a", async (t) => {
  const service = await adminServiceClient(server, 'admin reports:read', 'a');
  const adminToken = await tokenRequest(server, service, { grant_type: 'client_credentials', resource: `${server.issuer}/api/admin`, scope: 'admin' });
  const token = adminToken.body.access_token as string;
  t.is((await api(token, 'GET', `/api/admin/users/${userA.id}`)).status, 200);
  t.is((await api(token, 'GET', `/api/admin/users/${userB.id}`)).status, 404);
  const jwt = await tokenRequest(server, service, { grant_type: 'client_credentials', resource: REPORTS, scope: 'reports:read' });
  t.is(decodeJwt(jwt.body.access_token as string).tenant, 'a');
});

test('a role changed through the Admin API shows in the token after a refresh; user tokens carry the tenant', async (t) => {
  const app = await registerClient(server, { first_party: true, scope: 'openid offline_access reports:read reports:admin' });
  const config = await discover(server, app);
  const user = await createUser(server, { tenant: 'a', roles: ['user', 'reports-admin'] });
  const { tokens } = await login(config, user, { resource: REPORTS, scope: 'openid offline_access reports:read reports:admin', prompt: 'consent' });
  const first = decodeJwt(tokens.access_token);
  t.deepEqual(first.permissions, ['reports:read', 'reports:admin']);
  t.deepEqual(first.roles, ['user', 'reports-admin']);
  t.is(first.tenant, 'a');

  // Taken away by tenant a's administrator: the next token (a refresh) has the new roles and loses the scope.
  const changed = await api(adminA, 'PATCH', `/api/admin/users/${user.id}`, { roles: ['user', 'editor'] });
  t.is(changed.status, 200);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: REPORTS });
  const second = decodeJwt(refreshed.access_token);
  t.deepEqual(second.roles, ['user', 'editor']);
  t.deepEqual(second.permissions, ['reports:read']);
  t.is(second.tenant, 'a');
});

test("an owner demoted to a tenant's administrator is bound to that tenant at the next call", async (t) => {
  const { user, token } = await adminUserToken(server, { roles: ['admin', 'owner'], tenant: 'a' });
  t.is((await api(token, 'GET', `/api/admin/users/${userB.id}`)).status, 200);
  await api(owner, 'PATCH', `/api/admin/users/${user.id}`, { roles: ['admin'] });
  t.is((await api(token, 'GET', `/api/admin/users/${userB.id}`)).status, 404);
});
