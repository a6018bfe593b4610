// @keyhold/verify against a real Keyhold: discovery, the keys it publishes, the tokens it
// issues (client_credentials and a user's code flow), and every check a downstream API relies
// on — issuer, audience, expiry, nbf, typ at+jwt, allowed algorithms, signature, claim shapes —
// each failing with its own typed error.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { base64url, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import {
  AlgorithmNotAllowedError,
  AudienceMismatchError,
  ClaimsInvalidError,
  createVerifier,
  DiscoveryInvalidError,
  hasPermissions,
  hasRole,
  hasScopes,
  hasTier,
  InvalidTokenError,
  IssuerMismatchError,
  IssuerUnavailableError,
  KeyNotFoundError,
  permissionsOf,
  rolesOf,
  scopesOf,
  SignatureInvalidError,
  tenantOf,
  tierOf,
  TokenExpiredError,
  TokenMalformedError,
  TokenNotYetValidError,
  TokenTypeError,
  VerifyError,
} from '@keyhold/verify';
import { createResource } from '#src/services/resources.ts';
import { grantRole } from '#src/services/roles.ts';
import { signInNewUser } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { accessTokenPayload, clientToken, recordingFetch, serviceClient, signWithKeyholdKey } from '../helpers/verify.ts';

const ORDERS = 'https://orders.example.test';
const BILLING = 'https://billing.example.test';
let server: TestServer;

test.before(async () => {
  // Accounts here carry tiers and roles as data; second factors are test/e2e/mfa*.test.ts's subject.
  server = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
  const { db } = server.keyhold;
  await createResource(db, { identifier: ORDERS, scopes: ['orders:read', 'orders:write'] });
  await createResource(db, { identifier: BILLING, scopes: ['billing:read'] });
  await grantRole(db, { name: 'admin', resource: ORDERS, scopes: ['orders:read', 'orders:write'] });
});
test.after.always(async () => {
  await server?.stop();
});

const ordersVerifier = (options: Partial<Parameters<typeof createVerifier>[0]> = {}) => createVerifier({ issuer: server.issuer, audience: ORDERS, ...options });

test('a client_credentials token verifies; its claims and the readers', async (t) => {
  const client = await serviceClient(server, 'orders:read orders:write');
  const token = await clientToken(server, client, ORDERS, 'orders:read');
  const claims = await ordersVerifier().verify(token);
  t.is(claims.iss, server.issuer);
  t.is(claims.aud, ORDERS);
  t.is(claims.client_id, client.clientId);
  t.is(claims.sub, client.clientId, 'a client on its own is its own subject');
  t.deepEqual(scopesOf(claims), ['orders:read']);
  t.deepEqual(permissionsOf(claims), ['orders:read']);
  t.true(hasScopes(claims, 'orders:read'));
  t.false(hasScopes(claims, 'orders:read', 'orders:write'));
  t.true(hasPermissions(claims, 'orders:read'));
  t.false(hasPermissions(claims, 'orders:write'));
  t.deepEqual(rolesOf(claims), []);
  t.false(hasRole(claims, 'admin'));
  t.is(tierOf(claims), undefined);
});

test("a user's token carries roles, tier and tenant, read by the helpers", async (t) => {
  const { tokens, user, client } = await signInNewUser(server, {
    client: { first_party: true, scope: 'openid orders:read orders:write' },
    user: { roles: ['admin'], tier: 'pro', tenant: 'default' },
    parameters: { resource: ORDERS, scope: 'openid orders:read orders:write' },
  });
  const claims = await ordersVerifier().verify(tokens.access_token);
  t.is(claims.sub, user.id);
  t.is(claims.client_id, client.clientId);
  t.deepEqual(scopesOf(claims).sort(), ['orders:read', 'orders:write']);
  t.true(hasPermissions(claims, 'orders:read', 'orders:write'));
  t.deepEqual(rolesOf(claims), ['admin']);
  t.true(hasRole(claims, 'owner', 'admin'));
  t.false(hasRole(claims, 'owner'));
  t.is(tierOf(claims), 'pro');
  t.true(hasTier(claims, 'pro', 'team'));
  t.false(hasTier(claims, 'enterprise'));
  t.is(tenantOf(claims), 'default');

  // Its ID token is signed by the same key and may even carry the right audience: still not
  // an access token (typ), so an API never accepts it.
  const idToken = tokens.id_token!;
  const error = await t.throwsAsync(createVerifier({ issuer: server.issuer, audience: client.clientId }).verify(idToken), { instanceOf: TokenTypeError });
  t.is(error!.code, 'token_type_invalid');
  t.is(error!.status, 401);
});

