// The built-in console client as an attacker sees it: it is first party (no consent page) and
// its tokens carry the Admin API scopes of whoever signs in, an owner's included. So an
// administrator bound to a tenant (the console client lives in the default tenant, which
// such an administrator sees) must not be able to point it elsewhere, delete it or give it a
// secret: one link to an owner would otherwise hand over an owner's token.
import test from 'ava';
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
