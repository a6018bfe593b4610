// The Admin API's connector routes over HTTP: an owner adds, reads, changes and removes a
// connector; its secret never comes back (only has_secret); bad metadata gets the very error
// `keyhold connector create|update` gives (one service, one set of rules); admin:read reads
// but cannot write, and an administrator bound to a tenant cannot change what every
// tenant's sign-in pages show. Every change is in the audit log with its actor.
import test from 'ava';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { callApi } from '../helpers/api.ts';
import { assertOwnerOnlyWrite, installationWideCallers } from '../helpers/admin.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const SECRET = 'upstream-client-secret-never-shown-0123456789';

let server: TestServer;
let owner: string;
let ownerId: string;
/** A service client's tokens (tenant default): bound to their tenant. */
let tenantWrite: string;
let read: string;
/** A signed-in account without role admin. */
let plainUser: string;

test.before(async () => {
  server = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
  ({ owner, ownerId, tenantWrite, read, plainUser } = await installationWideCallers(server));
});
test.after.always(async () => {
  await server?.stop();
});

const api = (token: string | undefined, method: string, path: string, body?: unknown) => callApi(server, token, method, path, body);
const auditOf = (event: string, connector: string) =>
  server.keyhold.db.selectFrom('audit_log').select(['details']).where('event', '=', event).where((eb) => eb(eb.ref('details', '->>').key('connector' as never), '=', connector)).execute();

test.serial('an owner creates, reads, lists, changes and removes a connector; the secret never comes back', async (t) => {
  const created = await api(owner, 'POST', '/api/admin/connectors', { id: 'corp', type: 'oidc', name: 'Corp Identity', client_id: 'keyhold', client_secret: SECRET, issuer: 'https://idp.example.test' });
  t.is(created.status, 201, JSON.stringify(created.body));
  t.is(created.headers.get('location'), '/api/admin/connectors/corp');
  t.like(created.body, { id: 'corp', type: 'oidc', name: 'Corp Identity', client_id: 'keyhold', issuer: 'https://idp.example.test', has_secret: true, redirect_uri: `${server.issuer}/connect/corp/callback` });
  t.false(JSON.stringify(created.body).includes(SECRET));

  const fetched = await api(read, 'GET', '/api/admin/connectors/corp');
  t.is(fetched.status, 200);
  t.deepEqual(fetched.body, created.body);

  t.is((await api(owner, 'POST', '/api/admin/connectors', { id: 'gh', type: 'github', name: 'GitHub', client_id: 'gh-app', client_secret: SECRET })).status, 201);
  const first = await api(read, 'GET', '/api/admin/connectors?limit=1');
  t.is(first.status, 200);
  t.deepEqual(first.body.items.map((item: { id: string }) => item.id), ['corp']);
  t.truthy(first.body.next_cursor);
  const second = await api(read, 'GET', `/api/admin/connectors?limit=1&cursor=${first.body.next_cursor}`);
  t.deepEqual(second.body.items.map((item: { id: string }) => item.id), ['gh']);
  t.is(second.body.next_cursor, null);
  t.false(JSON.stringify([first.body, second.body]).includes(SECRET));

  const rotated = 'a rotated upstream secret 9876543210';
  const updated = await api(owner, 'PATCH', '/api/admin/connectors/corp', { name: 'Corp SSO', client_secret: rotated, trust_upstream_mfa: true });
  t.is(updated.status, 200, JSON.stringify(updated.body));
  t.like(updated.body, { name: 'Corp SSO', trust_upstream_mfa: true, has_secret: true, issuer: 'https://idp.example.test' });
  t.false(JSON.stringify(updated.body).includes(rotated));
  t.is((await server.keyhold.connectors.secrets('corp')).clientSecret, rotated);
  // The login page shows the new name at once.
  t.is((await server.keyhold.connectors.find('corp'))?.name, 'Corp SSO');

  t.is((await api(owner, 'DELETE', '/api/admin/connectors/gh')).status, 204);
  const gone = await api(owner, 'GET', '/api/admin/connectors/gh');
  t.is(gone.status, 404);
  t.is(gone.body.error, 'unknown_connector');
  t.is((await api(owner, 'DELETE', '/api/admin/connectors/gh')).status, 404);

  // Audited with the actor, and with the names of the changed fields, never their values.
  const actor = `account:${ownerId}`;
  t.like((await auditOf('admin.connector_created', 'corp'))[0]?.details, { actor, connector: 'corp', type: 'oidc' });
  const change = (await auditOf('admin.connector_updated', 'corp'))[0]?.details as { actor?: string; fields?: string[] } | undefined;
  t.is(change?.actor, actor);
  t.deepEqual(change?.fields, ['name', 'client_secret', 'trust_upstream_mfa']);
  t.like((await auditOf('admin.connector_deleted', 'gh'))[0]?.details, { actor });
  const everything = JSON.stringify(await server.keyhold.db.selectFrom('audit_log').select('details').execute());
  t.false(everything.includes(SECRET) || everything.includes(rotated));
});

