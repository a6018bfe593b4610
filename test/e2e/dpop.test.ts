// DPoP (RFC 9449) over HTTP with openid-client: sender-constrained access tokens, DPoP-bound
// refresh tokens of a public client across rotation, server nonces, and the attacker's side:
// a replayed proof (on the same node and on another node of the deployment), a proof made
// with another key, a bound token presented as a bearer token.
import test from 'ava';
import * as oidc from 'openid-client';
import { createUser, registerClient } from '../helpers/oidc.ts';
import { cryptoKeyPair, discoverWith, dpopProof, exchangeAt, keyPair, preparedRequest, signInAt, type KeyPair } from '../helpers/protocol.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let nodeA: TestServer;
let nodeB: TestServer;
let noDpop: TestServer;

test.before(async () => {
  nodeA = await startTestServer();
  [nodeB, noDpop] = await Promise.all([
    // A second replica: same issuer, database, Redis prefix and secret, behind a proxy that
    // forwards the public host (proofs name the public URL, not the node's address).
    startTestServer({ databaseUrl: nodeA.databaseUrl, redisPrefix: nodeA.redisPrefix, env: { ISSUER: nodeA.issuer, TRUST_PROXY: 'true' } }),
    startTestServer({ redis: false, env: { DPOP: 'false' } }),
  ]);
});
test.after.always(async () => {
  await Promise.all([nodeB?.stop(), noDpop?.stop()]);
  await nodeA?.stop();
});

/** A public SPA-like client signed in with DPoP: its configuration, key and tokens. */
async function dpopSession(server: TestServer, pair?: KeyPair, client: Record<string, unknown> = {}) {
  const registered = await registerClient(server, { token_endpoint_auth_method: 'none', first_party: true, ...client });
  const config = await discoverWith(server.issuer, registered.clientId, oidc.None());
  const key = pair ?? (await keyPair('ES256'));
  const DPoP = oidc.getDPoPHandle(config, cryptoKeyPair(key));
  const user = await createUser(server);
  const request = await preparedRequest({ scope: 'openid email offline_access' });
  const tokens = await exchangeAt(config, await signInAt(oidc.buildAuthorizationUrl(config, request.parameters), user), request, { DPoP });
  return { config, key, DPoP, user, tokens, clientId: registered.clientId };
}

/** Userinfo at `target`; at a replica, through the "proxy": the public host forwarded. */
async function userinfoWithProof(target: string, accessToken: string, proof: string, publicIssuer = target) {
  const forwarded: Record<string, string> = publicIssuer === target ? {} : { 'x-forwarded-host': new URL(publicIssuer).host, 'x-forwarded-proto': 'http' };
  return fetch(`${target}/me`, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof, ...forwarded } });
}

