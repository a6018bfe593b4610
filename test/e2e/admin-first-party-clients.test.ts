// First-party clients as an attacker sees them: no consent page for any account, and tokens
// carrying the Admin API scopes of whoever signs in, an owner's included. So an administrator
// bound to a tenant must not make one, nor point one (the built-in console client lives in
// the default tenant, which such an administrator sees) at their own site: one link to an
// owner would otherwise hand over an owner's token.
import test from 'ava';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { CONSOLE_CLIENT_ID } from '#src/services/console-client.ts';
import { adminUserToken } from '../helpers/admin.ts';
import { callApi } from '../helpers/api.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

test.before(async () => {
  server = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
});
test.after.always(async () => {
  await server?.stop();
});

const api = (token: string, method: string, path: string, body?: unknown) => callApi(server, token, method, path, body);
const consolePath = `/api/admin/clients/${CONSOLE_CLIENT_ID}`;

test.serial('attacker: an administrator of the default tenant cannot redirect, delete or re-secret the console client', async (t) => {
  const tenantAdmin = (await adminUserToken(server, { roles: ['admin'] })).token;
  const callback = `${server.issuer}/console/callback`;
  // The console client is visible to this administrator (same tenant)...
  t.is((await api(tenantAdmin, 'GET', consolePath)).status, 200);

  // ...but every change is refused, with a stable code.
  const redirect = await api(tenantAdmin, 'PATCH', consolePath, { metadata: { redirect_uris: ['https://attacker.example/cb'] } });
  t.is(redirect.status, 403);
  t.is(redirect.body.error, 'forbidden');
  const confidential = await api(tenantAdmin, 'PATCH', consolePath, { metadata: { token_endpoint_auth_method: 'client_secret_basic' } });
  t.is(confidential.status, 403);
  t.is((await api(tenantAdmin, 'POST', `${consolePath}/secret`)).status, 403);
  t.is((await api(tenantAdmin, 'DELETE', consolePath)).status, 403);

  const owner = (await adminUserToken(server, { roles: ['admin', 'owner'] })).token;
  const client = await api(owner, 'GET', consolePath);
  t.is(client.status, 200, 'still there');
  t.deepEqual(client.body.metadata.redirect_uris, [callback]);
  t.is(client.body.metadata.token_endpoint_auth_method, 'none');
  t.false(client.body.has_secret);
});

test.serial('the same administrator still changes its tenant\'s own clients; an owner may change the console client', async (t) => {
  const tenantAdmin = (await adminUserToken(server, { roles: ['admin'] })).token;
  const created = await api(tenantAdmin, 'POST', '/api/admin/clients', { metadata: { client_id: 'tenant-app', redirect_uris: ['https://app.example/cb'] } });
  t.is(created.status, 201, JSON.stringify(created.body));
  t.is((await api(tenantAdmin, 'PATCH', '/api/admin/clients/tenant-app', { metadata: { client_name: 'Tenant app' } })).status, 200);
  t.is((await api(tenantAdmin, 'DELETE', '/api/admin/clients/tenant-app')).status, 204);

  const owner = (await adminUserToken(server, { roles: ['admin', 'owner'] })).token;
  const renamed = await api(owner, 'PATCH', consolePath, { metadata: { client_name: 'Console' } });
  t.is(renamed.status, 200);
  t.is(renamed.body.metadata.client_name, 'Console');
});

test.serial('attacker: an administrator bound to a tenant cannot make a first-party client, nor repoint an owner\'s', async (t) => {
  await server.keyhold.admin.tenants.create(CLI_ACTOR, 'fp-a', {});
  const tenantAdmin = (await adminUserToken(server, { roles: ['admin'], tenant: 'fp-a' })).token;
  const made = await api(tenantAdmin, 'POST', '/api/admin/clients', { metadata: { client_id: 'fp-evil', first_party: true, scope: 'openid admin admin:read', redirect_uris: ['https://attacker.example/cb'] } });
  t.is(made.status, 403);
  t.is(made.body.error, 'forbidden');

  t.is((await api(tenantAdmin, 'POST', '/api/admin/clients', { metadata: { client_id: 'fp-plain', redirect_uris: ['https://app.example/cb'] } })).status, 201);
  t.is((await api(tenantAdmin, 'PATCH', '/api/admin/clients/fp-plain', { first_party: true })).status, 403);

  // A first-party client an owner made in that tenant: the tenant's administrator sees it, changes nothing.
  await server.keyhold.admin.clients.create(CLI_ACTOR, { client_id: 'fp-portal', first_party: true, redirect_uris: ['https://portal.example/cb'], scope: 'openid admin' }, { tenant: 'fp-a' });
  t.is((await api(tenantAdmin, 'GET', '/api/admin/clients/fp-portal')).status, 200);
  t.is((await api(tenantAdmin, 'PATCH', '/api/admin/clients/fp-portal', { metadata: { redirect_uris: ['https://attacker.example/cb'] } })).status, 403);
  t.is((await api(tenantAdmin, 'PATCH', '/api/admin/clients/fp-portal', { first_party: false })).status, 403);
  t.is((await api(tenantAdmin, 'DELETE', '/api/admin/clients/fp-portal')).status, 403);
  const owner = (await adminUserToken(server, { roles: ['admin', 'owner'] })).token;
  const portal = await api(owner, 'GET', '/api/admin/clients/fp-portal');
  t.deepEqual(portal.body.metadata.redirect_uris, ['https://portal.example/cb']);
  t.true(portal.body.first_party);
  t.is((await api(owner, 'PATCH', '/api/admin/clients/fp-portal', { metadata: { redirect_uris: ['https://portal.example/cb2'] } })).status, 200);
  t.is((await api(owner, 'POST', '/api/admin/clients', { metadata: { client_id: 'fp-owner', first_party: true, redirect_uris: ['https://owner.example/cb'] }, tenant: 'fp-a' })).status, 201);
});
