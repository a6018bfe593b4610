// The caches (the engine's clients with their secrets, API resources, accounts; the sign-in
// pages' tenants and connectors) never outlive a change on another node: a change at node
// A (services, Admin service, the CLI) reaches node B through Redis pub/sub. CACHE_TTL is set far above the deadline each check polls
// for, so only the invalidation can make these pass, never the TTL backstop.
import test from 'ava';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { changeOf, changesOf } from '#src/stores/change-feed.ts';
import { cliEnv, runKeyhold, succeeded } from '../helpers/cli.ts';
import { createUser, registerClient, tokenRequest } from '../helpers/oidc.ts';
import { startTestServer, TEST_SECRET, type TestServer } from '../helpers/server.ts';
import { createResource } from '#src/services/resources.ts';

const CACHE_TTL = '300';
// Far below CACHE_TTL: a pub/sub message takes milliseconds; a loaded runner gets room.
const DEADLINE_MS = 15_000;
const env = { CACHE_TTL, MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' };

const API = 'https://api.cache.test';
let nodeA: TestServer;
let nodeB: TestServer;

test.before(async () => {
  nodeA = await startTestServer({ env });
  nodeB = await startTestServer({ databaseUrl: nodeA.databaseUrl, redisPrefix: nodeA.redisPrefix, env: { ...env, ISSUER: nodeA.issuer } });
  await createResource(nodeA.keyhold.db, { identifier: API, scopes: ['read:x', 'write:x'] });
});
test.after.always(async () => {
  await nodeB?.stop();
  await nodeA?.stop();
});

// node B answers at its own address; the issuer is A's (one deployment).
const atB = () => ({ issuer: nodeB.issuer });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true or the deadline passes; returns whether it did. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + DEADLINE_MS;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  return check();
}


async function serviceClient() {
  return registerClient(nodeA, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], post_logout_redirect_uris: [], scope: 'read:x' });
}
const clientCredentials = (client: { clientId: string; clientSecret?: string }) => tokenRequest(atB(), client, { grant_type: 'client_credentials', resource: API, scope: 'read:x' });

test('a secret rotated at node A stops working at node B; the new one works there', async (t) => {
  const client = await serviceClient();
  // Node B has the client (and its secret) cached now.
  t.is((await clientCredentials(client)).status, 200);
  t.is((await clientCredentials(client)).status, 200);
  const rotated = await nodeA.keyhold.admin.clients.rotateSecret(CLI_ACTOR, client.clientId);
  t.true(await eventually(async () => (await clientCredentials(client)).status === 401), 'old secret still accepted at node B');
  t.is((await clientCredentials({ clientId: client.clientId, clientSecret: rotated.client_secret })).status, 200);
});

test('a client deleted at node A is refused at node B', async (t) => {
  const client = await serviceClient();
  t.is((await clientCredentials(client)).status, 200);
  await nodeA.keyhold.admin.clients.remove(CLI_ACTOR, client.clientId);
  t.true(await eventually(async () => (await clientCredentials(client)).status === 401));
  t.is((await clientCredentials(client)).body.error, 'invalid_client');
});

test('a client whose grant types change at node A loses client_credentials at node B', async (t) => {
  const client = await serviceClient();
  t.is((await clientCredentials(client)).status, 200);
  await nodeA.keyhold.admin.clients.update(CLI_ACTOR, client.clientId, {
    metadata: { grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['https://app.example.test/callback'], scope: 'read:x' },
  });
  t.true(await eventually(async () => (await clientCredentials(client)).status === 400));
});

test('an API scope removed at node A is no longer issued at node B', async (t) => {
  const identifier = 'https://api.shrinking.test';
  await createResource(nodeA.keyhold.db, { identifier, scopes: ['a:1', 'a:2'] });
  const client = await registerClient(nodeA, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], post_logout_redirect_uris: [], scope: 'a:1 a:2' });
  const issue = () => tokenRequest(atB(), client, { grant_type: 'client_credentials', resource: identifier, scope: 'a:1 a:2' });
  t.is((await issue()).body.scope, 'a:1 a:2');
  await nodeA.keyhold.admin.resources.update(CLI_ACTOR, identifier, { scopes: ['a:1'] });
  t.true(await eventually(async () => (await issue()).body.scope !== 'a:1 a:2'));
});

