// Helpers for the @keyhold/verify tests: real tokens from a real Keyhold, tokens crafted and
// signed with Keyhold's own current key (claims Keyhold would never issue, to test that the
// verifier checks them rather than trusting the signature), and a fetch that records what
// the verifier asks the issuer for.
import { importJWK, SignJWT, type JWTPayload, type JWTHeaderParameters } from 'jose';
import { loadEngineJwks } from '#src/services/signing-keys.ts';
import { registerClient, tokenRequest, type RegisteredClient } from './oidc.ts';
import type { TestServer } from './server.ts';

export function serviceClient(server: TestServer, scope: string): Promise<RegisteredClient> {
  return registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope });
}

/** A client_credentials JWT access token for `resource`. */
export async function clientToken(server: TestServer, client: RegisteredClient, resource: string, scope: string): Promise<string> {
  const response = await tokenRequest(server, client, { grant_type: 'client_credentials', resource, scope });
  if (response.status !== 200 || typeof response.body.access_token !== 'string') throw new Error(`token request failed: ${JSON.stringify(response.body)}`);
  return response.body.access_token;
}

/** Claims like those of a Keyhold access token for `audience`, valid for a minute from now. */
export function accessTokenPayload(server: TestServer, audience: string, overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iss: server.issuer, aud: audience, sub: 'crafted-subject', client_id: 'crafted-client', jti: `jti-${now}`, iat: now, exp: now + 60, scope: 'orders:read', ...overrides };
}

/** Signs `payload` with the key Keyhold currently publishes first, as an at+jwt unless `header` says otherwise. */
export async function signWithKeyholdKey(server: TestServer, payload: JWTPayload, header: Partial<JWTHeaderParameters> = {}): Promise<string> {
  const { keys } = await loadEngineJwks(server.keyhold.db, server.keyhold.keyOptions);
  const jwk = keys[0] as { kid: string; alg: string };
  const key = await importJWK(jwk, jwk.alg);
  return new SignJWT(payload).setProtectedHeader({ alg: jwk.alg, kid: jwk.kid, typ: 'at+jwt', ...header }).sign(key);
}

/** The global fetch, recording every URL it is asked for. */
export function recordingFetch(): { fetch: typeof globalThis.fetch; urls: string[]; count(path: string): number } {
  const urls: string[] = [];
  return {
    urls,
    fetch: (input, init) => {
      urls.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return globalThis.fetch(input, init);
    },
    count: (path) => urls.filter((url) => new URL(url).pathname === path).length,
  };
}
