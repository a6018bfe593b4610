// Sign in with Apple has no static client secret: the client authenticates with an ES256
// JWT signed by the team's .p8 key (kid = key id, iss = team id, sub = the Services ID,
// aud = Apple). Apple accepts one valid for up to six months; Keyhold makes a fresh one
// valid for five minutes for each code exchange, so there is nothing to renew or leak.
import { importPKCS8, SignJWT } from 'jose';

export const APPLE_AUDIENCE = 'https://appleid.apple.com';
const LIFETIME = '5m';

export async function appleClientSecret(apple: { teamId: string; keyId: string; clientId: string; privateKey: string }): Promise<string> {
  const key = await importPKCS8(apple.privateKey, 'ES256');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: apple.keyId })
    .setIssuer(apple.teamId)
    .setSubject(apple.clientId)
    .setAudience(APPLE_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(LIFETIME)
    .sign(key);
}
