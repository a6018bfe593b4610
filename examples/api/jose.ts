// Verifying Keyhold's access tokens with jose alone (what @keyhold/verify does for you): the
// JWKS address comes from discovery, never a hard-coded path; the token must be an RFC 9068
// access token (typ at+jwt) for this API, from this issuer, signed with an allowed algorithm;
// then the route checks the scope it needs.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

// #region jose-verify
interface AccessTokenClaims extends JWTPayload {
  sub: string;
  client_id: string;
  scope?: string;
  permissions?: string[];
  roles?: string[];
}

export async function createJoseVerifier(issuer: string, audience: string) {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string; issuer: string };
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  return async (token: string, requiredScope: string): Promise<AccessTokenClaims> => {
    const { payload } = await jwtVerify<AccessTokenClaims>(token, jwks, {
      issuer: discovery.issuer,
      audience,
      typ: 'at+jwt',
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    });
    // A token for this API may still lack the scope this route needs (RFC 6749 §3.3).
    if (!(payload.scope ?? '').split(' ').includes(requiredScope)) throw new Error(`insufficient_scope: ${requiredScope} needed`);
    return payload;
  };
}
// #endregion jose-verify
