// Dynamic client registration (RFC 7591) and management (RFC 7592) over HTTP with
// openid-client, behind initial access tokens from the real `keyhold client initial-token`
// command. The attacker's side: registering without or with a wrong or spent token,
// self-granting operator-only metadata (first_party, introspection, client_credentials,
// api_scope, undefined scopes), managing a client without its current registration token.
import test from 'ava';
import * as oidc from 'openid-client';
import { createResource } from '#src/services/resources.ts';
import { findClientRow } from '#src/stores/client-store.ts';
import { cliEnv, failed, runKeyhold, succeeded } from '../helpers/cli.ts';
import { createUser, registerClient, REDIRECT_URI } from '../helpers/oidc.ts';
import { exchangeAt, preparedRequest, signInAt } from '../helpers/protocol.ts';
import { startTestServer, TEST_SECRET, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let defaults: TestServer;
const API = 'https://orders.example.test';

test.before(async () => {
  [server, defaults] = await Promise.all([startTestServer({ env: { DYNAMIC_REGISTRATION: 'true' } }), startTestServer({ redis: false })]);
  await createResource(server.keyhold.db, { identifier: API, scopes: ['orders:read'] });
});
test.after.always(async () => {
  await Promise.all([server?.stop(), defaults?.stop()]);
});

const serverEnv = (target: TestServer, extra: Record<string, string> = {}) =>
  cliEnv({ DATABASE_URL: target.databaseUrl!, KEYHOLD_SECRET: TEST_SECRET, ISSUER: target.issuer, ...(target.redisPrefix ? { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: target.redisPrefix } : {}), ...extra });

/** An initial access token as the operator gets it: from the CLI, against the server's storage. */
async function initialToken(t: Parameters<typeof succeeded>[0], ttl?: string): Promise<string> {
  const run = await runKeyhold(['client', 'initial-token', ...(ttl ? ['--ttl', ttl] : [])], serverEnv(server, { DYNAMIC_REGISTRATION: 'true' }), { timeoutMs: 30_000 });
  const printed = succeeded<{ initial_access_token: string; expires_at: string }>(t, run);
  t.true(Date.parse(printed.expires_at) > Date.now());
  return printed.initial_access_token;
}

const spa = { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'Registered SPA' };

async function register(body: Record<string, unknown>, token?: string) {
  const response = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('discovery lists the registration endpoint only when DYNAMIC_REGISTRATION is on; the CLI refuses a token while it is off', async (t) => {
  const on = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  t.is(on.registration_endpoint, `${server.issuer}/reg`);
  const off = (await (await fetch(`${defaults.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  t.is(off.registration_endpoint, undefined);
  t.is((await fetch(`${defaults.issuer}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 404);
  failed(t, await runKeyhold(['client', 'initial-token'], serverEnv(defaults), { timeoutMs: 30_000 }), 1, /DYNAMIC_REGISTRATION=true/);
  failed(t, await runKeyhold(['client', 'initial-token', '--ttl', '5'], serverEnv(server, { DYNAMIC_REGISTRATION: 'true' }), { timeoutMs: 30_000 }), 2, /--ttl/);
});

test('registration needs a valid initial access token', async (t) => {
  const without = await register(spa);
  t.is(without.status, 401);
  t.is(without.body.error, 'invalid_token');
  const wrong = await register(spa, 'not-a-token-keyhold-issued');
  t.is(wrong.status, 401);
  t.is(wrong.body.error, 'invalid_token');
});

test('a client registered with openid-client signs a user in', async (t) => {
  const token = await initialToken(t);
  const config = await oidc.dynamicClientRegistration(new URL(server.issuer), spa, oidc.None(), { initialAccessToken: token, execute: [oidc.allowInsecureRequests] });
  const metadata = config.clientMetadata();
  t.truthy(metadata.registration_access_token);
  t.is(metadata.registration_client_uri, `${server.issuer}/reg/${config.clientMetadata().client_id}`);
  const user = await createUser(server);
  const request = await preparedRequest();
  const tokens = await exchangeAt(config, await signInAt(oidc.buildAuthorizationUrl(config, request.parameters), user), request);
  t.is(tokens.claims()?.sub, user.id);
});

test('operator-only metadata and undefined scopes are refused at registration', async (t) => {
  const token = await initialToken(t);
  for (const [label, body] of [
    ['first_party', { ...spa, first_party: true }],
    ['introspection', { ...spa, introspection: true }],
    ['client_credentials', { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'orders:read' }],
    ['api_scope', { ...spa, api_scope: 'orders:read' }],
    ['undefined scope', { ...spa, scope: 'openid orders:delete' }],
  ] as const) {
    const refused = await register(body, token);
    t.is(refused.status, 400, label);
    t.is(refused.body.error, 'invalid_client_metadata', label);
  }
  // The token still works for a client that asks for nothing it may not have.
  const allowed = await register({ ...spa, scope: 'openid email orders:read' }, token);
  t.is(allowed.status, 201, JSON.stringify(allowed.body));
  t.not(allowed.body.first_party, true);
  // Stored as `keyhold client create` stores it: the allow-list as written, not first-party.
  const row = await findClientRow(server.keyhold.db, allowed.body.client_id as string);
  t.is(row?.first_party, false);
  t.is(row?.metadata.scope, 'openid email orders:read');
});

test('management: read, update (the registration token rotates), privileges refused, delete', async (t) => {
  const created = await register({ ...spa, token_endpoint_auth_method: 'client_secret_basic' }, await initialToken(t));
  t.is(created.status, 201);
  const uri = created.body.registration_client_uri as string;
  const clientId = created.body.client_id as string;
  const manage = (method: string, rat: string, body?: Record<string, unknown>) =>
    fetch(uri, { method, headers: { authorization: `Bearer ${rat}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });

  const firstRat = created.body.registration_access_token as string;
  const read = await manage('GET', firstRat);
  t.is(read.status, 200);
  t.is(((await read.json()) as Record<string, unknown>).client_name, 'Registered SPA');

  const update = { client_id: clientId, client_secret: created.body.client_secret, redirect_uris: [REDIRECT_URI], client_name: 'Renamed SPA', grant_types: ['authorization_code'], response_types: ['code'] };
  const updated = await manage('PUT', firstRat, update);
  t.is(updated.status, 200);
  const updatedBody = (await updated.json()) as Record<string, unknown>;
  t.is(updatedBody.client_name, 'Renamed SPA');
  const secondRat = updatedBody.registration_access_token as string;
  t.not(secondRat, firstRat);
  t.is((await manage('GET', firstRat)).status, 401, 'the old registration token is spent');

  const escalation = await manage('PUT', secondRat, { ...update, first_party: true });
  t.is(escalation.status, 400);
  t.is(((await escalation.json()) as Record<string, unknown>).error, 'invalid_client_metadata');

  t.is((await manage('DELETE', secondRat)).status, 204);
  const gone = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${String(created.body.client_secret)}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT_URI }),
  });
  t.is(gone.status, 401);
});

test('a client created by the operator cannot be managed through registration', async (t) => {
  const client = await registerClient(server);
  const attempt = await fetch(`${server.issuer}/reg/${client.clientId}`, { headers: { authorization: `Bearer ${client.clientSecret}` } });
  t.is(attempt.status, 401);
});