test('every claim of an access token, but typ JWT: token_type_invalid', async (t) => {
  const payload = accessTokenPayload(server, ORDERS);
  await t.throwsAsync(ordersVerifier().verify(await signWithKeyholdKey(server, payload, { typ: 'JWT' })), { instanceOf: TokenTypeError });
  await t.throwsAsync(ordersVerifier().verify(await signWithKeyholdKey(server, payload, { typ: undefined })), { instanceOf: TokenTypeError });
  // RFC 9068 §4: the media type form is the same type.
  await t.notThrowsAsync(ordersVerifier().verify(await signWithKeyholdKey(server, payload, { typ: 'application/at+jwt' })));
});

test('a token for another API is refused: audience_mismatch', async (t) => {
  const client = await serviceClient(server, 'orders:read billing:read');
  const billingToken = await clientToken(server, client, BILLING, 'billing:read');
  const error = await t.throwsAsync(ordersVerifier().verify(billingToken), { instanceOf: AudienceMismatchError });
  t.is(error!.code, 'audience_mismatch');
  t.true(error instanceof InvalidTokenError);
  t.true(error instanceof VerifyError);
  // An API with several identifiers accepts any of them.
  await t.notThrowsAsync(createVerifier({ issuer: server.issuer, audience: [ORDERS, BILLING] }).verify(billingToken));
});

test("another issuer's token is refused, even when signed with Keyhold's key", async (t) => {
  const token = await signWithKeyholdKey(server, accessTokenPayload(server, ORDERS, { iss: 'https://evil.example.test' }));
  const error = await t.throwsAsync(ordersVerifier().verify(token), { instanceOf: IssuerMismatchError });
  t.is(error!.code, 'issuer_mismatch');
  // The same claims with the right issuer pass: the issuer is the only difference.
  await t.notThrowsAsync(ordersVerifier().verify(await signWithKeyholdKey(server, accessTokenPayload(server, ORDERS))));
});

test('discovery must describe exactly the configured issuer', async (t) => {
  // Same server, another spelling of its URL (trailing slash): the document names a different issuer.
  const aliased = `${server.issuer}/`;
  const client = await serviceClient(server, 'orders:read');
  const token = await clientToken(server, client, ORDERS, 'orders:read');
  const error = await t.throwsAsync(createVerifier({ issuer: aliased, audience: ORDERS }).verify(token), { instanceOf: DiscoveryInvalidError });
  t.is(error!.status, 503);
});

test('an expired token is refused: token_expired', async (t) => {
  const shortLived = 'https://short-lived.example.test';
  await createResource(server.keyhold.db, { identifier: shortLived, scopes: ['tick'], accessTokenTtl: 1 });
  const client = await serviceClient(server, 'tick');
  const token = await clientToken(server, client, shortLived, 'tick');
  // Expiry is the only thing wrong with it: with a clock tolerance well past its 1 s life, it
  // passes every other check (however long the machine took to get here).
  const { exp } = await createVerifier({ issuer: server.issuer, audience: shortLived, clockTolerance: 3600 }).verify(token);
  // Wait for the clock to pass exp (second resolution).
  while (Math.floor(Date.now() / 1000) <= exp) await new Promise((resolve) => setTimeout(resolve, 200));
  const error = await t.throwsAsync(createVerifier({ issuer: server.issuer, audience: shortLived }).verify(token), { instanceOf: TokenExpiredError });
  t.is(error!.code, 'token_expired');
});

test('a token not valid yet is refused: token_not_yet_valid', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const token = await signWithKeyholdKey(server, accessTokenPayload(server, ORDERS, { nbf: now + 3600 }));
  const error = await t.throwsAsync(ordersVerifier().verify(token), { instanceOf: TokenNotYetValidError });
  t.is(error!.code, 'token_not_yet_valid');
});

