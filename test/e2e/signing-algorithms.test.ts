// SIGNING_ALGS beyond the RS256 default: every configured algorithm has a key in JWKS, ID
// tokens and resource JWTs are signed with the first one, and a client may ask for another.
import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createResource } from '#src/services/resources.ts';
import { signInNewUser } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const API = 'https://api.example.test';
let server: TestServer;

test.before(async () => {
  server = await startTestServer({ env: { SIGNING_ALGS: 'ES256,EdDSA,PS256' } });
  await createResource(server.keyhold.db, { identifier: API, scopes: ['read'] });
});
test.after.always(async () => {
  await server?.stop();
});

test('JWKS publishes one key per configured algorithm', async (t) => {
  const { keys } = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: Array<{ alg: string; kty: string; crv?: string }> };
  t.deepEqual(keys.map((key) => key.alg).sort(), ['ES256', 'EdDSA', 'PS256']);
  t.like(keys.find((key) => key.alg === 'ES256'), { kty: 'EC', crv: 'P-256' });
  t.like(keys.find((key) => key.alg === 'EdDSA'), { kty: 'OKP', crv: 'Ed25519' });
  t.like(keys.find((key) => key.alg === 'PS256'), { kty: 'RSA' });
});

test('ID tokens and resource access tokens are signed with the first algorithm', async (t) => {
  const { tokens } = await signInNewUser(server, { client: { first_party: true }, parameters: { resource: API, scope: 'openid read' } });
  const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  t.is(decodeProtectedHeader(tokens.id_token!).alg, 'ES256');
  await t.notThrowsAsync(jwtVerify(tokens.id_token!, jwks, { issuer: server.issuer }));
  t.is(decodeProtectedHeader(tokens.access_token).alg, 'ES256');
  await t.notThrowsAsync(jwtVerify(tokens.access_token, jwks, { audience: API, typ: 'at+jwt' }));
});

test('a client registered for EdDSA ID tokens gets them', async (t) => {
  const { tokens } = await signInNewUser(server, { client: { first_party: true, id_token_signed_response_alg: 'EdDSA' } });
  t.is(decodeProtectedHeader(tokens.id_token!).alg, 'EdDSA');
});