const refusedMetadata: Array<[string, Record<string, unknown>]> = [
  ['no client_secret', { id: 'bad1', type: 'google', name: 'Google', client_id: 'x' }],
  ['oidc without issuer', { id: 'bad2', type: 'oidc', name: 'Corp', client_id: 'x', client_secret: SECRET }],
  ['plain-http issuer', { id: 'bad3', type: 'oidc', name: 'Corp', client_id: 'x', client_secret: SECRET, issuer: 'http://idp.example.test' }],
  ['apple without its key', { id: 'bad4', type: 'apple', name: 'Apple', client_id: 'x', team_id: 'ABCDE12345', key_id: 'ABCDE12345' }],
  ['an issuer for a fixed type', { id: 'bad5', type: 'github', name: 'GitHub', client_id: 'x', client_secret: SECRET, issuer: 'https://evil.example.test' }],
];

for (const [label, metadata] of refusedMetadata) {
  test(`create refuses ${label} with the error the CLI gives`, async (t) => {
    const response = await api(owner, 'POST', '/api/admin/connectors', metadata);
    t.is(response.status, 400);
    t.is(response.body.error, 'invalid_connector');
    const cli = await t.throwsAsync(server.keyhold.admin.connectors.create(CLI_ACTOR, metadata));
    t.is(response.body.error_description, cli?.message);
    t.is(await server.keyhold.connectors.find(String(metadata.id)), undefined);
  });
}

test('malformed bodies are refused at the edge, never a 5xx', async (t) => {
  const bodies: unknown[] = [
    { id: 'Bad Id!', type: 'github', name: 'x', client_id: 'x', client_secret: SECRET },
    { id: 'bad6', type: 'myspace', name: 'x', client_id: 'x', client_secret: SECRET },
    { id: 'bad7', type: 'github', name: 'x', client_id: 'x', client_secret: SECRET, extra: true },
    { id: 'bad8', type: 'github', name: 'line\nbreak', client_id: 'x', client_secret: SECRET },
    [],
    '{"id":',
  ];
  for (const body of bodies) {
    const response = await api(owner, 'POST', '/api/admin/connectors', body);
    t.is(response.status, 400, JSON.stringify(body));
    t.is(typeof response.body.error, 'string');
  }
  t.is((await api(owner, 'GET', `/api/admin/connectors/${'y'.repeat(300)}`)).status, 400);
});

test.serial('update: the id, type and issuer stay; unknown connectors are 404; a duplicate id is 409', async (t) => {
  t.is((await api(owner, 'POST', '/api/admin/connectors', { id: 'ms', type: 'microsoft', name: 'Microsoft', client_id: 'm', client_secret: SECRET })).status, 201);
  const duplicate = await api(owner, 'POST', '/api/admin/connectors', { id: 'ms', type: 'google', name: 'Google', client_id: 'g', client_secret: SECRET });
  t.is(duplicate.status, 409);
  t.is(duplicate.body.error, 'connector_exists');
  for (const change of [{ type: 'google' }, { issuer: 'https://elsewhere.example.test' }, { id: 'other' }]) {
    const response = await api(owner, 'PATCH', '/api/admin/connectors/ms', change);
    t.is(response.status, 400, JSON.stringify(change));
  }
  const appleOnly = await api(owner, 'PATCH', '/api/admin/connectors/ms', { private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----' });
  t.is(appleOnly.status, 400);
  t.is(appleOnly.body.error, 'invalid_connector');
  const cli = await t.throwsAsync(server.keyhold.admin.connectors.update(CLI_ACTOR, 'ms', { private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----' }));
  t.is(appleOnly.body.error_description, cli?.message);
  const unknown = await api(owner, 'PATCH', '/api/admin/connectors/nope', { name: 'x' });
  t.is(unknown.status, 404);
  t.is(unknown.body.error, 'unknown_connector');
  t.is((await server.keyhold.connectors.find('ms'))?.type, 'microsoft');
});

test.serial('admin:read reads but cannot write; an administrator bound to a tenant cannot change connectors', async (t) => {
  const metadata = { id: 'readonly', type: 'github', name: 'GitHub', client_id: 'x', client_secret: SECRET };
  for (const [method, path, body] of [
    ['POST', '/api/admin/connectors', metadata],
    ['PATCH', '/api/admin/connectors/corp', { name: 'Taken over' }],
    ['DELETE', '/api/admin/connectors/corp', undefined],
  ] as const) {
    await assertOwnerOnlyWrite(t, server, { read, tenantWrite, plainUser }, { method, path, body });
  }
  t.is((await api(tenantWrite, 'GET', '/api/admin/connectors/corp')).status, 200);
  t.is(await server.keyhold.connectors.find('readonly'), undefined);
  t.is((await server.keyhold.connectors.find('corp'))?.name, 'Corp SSO');
  t.is((await api(undefined, 'GET', '/api/admin/connectors')).status, 401);
});

test('every connector route is in the OpenAPI document', async (t) => {
  const document = (await api(undefined, 'GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  t.deepEqual(Object.keys(document.paths['/api/admin/connectors'] ?? {}).sort(), ['get', 'post']);
  t.deepEqual(Object.keys(document.paths['/api/admin/connectors/{id}'] ?? {}).sort(), ['delete', 'get', 'patch']);
});