test('an algorithm outside the allowed list is refused: algorithm_not_allowed', async (t) => {
  const client = await serviceClient(server, 'orders:read');
  const token = await clientToken(server, client, ORDERS, 'orders:read');
  t.is(decodeProtectedHeader(token).alg, 'RS256');
  const error = await t.throwsAsync(ordersVerifier({ algorithms: ['ES256'] }).verify(token), { instanceOf: AlgorithmNotAllowedError });
  t.is(error!.code, 'algorithm_not_allowed');
  await t.notThrowsAsync(ordersVerifier({ algorithms: ['ES256', 'RS256'] }).verify(token));
});

test("attacker: alg none, and HS256 keyed with Keyhold's public key, are refused before any key is used", async (t) => {
  const payload = accessTokenPayload(server, ORDERS, { scope: 'orders:read orders:write' });
  const unsigned = new UnsecuredJWT(payload).encode();
  const withTyp = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${unsigned.split('.')[1]}.`;
  await t.throwsAsync(ordersVerifier().verify(withTyp), { instanceOf: AlgorithmNotAllowedError });

  const { keys } = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: Array<{ kid: string; n: string }> };
  const confused = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: keys[0]!.kid, typ: 'at+jwt' }).sign(new TextEncoder().encode(keys[0]!.n));
  await t.throwsAsync(ordersVerifier().verify(confused), { instanceOf: AlgorithmNotAllowedError });
  // Asking for HMAC or none is a programming error, not a setting.
  t.throws(() => ordersVerifier({ algorithms: ['HS256' as 'RS256'] }), { instanceOf: TypeError });
  t.throws(() => ordersVerifier({ algorithms: ['none' as 'RS256'] }), { instanceOf: TypeError });
  t.throws(() => ordersVerifier({ algorithms: [] }), { instanceOf: TypeError });
});

test('attacker: a widened scope on a real token breaks its signature', async (t) => {
  const client = await serviceClient(server, 'orders:read orders:write');
  const token = await clientToken(server, client, ORDERS, 'orders:read');
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
  const widened = base64url.encode(JSON.stringify({ ...claims, scope: 'orders:read orders:write', permissions: ['orders:read', 'orders:write'] }));
  const error = await t.throwsAsync(ordersVerifier().verify(`${header}.${widened}.${signature}`), { instanceOf: SignatureInvalidError });
  t.is(error!.code, 'signature_invalid');
});

test('attacker: a key Keyhold does not publish is refused: key_not_found', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const token = await new SignJWT(accessTokenPayload(server, ORDERS)).setProtectedHeader({ alg: 'RS256', kid: 'attacker-key', typ: 'at+jwt' }).sign(privateKey);
  await t.throwsAsync(ordersVerifier().verify(token), { instanceOf: KeyNotFoundError });
  // A key embedded in the header is ignored: only published keys count.
  const embedded = await new SignJWT(accessTokenPayload(server, ORDERS)).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', jwk: await exportJWK(publicKey) }).sign(privateKey);
  await t.throwsAsync(ordersVerifier().verify(embedded), { instanceOf: SignatureInvalidError });
});

test('claims an access token must have, with the right types: claims_invalid', async (t) => {
  const cases: Array<[claim: string, overrides: Record<string, unknown>]> = [
    ['client_id', { client_id: undefined }],
    ['sub', { sub: undefined }],
    ['jti', { jti: undefined }],
    ['exp', { exp: undefined }],
    ['iat', { iat: undefined }],
    ['scope', { scope: ['orders:read'] }],
    ['permissions', { permissions: 'orders:read' }],
    ['roles', { roles: [1] }],
    ['tier', { tier: 3 }],
    ['tenant', { tenant: { id: 'acme' } }],
  ];
  for (const [claim, overrides] of cases) {
    const payload = accessTokenPayload(server, ORDERS, overrides);
    for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete payload[name];
    const error = await t.throwsAsync(ordersVerifier().verify(await signWithKeyholdKey(server, payload)), { instanceOf: ClaimsInvalidError }, claim);
    t.is(error!.claim, claim);
  }
});

test('malformed input is token_malformed, and costs the issuer no request', async (t) => {
  const recorder = recordingFetch();
  const verifier = ordersVerifier({ fetch: recorder.fetch });
  for (const input of ['', 'not-a-jwt', 'a.b.c', 'x'.repeat(5000)]) {
    const error = await t.throwsAsync(verifier.verify(input), { instanceOf: TokenMalformedError });
    t.is(error!.status, 401);
  }
  t.deepEqual(recorder.urls, []);
});

test('keys and discovery are fetched once and cached across verifications', async (t) => {
  const client = await serviceClient(server, 'orders:read');
  const tokens = await Promise.all([1, 2, 3].map(() => clientToken(server, client, ORDERS, 'orders:read')));
  const recorder = recordingFetch();
  const verifier = ordersVerifier({ fetch: recorder.fetch });
  // Concurrent first verifications share one discovery and one key set request.
  await Promise.all(tokens.map((token) => verifier.verify(token)));
  for (const token of tokens) await verifier.verify(token);
  t.is(recorder.count('/.well-known/openid-configuration'), 1);
  t.is(recorder.count('/jwks'), 1);
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  return port;
}

test('an unreachable issuer is issuer_unavailable (503), retried only after the cool-down', async (t) => {
  const port = await closedPort();
  const recorder = recordingFetch();
  const client = await serviceClient(server, 'orders:read');
  const token = await clientToken(server, client, ORDERS, 'orders:read');
  const verifier = createVerifier({ issuer: `http://127.0.0.1:${port}`, audience: ORDERS, fetch: recorder.fetch });
  for (let attempt = 0; attempt < 3; attempt++) {
    const error = await t.throwsAsync(verifier.verify(token), { instanceOf: IssuerUnavailableError });
    t.is(error!.status, 503);
  }
  t.is(recorder.urls.length, 1, 'one discovery attempt per cool-down, not one per token');
});

