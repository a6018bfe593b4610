// RFC 7662 token introspection and RFC 7009 token revocation over HTTP, with the client
// authentication and cross-client rules Keyhold relies on.
import test from 'ava';
import type * as oidc from 'openid-client';
import { basicAuth, discover, registerClient, signInNewUser, type RegisteredClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

const SCOPE = 'openid email profile offline_access';

async function postForm(endpoint: string, parameters: Record<string, string>, authorization?: string) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...(authorization ? { authorization } : {}),
    },
    body: new URLSearchParams(parameters),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
}

/** A confidential client with a signed-in user holding an opaque access token and a refresh token. */
async function issued() {
  const { client, user, config, tokens } = await signInNewUser(server, { parameters: { scope: SCOPE, prompt: 'consent' } });
  if (!client.clientSecret) throw new Error('expected a confidential client');
  if (!tokens.refresh_token) throw new Error('no refresh token issued');
  const metadata = config.serverMetadata();
  return {
    client,
    user,
    config,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    introspect: (token: string, as: RegisteredClient = client, extra: Record<string, string> = {}) =>
      postForm(metadata.introspection_endpoint!, { token, ...extra }, basicAuth(as)),
    revoke: (token: string, as: RegisteredClient = client, extra: Record<string, string> = {}) =>
      postForm(metadata.revocation_endpoint!, { token, ...extra }, basicAuth(as)),
    refresh: (token: string) => postForm(metadata.token_endpoint!, { grant_type: 'refresh_token', refresh_token: token }, basicAuth(client)),
    userinfo: (token: string) => fetch(metadata.userinfo_endpoint!, { headers: { authorization: `Bearer ${token}` } }),
  };
}

function endpoints(config: oidc.Configuration) {
  const metadata = config.serverMetadata();
  return { introspection: metadata.introspection_endpoint!, revocation: metadata.revocation_endpoint! };
}

test('discovery publishes the introspection and revocation endpoints', async (t) => {
  const client = await registerClient(server);
  const config = await discover(server, client);
  const metadata = config.serverMetadata();
  t.is(metadata.introspection_endpoint, `${server.issuer}/token/introspection`);
  t.is(metadata.revocation_endpoint, `${server.issuer}/token/revocation`);
  // RFC 8414 makes the per-endpoint auth method lists optional; the engine publishes the
  // token endpoint's list, which these endpoints share.
  t.true(metadata.token_endpoint_auth_methods_supported?.includes('client_secret_basic'));
});

test('RFC 7662: an opaque access token introspects as active with sub, client_id, scope', async (t) => {
  const { client, user, accessToken, introspect } = await issued();
  t.false(accessToken.split('.').length === 3, 'a login access token is opaque');
  const response = await introspect(accessToken);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^application\/json/);
  t.is(response.headers.get('cache-control'), 'no-store');
  const body = response.json!;
  t.is(body.active, true);
  t.is(body.sub, user.id);
  t.is(body.client_id, client.clientId);
  t.deepEqual(String(body.scope).split(' ').sort(), SCOPE.split(' ').sort());
  t.is(body.token_type, 'Bearer');
  t.is(body.iss, server.issuer);
  const now = Date.now() / 1000;
  t.true(typeof body.exp === 'number' && body.exp > now, `exp ${body.exp}`);
  t.true(typeof body.iat === 'number' && body.iat <= now + 5, `iat ${body.iat}`);
});

test('RFC 7662: a refresh token introspects as active and bound to its client', async (t) => {
  const { client, user, refreshToken, introspect } = await issued();
  const response = await introspect(refreshToken, client, { token_type_hint: 'refresh_token' });
  t.is(response.status, 200);
  const body = response.json!;
  t.is(body.active, true);
  t.is(body.sub, user.id);
  t.is(body.client_id, client.clientId);
  t.true(String(body.scope).split(' ').includes('offline_access'));
  t.true(typeof body.exp === 'number' && body.exp > Date.now() / 1000);
  // The same token without a hint (the server searches every kind) gives the same answer.
  const unhinted = await introspect(refreshToken);
  t.is(unhinted.json!.active, true);
  t.is(unhinted.json!.client_id, client.clientId);
});

test('RFC 7662: an unknown token is just { active: false }', async (t) => {
  const { introspect } = await issued();
  const response = await introspect('this-token-was-never-issued-0123456789');
  t.is(response.status, 200);
  t.deepEqual(response.json, { active: false });
});

test('RFC 7662: introspection without client authentication is 401 invalid_client', async (t) => {
  const { config, accessToken, client } = await issued();
  const anonymous = await postForm(endpoints(config).introspection, { token: accessToken });
  // RFC 6749 §5.2 (which RFC 7662 §2.3 points to): invalid_client covers "no client
  // authentication included".
  t.is(anonymous.json!.error, 'invalid_client', anonymous.text);
  t.is(anonymous.status, 401);
  t.false('active' in anonymous.json!);
  t.false(anonymous.text.includes(client.clientId), 'nothing about the token leaks');
});

