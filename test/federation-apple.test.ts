// Sign in with Apple's client secret: an ES256 JWT from the .p8 key, fresh and short-lived,
// that Apple's rules accept (header kid, iss = team, sub = Services ID, aud = Apple).
import { exportPKCS8, exportSPKI, generateKeyPair, importSPKI, jwtVerify, decodeProtectedHeader } from 'jose';
import test from 'ava';
import { APPLE_AUDIENCE, appleClientSecret } from '#src/services/federation/apple-client-secret.ts';

test('the client secret is an ES256 JWT signed by the .p8 key, valid for minutes only', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const apple = { teamId: 'TEAM123456', keyId: 'KEY1234567', clientId: 'com.example.web', privateKey: await exportPKCS8(privateKey) };
  const secret = await appleClientSecret(apple);
  t.deepEqual(decodeProtectedHeader(secret), { alg: 'ES256', kid: 'KEY1234567' });
  const { payload } = await jwtVerify(secret, await importSPKI(await exportSPKI(publicKey), 'ES256'), { issuer: 'TEAM123456', subject: 'com.example.web', audience: APPLE_AUDIENCE });
  t.true(payload.exp! - payload.iat! <= 300);
  // Each exchange gets its own: nothing long-lived to renew or leak.
  t.not(await appleClientSecret(apple), secret);
  // A key of another kind is refused, not silently used.
  const { privateKey: rsa } = await generateKeyPair('RS256', { extractable: true });
  await t.throwsAsync(appleClientSecret({ ...apple, privateKey: await exportPKCS8(rsa) }));
});
