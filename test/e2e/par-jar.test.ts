// PAR (RFC 9126), signed request objects (RFC 9101, request_uri only from PAR), and client
// authentication with private_key_jwt and client_secret_jwt (RFC 7523), over HTTP with
// openid-client; the attacker's side: a reused request_uri, an unsigned or foreign-signed
// request object, a forged or replayed client assertion.
import { randomUUID } from 'node:crypto';
import test from 'ava';
import { SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { createUser, registerClient, REDIRECT_URI } from '../helpers/oidc.ts';
import { discoverWith, exchangeAt, keyPair, preparedRequest, privateKeyOf, refusalOf, signInAt } from '../helpers/protocol.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let featuresOff: TestServer;

test.before(async () => {
  [server, featuresOff] = await Promise.all([startTestServer(), startTestServer({ redis: false, env: { PAR: 'false', REQUEST_OBJECTS: 'false' } })]);
});
test.after.always(async () => {
  await Promise.all([server?.stop(), featuresOff?.stop()]);
});

async function metadataOf(target: TestServer) {
  return (await (await fetch(`${target.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
}

async function privateKeyJwtClient(extra: Record<string, unknown> = {}) {
  const pair = await keyPair('ES256');
  const client = await registerClient(server, { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [pair.jwk] }, ...extra });
  const config = await discoverWith(server.issuer, client.clientId, oidc.PrivateKeyJwt(privateKeyOf(pair)));
  return { client, pair, config };
}

test('discovery advertises PAR, signed request objects and the JWT client authentications exactly when on', async (t) => {
  const on = await metadataOf(server);
  t.is(on.pushed_authorization_request_endpoint, `${server.issuer}/request`);
  t.is(on.request_parameter_supported, true);
  t.is(on.request_uri_parameter_supported, false);
  t.false((on.request_object_signing_alg_values_supported as string[]).includes('none'));
  t.true((on.token_endpoint_auth_methods_supported as string[]).includes('private_key_jwt'));
  t.true((on.token_endpoint_auth_methods_supported as string[]).includes('client_secret_jwt'));
  const off = await metadataOf(featuresOff);
  t.is(off.pushed_authorization_request_endpoint, undefined);
  t.is(off.request_parameter_supported, undefined);
  t.is(off.request_object_signing_alg_values_supported, undefined);
  const pushed = await fetch(`${featuresOff.issuer}/request`, { method: 'POST', body: new URLSearchParams({ client_id: 'x' }) });
  t.is(pushed.status, 404);
});

test('a pushed authorization request signs in; its request_uri cannot be used again', async (t) => {
  const client = await registerClient(server);
  const config = await discoverWith(server.issuer, client.clientId, oidc.ClientSecretBasic(client.clientSecret!));
  const user = await createUser(server);
  const request = await preparedRequest();
  const url = await oidc.buildAuthorizationUrlWithPAR(config, request.parameters);
  t.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
  const page = await signInAt(url, user);
  const tokens = await exchangeAt(config, page, request);
  t.is(tokens.claims()?.sub, user.id);

  const reused = refusalOf(await new Browser().get(url.toString(), (next) => next.startsWith(REDIRECT_URI)));
  t.is(reused.code, undefined);
  t.is(reused.error, 'invalid_request_uri');
});

test('a client with require_pushed_authorization_requests is refused a plain request, served a pushed one', async (t) => {
  const client = await registerClient(server, { require_pushed_authorization_requests: true });
  const config = await discoverWith(server.issuer, client.clientId, oidc.ClientSecretBasic(client.clientSecret!));
  const user = await createUser(server);
  const plain = await preparedRequest();
  const refused = refusalOf(await signInAt(oidc.buildAuthorizationUrl(config, plain.parameters), user));
  t.is(refused.code, undefined);
  t.is(refused.error, 'invalid_request');

  const pushed = await preparedRequest();
  const page = await signInAt(await oidc.buildAuthorizationUrlWithPAR(config, pushed.parameters), user);
  t.truthy((await exchangeAt(config, page, pushed)).access_token);
});

test('REQUIRE_PAR on a server requires it of every client and says so in discovery', async (t) => {
  const strict = await startTestServer({ redis: false, env: { REQUIRE_PAR: 'true' } });
  try {
    t.is((await metadataOf(strict)).require_pushed_authorization_requests, true);
    const client = await registerClient(strict);
    const config = await discoverWith(strict.issuer, client.clientId, oidc.ClientSecretBasic(client.clientSecret!));
    const refused = refusalOf(await signInAt(oidc.buildAuthorizationUrl(config, (await preparedRequest()).parameters), await createUser(strict)));
    t.is(refused.error, 'invalid_request');
  } finally {
    await strict.stop();
  }
});

test('private_key_jwt client: a signed request object through PAR, by value, and the token request', async (t) => {
  const { pair, config } = await privateKeyJwtClient();
  const user = await createUser(server);
  const browser = new Browser();

  const pushed = await preparedRequest();
  const { searchParams } = await oidc.buildAuthorizationUrlWithJAR(config, pushed.parameters, privateKeyOf(pair));
  const pushedUrl = await oidc.buildAuthorizationUrlWithPAR(config, searchParams);
  const tokens = await exchangeAt(config, await signInAt(pushedUrl, user, browser), pushed);
  t.is(tokens.claims()?.sub, user.id);

  const byValue = await preparedRequest();
  const url = await oidc.buildAuthorizationUrlWithJAR(config, byValue.parameters, privateKeyOf(pair));
  t.truthy(url.searchParams.get('request'));
  t.truthy((await exchangeAt(config, await signInAt(url, user, browser), byValue)).access_token);
});

test('an unsigned request object, one signed by another key, and a foreign request_uri are refused', async (t) => {
  const { client, config } = await privateKeyJwtClient();
  const user = await createUser(server);
  const request = await preparedRequest();
  const claims = { ...request.parameters, client_id: client.clientId, response_type: 'code' };
  const unsigned = new UnsecuredJWT(claims).setIssuer(client.clientId).setAudience(server.issuer).setIssuedAt().setExpirationTime('1m').encode();
  const unsignedRefusal = refusalOf(await signInAt(`${server.issuer}/auth?${new URLSearchParams({ client_id: client.clientId, request: unsigned })}`, user));
  t.is(unsignedRefusal.code, undefined);
  t.is(unsignedRefusal.error, 'invalid_request_object');

  const stranger = await keyPair('ES256');
  const forged = await oidc.buildAuthorizationUrlWithJAR(config, request.parameters, privateKeyOf(stranger));
  const forgedRefusal = refusalOf(await signInAt(forged, user));
  t.is(forgedRefusal.code, undefined);
  t.is(forgedRefusal.error, 'invalid_request_object');

  // Pushed by the authenticated client itself, an unsigned object is refused at PAR too.
  const pushedUnsigned = await t.throwsAsync(oidc.buildAuthorizationUrlWithPAR(config, { request: unsigned }));
  t.is((pushedUnsigned as oidc.ResponseBodyError).error, 'invalid_request_object');

  const foreignUri = refusalOf(await signInAt(`${server.issuer}/auth?${new URLSearchParams({ client_id: client.clientId, request_uri: 'https://attacker.example.test/request.jwt' })}`, user));
  t.is(foreignUri.code, undefined);
  t.is(foreignUri.error, 'request_uri_not_supported');
});

test('client_secret_jwt client signs in and refreshes', async (t) => {
  const client = await registerClient(server, { token_endpoint_auth_method: 'client_secret_jwt', first_party: true });
  const config = await discoverWith(server.issuer, client.clientId, oidc.ClientSecretJwt(client.clientSecret!));
  const request = await preparedRequest({ scope: 'openid offline_access' });
  const tokens = await exchangeAt(config, await signInAt(oidc.buildAuthorizationUrl(config, request.parameters), await createUser(server)), request);
  t.truthy(tokens.refresh_token);
  t.truthy((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).access_token);
});

async function assertionFor(clientId: string, key: CryptoKey, kid: string, jti = randomUUID()) {
  return new SignJWT({ jti }).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(clientId).setSubject(clientId).setAudience(server.issuer).setIssuedAt().setExpirationTime('1m').sign(key);
}

async function clientCredentialsWith(clientId: string, assertion: string) {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('a client assertion signed by another key, or replayed, is refused (invalid_client)', async (t) => {
  const { client, pair } = await privateKeyJwtClient({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
  const assertion = await assertionFor(client.clientId, pair.privateKey, pair.jwk.kid!);
  t.is((await clientCredentialsWith(client.clientId, assertion)).status, 200);
  const replay = await clientCredentialsWith(client.clientId, assertion);
  t.is(replay.status, 401);
  t.is(replay.body.error, 'invalid_client');

  const stranger = await keyPair('ES256');
  const forged = await clientCredentialsWith(client.clientId, await assertionFor(client.clientId, stranger.privateKey, pair.jwk.kid!));
  t.is(forged.status, 401);
  t.is(forged.body.error, 'invalid_client');
});