/** An opaque access token (userinfo) for a new account, issued at node A, plus its refresh token. */
async function signedInUser() {
  const { Browser } = await import('../helpers/browser.ts');
  const { authorize, discover } = await import('../helpers/oidc.ts');
  const oidc = await import('openid-client');
  const client = await registerClient(nodeA, { first_party: true });
  const user = await createUser(nodeA);
  const config = await discover(nodeA, client);
  const result = await authorize(config, user, { scope: 'openid profile offline_access', prompt: 'consent' }, new Browser());
  const tokens = await oidc.authorizationCodeGrant(config, result.callbackUrl, { pkceCodeVerifier: result.verifier, expectedState: result.state, expectedNonce: result.nonce });
  return { user, client, accessToken: tokens.access_token, refreshToken: tokens.refresh_token! };
}

const userinfoAtB = async (accessToken: string) => {
  const response = await fetch(`${nodeB.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, body: response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined };
};

test('an account renamed at node A shows its new name at node B', async (t) => {
  const { user, accessToken } = await signedInUser();
  t.is((await userinfoAtB(accessToken)).body?.name, 'Test User');
  await nodeA.keyhold.admin.users.update(CLI_ACTOR, { id: user.id }, { name: 'Renamed User' });
  t.true(await eventually(async () => (await userinfoAtB(accessToken)).body?.name === 'Renamed User'));
});

test('an account disabled at node A is refused at node B (userinfo and refresh)', async (t) => {
  const { user, client, accessToken, refreshToken } = await signedInUser();
  t.is((await userinfoAtB(accessToken)).status, 200);
  await nodeA.keyhold.admin.users.update(CLI_ACTOR, { id: user.id }, { active: false });
  t.true(await eventually(async () => (await userinfoAtB(accessToken)).status === 401));
  const refresh = await tokenRequest(atB(), client, { grant_type: 'refresh_token', refresh_token: refreshToken });
  t.is(refresh.status, 400);
  t.is(refresh.body.error, 'invalid_grant');
});

test('an account deleted at node A is refused at node B', async (t) => {
  const { user, accessToken } = await signedInUser();
  t.is((await userinfoAtB(accessToken)).status, 200);
  await nodeA.keyhold.admin.users.remove(CLI_ACTOR, { id: user.id });
  t.true(await eventually(async () => (await userinfoAtB(accessToken)).status === 401));
});

test('a client created at node A lets its origin call the Account API at node B (CORS), though B had read the origins', async (t) => {
  const spaOrigin = `https://spa-${Date.now().toString(36)}.cache.test`;
  const preflightAtB = () => fetch(`${nodeB.issuer}/api/account`, { method: 'OPTIONS', headers: { origin: spaOrigin, 'access-control-request-method': 'GET' } });
  // Node B reads (and keeps) the registered origins before the client exists.
  t.is((await preflightAtB()).headers.get('access-control-allow-origin'), null);
  await nodeA.keyhold.admin.clients.create(CLI_ACTOR, { client_id: `spa-${Date.now().toString(36)}`, redirect_uris: [`${spaOrigin}/callback`], token_endpoint_auth_method: 'none' });
  t.true(await eventually(async () => (await preflightAtB()).headers.get('access-control-allow-origin') === spaOrigin), 'origin not allowed at node B');
});

test('the CLI (another process) rotating a secret: node B refuses the old one', async (t) => {
  const client = await serviceClient();
  t.is((await clientCredentials(client)).status, 200);
  const cli = await runKeyhold(['client', 'rotate-secret', '--id', client.clientId], cliEnv({ DATABASE_URL: nodeA.databaseUrl!, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: nodeA.redisPrefix!, KEYHOLD_SECRET: TEST_SECRET, ISSUER: nodeA.issuer }), { timeoutMs: 60_000 });
  const rotated = succeeded(t, cli);
  t.true(await eventually(async () => (await clientCredentials(client)).status === 401));
  t.is((await clientCredentials({ clientId: client.clientId, clientSecret: rotated.client_secret })).status, 200);
});

test("a tenant's registration mode and MFA tiers changed at node A apply at node B", async (t) => {
  const tenant = `t-${Date.now().toString(36)}`;
  await nodeA.keyhold.admin.tenants.create(CLI_ACTOR, tenant, { registration: 'open' });
  const account = { tier: 'pro', roles: [], tenant };
  // Node B reads (and keeps) the tenant row.
  t.is(await nodeB.keyhold.tenantSettings.registration(tenant), 'open');
  t.false(await nodeB.keyhold.mfaRequirement.requiredByPolicy(account));
  await nodeA.keyhold.admin.tenants.update(CLI_ACTOR, tenant, { registration: 'closed', mfaRequiredTiers: ['pro'] });
  t.true(await eventually(async () => (await nodeB.keyhold.tenantSettings.registration(tenant)) === 'closed'), 'registration still open at node B');
  t.true(await nodeB.keyhold.mfaRequirement.requiredByPolicy(account));
});