test('RFC 7662: introspection with bad client credentials is 401 invalid_client', async (t) => {
  const { config, accessToken, client } = await issued();
  const { introspection } = endpoints(config);
  const wrongSecret = await postForm(introspection, { token: accessToken }, basicAuth({ ...client, clientSecret: 'not-the-secret' }));
  t.is(wrongSecret.status, 401);
  t.is(wrongSecret.json!.error, 'invalid_client');
  t.regex(wrongSecret.headers.get('www-authenticate') ?? '', /^Basic /);
  t.false('active' in wrongSecret.json!);
  const unknownClient = await postForm(introspection, { token: accessToken }, basicAuth({ ...client, clientId: 'no-such-client' }));
  t.is(unknownClient.status, 401);
  t.is(unknownClient.json!.error, 'invalid_client');
  // A confidential client naming itself without its secret is not authenticated either.
  const idOnly = await postForm(introspection, { token: accessToken, client_id: client.clientId });
  t.is(idOnly.status, 401);
  t.is(idOnly.json!.error, 'invalid_client');
  t.false('active' in idOnly.json!);
});

test('RFC 7009: a revoked access token introspects inactive and is refused at userinfo', async (t) => {
  const { accessToken, revoke, introspect, userinfo, user, refreshToken } = await issued();
  const before = await userinfo(accessToken);
  t.is(before.status, 200);
  t.is(((await before.json()) as Record<string, unknown>).sub, user.id);

  const response = await revoke(accessToken, undefined, { token_type_hint: 'access_token' });
  t.is(response.status, 200);
  t.is(response.text, '');

  t.deepEqual((await introspect(accessToken)).json, { active: false });
  const after = await userinfo(accessToken);
  t.is(after.status, 401);
  t.regex(after.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  // RFC 7009 §2.1 lets revocation extend to related tokens; the engine's policy revokes every
  // token of the grant (the refresh token too), while keeping the grant record itself.
  t.deepEqual((await introspect(refreshToken)).json, { active: false });
});

test('RFC 7009: a revoked refresh token cannot be used (invalid_grant), and its access tokens die with the grant', async (t) => {
  const { refreshToken, accessToken, revoke, refresh, introspect } = await issued();
  const response = await revoke(refreshToken, undefined, { token_type_hint: 'refresh_token' });
  t.is(response.status, 200);
  t.deepEqual((await introspect(refreshToken)).json, { active: false });
  const grant = await refresh(refreshToken);
  t.is(grant.status, 400);
  t.is(grant.json!.error, 'invalid_grant');
  t.false('access_token' in grant.json!);
  // RFC 7009 §2.1: revoking a refresh token SHOULD also invalidate access tokens of the same grant.
  t.deepEqual((await introspect(accessToken)).json, { active: false });
});

test('RFC 7009: a refresh token still works until revoked (control for the revocation test)', async (t) => {
  const { refreshToken, refresh } = await issued();
  const grant = await refresh(refreshToken);
  t.is(grant.status, 200, grant.text);
  t.is(typeof grant.json!.access_token, 'string');
});

test('RFC 7009: revoking an unknown token answers 200', async (t) => {
  const { revoke } = await issued();
  const response = await revoke('this-token-was-never-issued-0123456789');
  t.is(response.status, 200);
  t.is(response.text, '');
  const hinted = await revoke('another-unknown-token-0123456789', undefined, { token_type_hint: 'refresh_token' });
  t.is(hinted.status, 200);
});

test('RFC 7009: revocation without (or with bad) client authentication revokes nothing', async (t) => {
  const { config, client, accessToken, refreshToken, introspect } = await issued();
  const { revocation } = endpoints(config);
  for (const token of [accessToken, refreshToken]) {
    const anonymous = await postForm(revocation, { token });
    t.true(anonymous.status === 400 || anonymous.status === 401, `status ${anonymous.status}`);
    const wrongSecret = await postForm(revocation, { token }, basicAuth({ ...client, clientSecret: 'not-the-secret' }));
    t.is(wrongSecret.status, 401);
    t.is(wrongSecret.json!.error, 'invalid_client');
    t.is((await introspect(token)).json!.active, true, 'the token stays active');
  }
});

test('RFC 7009: revocation without client authentication is 401 invalid_client', async (t) => {
  const { config, accessToken } = await issued();
  const anonymous = await postForm(endpoints(config).revocation, { token: accessToken });
  // RFC 7009 §2.2.1 uses RFC 6749 §5.2's codes, where invalid_client covers "no client
  // authentication included".
  t.is(anonymous.json!.error, 'invalid_client', anonymous.text);
  t.is(anonymous.status, 401);
});

test("RFC 7009: a client cannot revoke another client's tokens", async (t) => {
  const owner = await issued();
  const other = await registerClient(server);
  for (const token of [owner.accessToken, owner.refreshToken]) {
    const response = await owner.revoke(token, other);
    t.is(response.status, 400);
    t.is(response.json!.error, 'invalid_request');
    const still = await owner.introspect(token);
    t.is(still.json!.active, true, 'the token stays active');
    t.is(still.json!.client_id, owner.client.clientId);
  }
  t.is((await owner.userinfo(owner.accessToken)).status, 200);
  t.is((await owner.refresh(owner.refreshToken)).status, 200);
});

test("RFC 7662 §4: another client learns nothing about a token unless registered for introspection", async (t) => {
  const session = await issued();
  const stranger = await registerClient(server);
  const refused = await session.introspect(session.accessToken, stranger);
  t.is(refused.status, 200);
  t.deepEqual(refused.json, { active: false });

  const resourceServer = await registerClient(server, { introspection: true, redirect_uris: [], response_types: [], grant_types: ['client_credentials'] });
  const allowed = await session.introspect(session.accessToken, resourceServer);
  t.is(allowed.json!.active, true);
  t.is(allowed.json!.sub, session.user.id);
  t.is(allowed.json!.client_id, session.client.clientId);
});
