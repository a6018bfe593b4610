// Token issuance: client_credentials, RFC 8707 resources as RFC 9068 JWTs, opaque tokens at
// userinfo, and refresh rotation with reuse detection, against both engine-state stores.
import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { createResource } from '#src/services/resources.ts';
import { createRole, grantRole } from '#src/services/roles.ts';
import { registerClient, signInNewUser, tokenRequest } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const servers: Record<'redis' | 'sql', TestServer> = {} as never;
const API = 'https://api.example.test';

test.before(async () => {
  // Accounts here carry tiers and roles as data; second factors are test/e2e/mfa*.test.ts's subject.
  const env = { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' };
  [servers.redis, servers.sql] = await Promise.all([startTestServer({ env }), startTestServer({ redis: false, env })]);
  for (const server of Object.values(servers)) {
    await createResource(server.keyhold.db, { identifier: API, scopes: ['orders:read', 'orders:write'] });
    await createResource(server.keyhold.db, { identifier: 'https://billing.example.test', scopes: ['billing:read'] });
    await createRole(server.keyhold.db, { name: 'editor' });
    await grantRole(server.keyhold.db, { name: 'editor', resource: API, scopes: ['orders:read'] });
  }
});
test.after.always(async () => {
  await Promise.all(Object.values(servers).map((server) => server?.stop()));
});

async function offlineSession(server: TestServer) {
  const { client, user, config, tokens } = await signInNewUser(server, { client: { first_party: true }, parameters: { scope: 'openid offline_access', prompt: 'consent' } });
  if (!tokens.refresh_token) throw new Error('no refresh token issued');
  return { client, user, config, refreshToken: tokens.refresh_token };
}

for (const store of ['redis', 'sql'] as const) {
  test(`${store}: client_credentials for a resource is an RFC 9068 JWT verifiable with JWKS`, async (t) => {
    const server = servers[store];
    const client = await registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'orders:read' });
    const response = await tokenRequest(server, client, { grant_type: 'client_credentials', resource: API, scope: 'orders:read' });
    t.is(response.status, 200, JSON.stringify(response.body));
    const accessToken = response.body.access_token as string;
    t.is(decodeProtectedHeader(accessToken).typ, 'at+jwt');
    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    const { payload } = await jwtVerify(accessToken, jwks, { issuer: server.issuer, audience: API, typ: 'at+jwt' });
    t.is(payload.client_id, client.clientId);
    t.is(payload.sub, client.clientId);
    t.is(payload.scope, 'orders:read');
    t.deepEqual(payload.permissions, ['orders:read']);
  });

  test(`${store}: client_credentials never grants a scope the resource does not define`, async (t) => {
    const server = servers[store];
    // A scope another API defines is left out of the token (RFC 6749 §3.3); one nobody
    // defines is refused.
    const open = await registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'orders:read billing:read' });
    const narrowed = await tokenRequest(server, open, { grant_type: 'client_credentials', resource: API, scope: 'orders:read billing:read' });
    t.is(narrowed.status, 200);
    t.is(narrowed.body.scope, 'orders:read');
    const { payload } = await jwtVerify(narrowed.body.access_token as string, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { audience: API });
    t.is(payload.scope, 'orders:read');

    const undefinedScope = await tokenRequest(server, open, { grant_type: 'client_credentials', resource: API, scope: 'orders:read orders:delete' });
    t.is(undefinedScope.status, 400);
    t.is(undefinedScope.body.error, 'invalid_scope');

    const unknown = await tokenRequest(server, open, { grant_type: 'client_credentials', resource: 'https://unknown.example.test', scope: 'orders:read' });
    t.is(unknown.status, 400);
    t.is(unknown.body.error, 'invalid_target');
  });

  test(`${store}: a user's token for a resource carries sub, client_id, scope, roles, tier and tenant`, async (t) => {
    const server = servers[store];
    const { client, user, tokens } = await signInNewUser(server, {
      client: { first_party: true, scope: 'openid email profile orders:read' },
      user: { roles: ['admin', 'editor'], tier: 'pro', tenant: 'acme' },
      parameters: { resource: API, scope: 'openid orders:read' },
    });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: API, typ: 'at+jwt' });
    t.is(payload.sub, user.id);
    t.is(payload.client_id, client.clientId);
    t.is(payload.scope, 'orders:read');
    t.deepEqual(payload.permissions, ['orders:read']);
    t.deepEqual(payload.roles, ['admin', 'editor']);
    t.is(payload.tier, 'pro');
    t.is(payload.tenant, 'acme');
  });

  test(`${store}: a token without resource is opaque and works at userinfo`, async (t) => {
    const server = servers[store];
    const { user, config, tokens } = await signInNewUser(server, { client: { first_party: true } });
    t.false(tokens.access_token.split('.').length === 3, 'opaque access token');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
    t.is(userinfo.sub, user.id);
  });

  test(`${store}: refresh rotates on every use; reusing a rotated token revokes the grant`, async (t) => {
    const server = servers[store];
    const { config, refreshToken } = await offlineSession(server);
    const first = await oidc.refreshTokenGrant(config, refreshToken);
    t.truthy(first.refresh_token);
    t.not(first.refresh_token, refreshToken);
    const second = await oidc.refreshTokenGrant(config, first.refresh_token!);
    t.not(second.refresh_token, first.refresh_token);

    const reuse = await t.throwsAsync(oidc.refreshTokenGrant(config, refreshToken));
    t.is((reuse as oidc.ResponseBodyError).error, 'invalid_grant');
    // The whole family is gone: the newest refresh token and its access token too.
    const afterReuse = await t.throwsAsync(oidc.refreshTokenGrant(config, second.refresh_token!));
    t.is((afterReuse as oidc.ResponseBodyError).error, 'invalid_grant');
    await t.throwsAsync(oidc.fetchUserInfo(config, second.access_token, oidc.skipSubjectCheck));
  });

  test(`${store}: concurrent refreshes of one token never yield two live successors`, async (t) => {
    const server = servers[store];
    for (let round = 0; round < 5; round++) {
      const { config, refreshToken } = await offlineSession(server);
      const attempts = await Promise.allSettled(Array.from({ length: 4 }, () => oidc.refreshTokenGrant(config, refreshToken)));
      const successors = attempts.flatMap((attempt) => (attempt.status === 'fulfilled' && attempt.value.refresh_token ? [attempt.value.refresh_token] : []));
      for (const attempt of attempts) {
        if (attempt.status === 'rejected') t.is((attempt.reason as oidc.ResponseBodyError).error, 'invalid_grant');
      }
      const live = await Promise.allSettled(successors.map((successor) => oidc.refreshTokenGrant(config, successor)));
      t.true(live.filter((result) => result.status === 'fulfilled').length <= 1, `round ${round}: ${successors.length} successors, more than one live`);
    }
  });

  test(`${store}: a refresh token is bound to its client`, async (t) => {
    const server = servers[store];
    const { refreshToken } = await offlineSession(server);
    const other = await registerClient(server);
    const response = await tokenRequest(server, other, { grant_type: 'refresh_token', refresh_token: refreshToken });
    t.is(response.status, 400);
    t.is(response.body.error, 'invalid_grant');
  });
}