test("a connector added at node A shows on node B's sign-in pages; deleted, it is gone there", async (t) => {
  const id = `c${Date.now().toString(36)}`;
  const listedAtB = async () => (await nodeB.keyhold.connectors.all()).some((connector) => connector.id === id);
  t.false(await listedAtB());
  await nodeA.keyhold.connectors.create({ id, type: 'github', name: 'GitHub', client_id: 'gh-app', client_secret: 'gh-secret-0123456789' });
  t.true(await eventually(listedAtB), 'new connector not listed at node B');
  await nodeA.keyhold.connectors.remove(id);
  t.true(await eventually(async () => !(await listedAtB())), 'deleted connector still listed at node B');
});

test('without Redis (one process) a change evicts at once', async (t) => {
  const single = await startTestServer({ redis: false, env });
  t.teardown(() => single.stop());
  await createResource(single.keyhold.db, { identifier: API, scopes: ['read:x'] });
  const client = await registerClient(single, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], post_logout_redirect_uris: [], scope: 'read:x' });
  const issue = (secret?: string) => tokenRequest(single, { clientId: client.clientId, clientSecret: secret ?? client.clientSecret }, { grant_type: 'client_credentials', resource: API, scope: 'read:x' });
  t.is((await issue()).status, 200);
  const rotated = await single.keyhold.admin.clients.rotateSecret(CLI_ACTOR, client.clientId);
  t.is((await issue()).status, 401);
  t.is((await issue(rotated.client_secret)).status, 200);
});

test('which rows a statement changes: the key in its WHERE, or the whole table', (t) => {
  const db = nodeA.keyhold.db;
  t.deepEqual(changeOf(db.updateTable('accounts').set({ name: 'x' }).where('id', '=', 'abc').toOperationNode()), { table: 'accounts', keys: ['abc'] });
  t.deepEqual(changeOf(db.deleteFrom('clients').where('client_id', 'in', ['a', 'b']).toOperationNode()), { table: 'clients', keys: ['a', 'b'] });
  t.deepEqual(changeOf(db.updateTable('accounts').set({ active: false }).where('tier', '=', 'pro').toOperationNode()), { table: 'accounts', keys: null });
  t.deepEqual(changeOf(db.updateTable('accounts').set({ active: false }).where('id', '=', 'k').where('tier', '=', 'pro').toOperationNode()), { table: 'accounts', keys: ['k'] });
  t.deepEqual(changeOf(db.insertInto('clients').values({ client_id: 'n', metadata: '{}', secret_encrypted: null, first_party: false }).toOperationNode()), { table: 'clients', keys: [] });
  t.deepEqual(
    changeOf(db.insertInto('clients').values({ client_id: 'n', metadata: '{}', secret_encrypted: null, first_party: false }).onConflict((c) => c.column('client_id').doUpdateSet({ first_party: true })).toOperationNode()),
    { table: 'clients', keys: null },
  );
  t.is(changeOf(db.updateTable('audit_log').set({ ip: null }).toOperationNode()), undefined);
  // A sign-in's last_login_at alone is read by no cache; with a new hash it is a change.
  t.is(changeOf(db.updateTable('accounts').set({ last_login_at: new Date() }).where('id', '=', 'k').toOperationNode()), undefined);
  t.deepEqual(changeOf(db.updateTable('accounts').set({ last_login_at: new Date(), password_hash: 'h' }).where('id', '=', 'k').toOperationNode()), { table: 'accounts', keys: ['k'] });
  t.deepEqual(changeOf(db.deleteFrom('connectors').where('id', '=', 'c').toOperationNode()), { table: 'connectors', keys: ['c'] });
  // A data-modifying WITH clause writes too, whatever statement carries it.
  t.deepEqual(
    changesOf(db.with('renamed', (cte) => cte.updateTable('accounts').set({ name: 'n' }).where('id', '=', 'k')).insertInto('event_outbox').values({ id: 'e', type: 't', data: '{}' }).toOperationNode()),
    [{ table: 'accounts', keys: ['k'] }],
  );
  t.deepEqual(changesOf(db.with('gone', (cte) => cte.deleteFrom('clients').where('client_id', '=', 'c').returning('client_id')).selectFrom('gone').selectAll().toOperationNode()), [{ table: 'clients', keys: ['c'] }]);
  t.deepEqual(changesOf(db.updateTable('audit_log').set({ ip: null }).toOperationNode()), []);
  t.is(changeOf(db.selectFrom('accounts').selectAll().toOperationNode()), undefined);
});
