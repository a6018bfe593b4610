// Pairwise subject identifiers per sector, and the per-client FAPI 2.0 switch (PAR + PKCE +
// DPoP + private_key_jwt, with the engine's FAPI checks), over HTTP with openid-client.
import test from 'ava';
import { decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { createUser, discover, registerClient } from '../helpers/oidc.ts';
import { cryptoKeyPair, discoverWith, exchangeAt, keyPair, preparedRequest, privateKeyOf, refusalOf, signInAt } from '../helpers/protocol.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

test.before(async () => {
  server = await startTestServer({ env: { SIGNING_ALGS: 'RS256 ES256' } });
});
test.after.always(async () => {
  await server?.stop();
});

const OTHER_SECTOR = 'https://other.example.test/callback';
const atOtherSector = (url: string) => url.startsWith('https://other.example.test/');

/** The `sub` a client sees for `user` in its ID token, checked against userinfo. */
async function subjectSeenBy(client: Record<string, unknown>, user: { email: string; password: string }, redirectUri?: string) {
  const registered = await registerClient(server, { first_party: true, ...client });
  const config = await discover(server, registered);
  const request = await preparedRequest(redirectUri ? { redirect_uri: redirectUri } : {});
  const stop = redirectUri ? atOtherSector : undefined;
  const page = await signInAt(oidc.buildAuthorizationUrl(config, request.parameters), user, new Browser(), stop);
  const tokens = await exchangeAt(config, page, request, undefined, stop);
  const sub = tokens.claims()!.sub;
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, sub);
  return userinfo.sub;
}

test('discovery lists public and pairwise subject types', async (t) => {
  const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  t.deepEqual(metadata.subject_types_supported, ['public', 'pairwise']);
});

test('pairwise subjects: one per sector, the same within a sector, never the account id', async (t) => {
  const user = await createUser(server);
  const publicSub = await subjectSeenBy({}, user);
  t.is(publicSub, user.id);
  const first = await subjectSeenBy({ subject_type: 'pairwise' }, user);
  const sameSector = await subjectSeenBy({ subject_type: 'pairwise', redirect_uris: ['https://app.example.test/callback', 'https://app.example.test/other'] }, user);
  const otherSector = await subjectSeenBy({ subject_type: 'pairwise', redirect_uris: [OTHER_SECTOR] }, user, OTHER_SECTOR);
  t.not(first, user.id);
  t.is(sameSector, first);
  t.not(otherSector, first);
  t.not(otherSector, user.id);
  // Another account in the same sector gets another subject.
  t.not(await subjectSeenBy({ subject_type: 'pairwise' }, await createUser(server)), first);
});

test('a pairwise client whose redirect URIs span hosts needs a sector_identifier_uri', async (t) => {
  const error = await t.throwsAsync(registerClient(server, { subject_type: 'pairwise', redirect_uris: ['https://app.example.test/callback', OTHER_SECTOR] }));
  t.regex(error!.message, /sector_identifier_uri/);
});

async function fapiClient() {
  const pair = await keyPair('ES256');
  const registered = await registerClient(server, {
    fapi_profile: '2.0',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    id_token_signed_response_alg: 'ES256',
    jwks: { keys: [pair.jwk] },
    grant_types: ['authorization_code', 'refresh_token'],
    first_party: true,
  });
  const config = await discoverWith(server.issuer, registered.clientId, oidc.PrivateKeyJwt(privateKeyOf(pair)));
  return { config, pair };
}

test('a FAPI 2.0 client signs in with PAR, PKCE, DPoP and private_key_jwt; its tokens are DPoP-bound, its ID token ES256', async (t) => {
  const { config } = await fapiClient();
  const user = await createUser(server);
  const DPoP = oidc.getDPoPHandle(config, cryptoKeyPair(await keyPair('ES256')));
  const request = await preparedRequest({ scope: 'openid offline_access' });
  const url = await oidc.buildAuthorizationUrlWithPAR(config, request.parameters, { DPoP });
  const tokens = await exchangeAt(config, await signInAt(url, user), request, { DPoP });
  t.is(tokens.token_type.toLowerCase(), 'dpop');
  t.is(decodeProtectedHeader(tokens.id_token!).alg, 'ES256');
  t.truthy(tokens.refresh_token);
  t.truthy((await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP })).access_token);
});

test('the switch turns PAR and DPoP binding on even when the metadata says otherwise', async (t) => {
  const pair = await keyPair('ES256');
  const registered = await registerClient(server, {
    fapi_profile: '2.0', token_endpoint_auth_method: 'private_key_jwt', id_token_signed_response_alg: 'ES256', jwks: { keys: [pair.jwk] },
    require_pushed_authorization_requests: false, dpop_bound_access_tokens: false,
  });
  const config = await discoverWith(server.issuer, registered.clientId, oidc.PrivateKeyJwt(privateKeyOf(pair)));
  const plain = refusalOf(await signInAt(oidc.buildAuthorizationUrl(config, (await preparedRequest()).parameters), await createUser(server)));
  t.is(plain.error, 'invalid_request');
});

test('a FAPI 2.0 client is refused a plain request, a pushed request without PKCE, and a token without DPoP', async (t) => {
  const { config } = await fapiClient();
  const user = await createUser(server);
  const plain = refusalOf(await signInAt(oidc.buildAuthorizationUrl(config, (await preparedRequest()).parameters), user));
  t.is(plain.code, undefined);
  t.is(plain.error, 'invalid_request');

  const { code_challenge: _challenge, code_challenge_method: _method, ...withoutPkce } = (await preparedRequest()).parameters;
  const noPkce = await t.throwsAsync(oidc.buildAuthorizationUrlWithPAR(config, withoutPkce));
  t.is((noPkce as oidc.ResponseBodyError).error, 'invalid_request');

  const request = await preparedRequest();
  const page = await signInAt(await oidc.buildAuthorizationUrlWithPAR(config, request.parameters), user);
  const bearer = await t.throwsAsync(exchangeAt(config, page, request));
  t.is((bearer as oidc.ResponseBodyError).error, 'invalid_grant');
});

test('a client without the switch keeps the ordinary rules (a confidential client may skip PKCE)', async (t) => {
  const registered = await registerClient(server);
  const config = await discoverWith(server.issuer, registered.clientId, oidc.ClientSecretBasic(registered.clientSecret!));
  const { code_challenge: _challenge, code_challenge_method: _method, ...withoutPkce } = (await preparedRequest()).parameters;
  t.truthy(await oidc.buildAuthorizationUrlWithPAR(config, withoutPkce));
});

test('the FAPI 2.0 switch refuses registrations that do not meet the profile', async (t) => {
  const pair = await keyPair('ES256');
  const base = { fapi_profile: '2.0', token_endpoint_auth_method: 'private_key_jwt', id_token_signed_response_alg: 'ES256', jwks: { keys: [pair.jwk] } };
  for (const [label, metadata, message] of [
    ['secret auth', { ...base, token_endpoint_auth_method: 'client_secret_basic', jwks: undefined }, /private_key_jwt/],
    ['RS256 ID tokens', { ...base, id_token_signed_response_alg: 'RS256' }, /id_token_signed_response_alg/],
    ['another profile', { ...base, fapi_profile: '1.0' }, /fapi_profile must be "2.0"/],
  ] as const) {
    const error = await t.throwsAsync(registerClient(server, metadata as Record<string, unknown>), undefined, label);
    t.regex(error!.message, message, label);
  }
});