test('keys unreachable after discovery: issuer_unavailable, asked again only after the cool-down', async (t) => {
  // An issuer whose discovery document works but whose jwks_uri does not answer.
  const deadJwks = `http://127.0.0.1:${await closedPort()}/jwks`;
  const issuer = createServer((request, response) => {
    const self = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
    response.setHeader('content-type', 'application/json');
    response.end(request.url === '/.well-known/openid-configuration' ? JSON.stringify({ issuer: self, jwks_uri: deadJwks }) : '{}');
  });
  await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
  t.teardown(() => issuer.close());
  const issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256');
  const token = await new SignJWT(accessTokenPayload(server, ORDERS, { iss: issuerUrl })).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' }).sign(privateKey);

  const recorder = recordingFetch();
  const verifier = createVerifier({ issuer: issuerUrl, audience: ORDERS, fetch: recorder.fetch });
  for (let attempt = 0; attempt < 3; attempt++) await t.throwsAsync(verifier.verify(token), { instanceOf: IssuerUnavailableError });
  t.deepEqual(recorder.urls, [`${issuerUrl}/.well-known/openid-configuration`, deadJwks]);
  // Without a cool-down every verification asks again: the limit above is the cool-down's doing.
  const eager = recordingFetch();
  const eagerVerifier = createVerifier({ issuer: issuerUrl, audience: ORDERS, fetch: eager.fetch, cooldownDuration: 0 });
  for (let attempt = 0; attempt < 2; attempt++) await t.throwsAsync(eagerVerifier.verify(token), { instanceOf: IssuerUnavailableError });
  t.is(eager.count('/jwks'), 2);
});

test('options are checked when the verifier is created', (t) => {
  t.throws(() => createVerifier({ issuer: 'not a url', audience: ORDERS }), { instanceOf: TypeError });
  t.throws(() => createVerifier({ issuer: server.issuer, audience: '' }), { instanceOf: TypeError });
  t.throws(() => createVerifier({ issuer: server.issuer, audience: [] }), { instanceOf: TypeError });
  t.throws(() => createVerifier({ issuer: server.issuer, audience: ORDERS, cooldownDuration: -1 }), { instanceOf: TypeError });
});
