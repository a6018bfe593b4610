// Two Keyhold nodes sharing Postgres and Redis, as behind a load balancer without sticky
// sessions: whatever one node issues, the other honours.
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { authorize, createUser, discover, registerClient, silentAuthorization } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let nodeA: TestServer;
let nodeB: TestServer;
let nodeBOrigin: string;

test.before(async () => {
  nodeA = await startTestServer();
  // Same issuer, database, Redis prefix and secret: a second replica of the same deployment.
  nodeB = await startTestServer({ databaseUrl: nodeA.databaseUrl, redisPrefix: nodeA.redisPrefix, env: { ISSUER: nodeA.issuer } });
  nodeBOrigin = nodeB.issuer;
});
test.after.always(async () => {
  await nodeB?.stop();
  await nodeA?.stop();
});

/** The client's view of node B: the same metadata, every endpoint reached at B's address. */
async function configurationAtNodeB(configA: oidc.Configuration, client: { clientId: string; clientSecret?: string }) {
  const metadata = configA.serverMetadata();
  const rewritten = Object.fromEntries(
    Object.entries(metadata).map(([key, value]) => [key, typeof value === 'string' && key !== 'issuer' ? value.replace(nodeA.issuer, nodeBOrigin) : value]),
  ) as oidc.ServerMetadata;
  const config = new oidc.Configuration(rewritten, client.clientId, client.clientSecret, oidc.ClientSecretBasic(client.clientSecret!));
  oidc.allowInsecureRequests(config);
  return config;
}

test('a code from node A is redeemed at node B, and its refresh token rotates at B', async (t) => {
  const client = await registerClient(nodeA, { first_party: true });
  const user = await createUser(nodeA);
  const configA = await discover(nodeA, client);
  const configB = await configurationAtNodeB(configA, client);

  const result = await authorize(configA, user, { scope: 'openid offline_access', prompt: 'consent' });
  const tokens = await oidc.authorizationCodeGrant(configB, result.callbackUrl, { pkceCodeVerifier: result.verifier, expectedState: result.state, expectedNonce: result.nonce });
  t.is(tokens.claims()!.sub, user.id);
  t.truthy(tokens.refresh_token);

  const rotated = await oidc.refreshTokenGrant(configB, tokens.refresh_token!);
  t.not(rotated.refresh_token, tokens.refresh_token);
  // And back at A: the rotation made at B is visible there (the old token is spent).
  const reuse = await t.throwsAsync(oidc.refreshTokenGrant(configA, tokens.refresh_token!));
  t.is((reuse as oidc.ResponseBodyError).error, 'invalid_grant');
  // The reuse revoked that grant; a fresh login shows an access token from B working at A.
  const again = await authorize(configA, user, { scope: 'openid' }, result.browser);
  const fresh = await oidc.authorizationCodeGrant(configB, again.callbackUrl, { pkceCodeVerifier: again.verifier, expectedState: again.state, expectedNonce: again.nonce });
  const userinfo = await oidc.fetchUserInfo(configA, fresh.access_token, user.id);
  t.is(userinfo.sub, user.id);
});

test('a session cookie set by node A is honoured by node B (prompt=none, no login page)', async (t) => {
  const client = await registerClient(nodeA, { first_party: true });
  const user = await createUser(nodeA);
  const configA = await discover(nodeA, client);
  const browser = new Browser();
  await authorize(configA, user, {}, browser);

  const configB = await configurationAtNodeB(configA, client);
  t.true(configB.serverMetadata().authorization_endpoint!.startsWith(nodeBOrigin));
  const callback = await silentAuthorization(configB, browser, { state: 'node-b' });
  t.truthy(callback.searchParams.get('code'));
  t.is(callback.searchParams.get('error'), null);
});
