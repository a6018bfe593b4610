// @keyhold/verify across a real key rotation (keyhold keys rotate: published, then signing,
// the old key retired but still published): a token with a kid the cached key set lacks makes
// the verifier fetch the keys exactly once, tokens signed before keep verifying, and unknown
// kids cannot make it hammer the issuer (jose's cool-down).
import test from 'ava';
import { decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { createVerifier, KeyNotFoundError } from '@keyhold/verify';
import { createResource } from '#src/services/resources.ts';
import { listKeys, rotateKeys } from '#src/services/signing-keys.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { accessTokenPayload, clientToken, recordingFetch, serviceClient } from '../helpers/verify.ts';

const ORDERS = 'https://orders.example.test';
const JWKS_PATH = '/jwks';
let server: TestServer;

test.before(async () => {
  // Long enough for the reload and a token request between rotation and activation on a
  // loaded machine; the test waits for the activation time itself.
  server = await startTestServer({ env: { KEY_ACTIVATION_DELAY: '4' } });
  await createResource(server.keyhold.db, { identifier: ORDERS, scopes: ['orders:read'] });
});
test.after.always(async () => {
  await server?.stop();
});

async function forgedToken(): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT(accessTokenPayload(server, ORDERS)).setProtectedHeader({ alg: 'RS256', kid: 'not-a-keyhold-kid', typ: 'at+jwt' }).sign(privateKey);
}

test.serial('after a rotation, the new kid is fetched once; old tokens keep verifying', async (t) => {
  const { db, keyOptions, engine } = server.keyhold;
  const client = await serviceClient(server, 'orders:read');
  const issue = () => clientToken(server, client, ORDERS, 'orders:read');
  const recorder = recordingFetch();
  // No cool-down here, so that the refetch does not depend on how long the rotation takes.
  const verifier = createVerifier({ issuer: server.issuer, audience: ORDERS, cooldownDuration: 0, fetch: recorder.fetch });

  const before = await issue();
  const [original] = await listKeys(db);
  t.is(decodeProtectedHeader(before).kid, original!.kid);
  await verifier.verify(before);
  t.is(recorder.count(JWKS_PATH), 1);

  const [created] = await rotateKeys(db, keyOptions);
  t.true(await engine.reload());
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(created!.activatesAt) + 250 - Date.now())));
  t.true(await engine.reload());
  const after = await issue();
  t.is(decodeProtectedHeader(after).kid, created!.kid);

  // The cached key set predates the new key: one fetch, shared by concurrent verifications.
  const results = await Promise.all([after, after, after].map((token) => verifier.verify(token)));
  t.is(results.length, 3);
  t.is(recorder.count(JWKS_PATH), 2);
  // The retired key is still published (and now cached): no fetch for the old token.
  await t.notThrowsAsync(verifier.verify(before));
  await t.notThrowsAsync(verifier.verify(after));
  t.is(recorder.count(JWKS_PATH), 2);
  t.is(recorder.count('/.well-known/openid-configuration'), 1, 'discovery is not repeated on rotation');

  // Without a cool-down, an unknown kid costs exactly one fetch per verification, then fails.
  await t.throwsAsync(verifier.verify(await forgedToken()), { instanceOf: KeyNotFoundError });
  t.is(recorder.count(JWKS_PATH), 3);
});

test.serial('unknown kids within the cool-down are refused without fetching the keys again', async (t) => {
  const client = await serviceClient(server, 'orders:read');
  const recorder = recordingFetch();
  const verifier = createVerifier({ issuer: server.issuer, audience: ORDERS, fetch: recorder.fetch });
  await verifier.verify(await clientToken(server, client, ORDERS, 'orders:read'));
  t.is(recorder.count(JWKS_PATH), 1);
  for (let attempt = 0; attempt < 5; attempt++) {
    const error = await t.throwsAsync(verifier.verify(await forgedToken()), { instanceOf: KeyNotFoundError });
    t.is(error!.code, 'key_not_found');
  }
  t.is(recorder.count(JWKS_PATH), 1, 'the default 30 s cool-down holds back refetches');
});
