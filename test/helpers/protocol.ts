// Helpers for the protocol-feature tests (PAR, JAR, DPoP, client assertions): key pairs
// with their public JWKS, PKCE parameters, and signing in at an authorization URL the test
// built itself (pushed, with a request object, …).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { Browser, type Page } from './browser.ts';
import { atRedirectUri, REDIRECT_URI } from './oidc.ts';

export interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public key as a JWK with kid and alg, for client `jwks` metadata. */
  jwk: JWK;
}

export async function keyPair(alg: 'ES256' | 'RS256' | 'PS256' = 'ES256'): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: randomBytes(6).toString('hex'), alg, use: 'sig' };
  return { privateKey, publicKey, jwk };
}

/** openid-client's private key form: the key with the kid the client's JWKS names. */
export const privateKeyOf = (pair: KeyPair) => ({ key: pair.privateKey, kid: pair.jwk.kid! });

export interface PreparedRequest {
  parameters: Record<string, string>;
  verifier: string;
  state: string;
  nonce: string;
}

/** Code + PKCE parameters with fresh state and nonce; `overrides` win. */
export async function preparedRequest(overrides: Record<string, string> = {}): Promise<PreparedRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  return {
    verifier,
    state,
    nonce,
    parameters: {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...overrides,
    },
  };
}

/** Opens `url` in `browser`, signs in (and consents when asked); the page it ends at. */
export async function signInAt(url: URL | string, credentials: { email: string; password: string }, browser = new Browser(), stopAt = atRedirectUri): Promise<Page> {
  let page = await browser.get(url.toString(), stopAt);
  if (page.body.includes('name="password"')) {
    page = await browser.submit(page, /\/login$/, { email: credentials.email, password: credentials.password }, { stopAt });
  }
  if (/action="[^"]*\/confirm"/.test(page.body)) page = await browser.submit(page, /\/confirm$/, {}, { stopAt });
  return page;
}

/** The code exchange for a page that reached the client's redirect URI (`stopAt` tells it). */
export async function exchangeAt(config: oidc.Configuration, page: Page, request: PreparedRequest, options?: oidc.DPoPOptions, stopAt = atRedirectUri) {
  if (!stopAt(page.url)) throw new Error(`did not reach the client (status ${page.status} at ${page.url}):\n${page.body.slice(0, 800)}`);
  return oidc.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce }, undefined, options);
}

/** Discovery for a client authenticating with `auth`. */
export function discoverWith(issuer: string, clientId: string, auth: oidc.ClientAuth, metadata: Partial<oidc.ClientMetadata> = {}) {
  return oidc.discovery(new URL(issuer), clientId, metadata, auth, { execute: [oidc.allowInsecureRequests] });
}

/** The error an authorization request ended with: at the client's redirect URI or on Keyhold's error page. */
export function refusalOf(page: Page): { error: string | undefined; code: string | undefined; redirected: boolean } {
  if (atRedirectUri(page.url)) {
    const url = new URL(page.url);
    return { error: url.searchParams.get('error') ?? undefined, code: url.searchParams.get('code') ?? undefined, redirected: true };
  }
  return { error: /Error code: <code>([^<]+)<\/code>/.exec(page.body)?.[1], code: undefined, redirected: false };
}

/** A DPoP proof (RFC 9449 §4.2) made by hand, so that a test can replay or tamper with it. */
export async function dpopProof(pair: KeyPair, request: { htm: string; htu: string; accessToken?: string; nonce?: string; jti?: string }): Promise<string> {
  const { kid: _kid, alg: _alg, use: _use, ...publicJwk } = pair.jwk;
  return new SignJWT({
    jti: request.jti ?? randomUUID(),
    htm: request.htm,
    htu: request.htu,
    ...(request.accessToken ? { ath: createHash('sha256').update(request.accessToken).digest('base64url') } : {}),
    ...(request.nonce ? { nonce: request.nonce } : {}),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: pair.jwk.alg!, jwk: publicJwk })
    .setIssuedAt()
    .sign(pair.privateKey);
}

/** The key pair in the form openid-client's getDPoPHandle takes. */
export const cryptoKeyPair = (pair: KeyPair) => ({ privateKey: pair.privateKey, publicKey: pair.publicKey });