test('discovery lists DPoP algorithms exactly when DPoP is on', async (t) => {
  const on = (await (await fetch(`${nodeA.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  t.true(Array.isArray(on.dpop_signing_alg_values_supported) && (on.dpop_signing_alg_values_supported as string[]).includes('ES256'));
  const off = (await (await fetch(`${noDpop.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  t.is(off.dpop_signing_alg_values_supported, undefined);
});

test('a DPoP-bound access token works with its key, not as a bearer token, not with another key', async (t) => {
  const { config, DPoP, user, tokens } = await dpopSession(nodeA);
  t.is(tokens.token_type.toLowerCase(), 'dpop');
  t.is((await oidc.fetchUserInfo(config, tokens.access_token, user.id, { DPoP })).sub, user.id);

  const asBearer = await fetch(`${nodeA.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(asBearer.status, 401);

  const stranger = await keyPair('ES256');
  const wrongKey = await userinfoWithProof(nodeA.issuer, tokens.access_token, await dpopProof(stranger, { htm: 'GET', htu: `${nodeA.issuer}/me`, accessToken: tokens.access_token }));
  t.is(wrongKey.status, 401);
});

test('a DPoP proof is accepted once: replayed on the same node or on another node it is refused', async (t) => {
  const { key, tokens } = await dpopSession(nodeA);
  const proof = await dpopProof(key, { htm: 'GET', htu: `${nodeA.issuer}/me`, accessToken: tokens.access_token });
  t.is((await userinfoWithProof(nodeA.issuer, tokens.access_token, proof)).status, 200);
  const sameNode = await userinfoWithProof(nodeA.issuer, tokens.access_token, proof);
  t.is(sameNode.status, 401);
  t.regex(sameNode.headers.get('www-authenticate') ?? '', /invalid_token/);

  // Node B accepts a fresh proof for the public URL (so what it refuses below is the replay).
  const forB = await dpopProof(key, { htm: 'GET', htu: `${nodeA.issuer}/me`, accessToken: tokens.access_token });
  t.is((await userinfoWithProof(nodeB.issuer, tokens.access_token, forB, nodeA.issuer)).status, 200);
  const fresh = await dpopProof(key, { htm: 'GET', htu: `${nodeA.issuer}/me`, accessToken: tokens.access_token });
  t.is((await userinfoWithProof(nodeA.issuer, tokens.access_token, fresh)).status, 200);
  const replayedAtB = await userinfoWithProof(nodeB.issuer, tokens.access_token, fresh, nodeA.issuer);
  t.is(replayedAtB.status, 401, 'node B knows node A saw it');
});

test('a public client\'s refresh token is DPoP-bound and stays bound across rotations', async (t) => {
  const { config, DPoP, tokens } = await dpopSession(nodeA);
  t.truthy(tokens.refresh_token);
  const first = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
  t.is(first.token_type.toLowerCase(), 'dpop');
  t.not(first.refresh_token, tokens.refresh_token);
  const second = await oidc.refreshTokenGrant(config, first.refresh_token!, undefined, { DPoP });
  t.truthy(second.access_token);

  const stolenWithOtherKey = await t.throwsAsync(oidc.refreshTokenGrant(config, second.refresh_token!, undefined, { DPoP: oidc.getDPoPHandle(config, cryptoKeyPair(await keyPair('ES256'))) }));
  t.is((stolenWithOtherKey as oidc.ResponseBodyError).error, 'invalid_grant');
});

test('a DPoP-bound refresh token without a proof is refused', async (t) => {
  const { config, tokens } = await dpopSession(nodeA);
  const withoutProof = await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!));
  t.is((withoutProof as oidc.ResponseBodyError).error, 'invalid_grant');
});

test('a replayed proof at the token endpoint is refused', async (t) => {
  const { tokens, key, clientId } = await dpopSession(nodeA);
  const proof = await dpopProof(key, { htm: 'POST', htu: `${nodeA.issuer}/token` });
  const refresh = (refreshToken: string) =>
    fetch(`${nodeA.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
    });
  const first = await refresh(tokens.refresh_token!);
  t.is(first.status, 200);
  const { refresh_token: next } = (await first.json()) as { refresh_token: string };
  const replayed = await refresh(next);
  t.is(replayed.status, 400);
  t.is(((await replayed.json()) as { error: string }).error, 'invalid_grant');
});

test('a client with dpop_bound_access_tokens cannot get a bearer token', async (t) => {
  const registered = await registerClient(nodeA, { token_endpoint_auth_method: 'none', dpop_bound_access_tokens: true });
  const config = await discoverWith(nodeA.issuer, registered.clientId, oidc.None());
  const request = await preparedRequest();
  const page = await signInAt(oidc.buildAuthorizationUrl(config, request.parameters), await createUser(nodeA));
  const refused = await t.throwsAsync(exchangeAt(config, page, request));
  t.is((refused as oidc.ResponseBodyError).error, 'invalid_grant');
});

test('with DPOP_REQUIRE_NONCE a proof without the server nonce gets use_dpop_nonce; openid-client retries with it; any node accepts the nonce', async (t) => {
  const strict = await startTestServer({ env: { DPOP_REQUIRE_NONCE: 'true' } });
  const strictReplica = await startTestServer({ databaseUrl: strict.databaseUrl, redisPrefix: strict.redisPrefix, env: { ISSUER: strict.issuer, DPOP_REQUIRE_NONCE: 'true', TRUST_PROXY: 'true' } });
  try {
    const { config, DPoP, user, tokens, key, clientId } = await dpopSession(strict);
    t.is((await oidc.fetchUserInfo(config, tokens.access_token, user.id, { DPoP })).sub, user.id);
    const noNonce = await fetch(`${strict.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(key, { htm: 'POST', htu: `${strict.issuer}/token` }) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: clientId }),
    });
    t.is(noNonce.status, 400);
    t.is(((await noNonce.json()) as { error: string }).error, 'use_dpop_nonce');
    const nonce = noNonce.headers.get('dpop-nonce');
    t.truthy(nonce);
    // The nonce node A gave is good at node B (derived from the shared secret, not stored).
    const withNonce = await fetch(`${strictReplica.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-host': new URL(strict.issuer).host, 'x-forwarded-proto': 'http', dpop: await dpopProof(key, { htm: 'POST', htu: `${strict.issuer}/token`, nonce: nonce! }) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: clientId }),
    });
    t.is(withNonce.status, 200, JSON.stringify(await withNonce.clone().json()));
  } finally {
    await strictReplica.stop();
    await strict.stop();
  }
});
