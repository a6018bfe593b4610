// Talking to an upstream provider after grant has done the redirect and the code exchange:
// its discovery document, the ID token (grant does not check signatures: here jose checks
// signature, iss, aud, exp, nonce and alg against the upstream's JWKS), and the profile
// (userinfo, or the provider's API for OAuth-only types). Every request has a deadline.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { constantTimeEqual } from '#src/crypto.ts';
import { KeyholdError } from '#src/errors.ts';
import { appleClientSecret } from '#src/services/federation/apple-client-secret.ts';
import type { Connector, ConnectorSecrets } from '#src/services/federation/connectors.ts';
import { oauthEndpoints } from '#src/services/federation/connector-types.ts';
import { assertUpstreamUrl } from '#src/services/federation/upstream-url.ts';

/** Who the upstream says the person is. */
export interface UpstreamProfile {
  subject: string;
  email?: string;
  /** Only when the upstream asserts it; anything else counts as unverified. */
  emailVerified: boolean;
  name?: string;
  givenName?: string;
  familyName?: string;
  /** RFC 8176 values the upstream asserted (ID token `amr`). */
  amr: string[];
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  id_token_signing_alg_values_supported?: string[];
}

// Asymmetric algorithms only: an HS* ID token would be checked with the client secret,
// which is not what a JWKS is for.
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const DISCOVERY_TTL_MS = 10 * 60_000;

export function upstreamFailure(reason: string, cause?: unknown): KeyholdError {
  return new KeyholdError('federation_failed', { key: 'error.federation_failed.detail', params: { reason }, cause });
}

/** Microsoft's multi-tenant issuer is a template naming the tenant of each token. */
function expectedIssuer(discovered: string, payload: JWTPayload): string {
  return discovered.includes('{tenantid}') && typeof payload.tid === 'string' ? discovered.replace('{tenantid}', payload.tid) : discovered;
}

const truthy = (value: unknown) => value === true || value === 'true';

export function createUpstreamClient(options: { allowLoopback: boolean; timeoutMs: number }) {
  const discoveries = new Map<string, { document: Discovery; at: number }>();
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const checkUrl = (value: unknown, field: string) => assertUpstreamUrl(value, field, { allowLoopback: options.allowLoopback });

  const getJson = async (url: string, init: RequestInit = {}): Promise<Record<string, unknown>> => {
    let response: Response;
    try {
      response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs) });
    } catch (error) {
      throw upstreamFailure('unreachable', error);
    }
    if (!response.ok) throw upstreamFailure(`status ${response.status}`);
    const body = (await response.json().catch(() => undefined)) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw upstreamFailure('not JSON');
    return body as Record<string, unknown>;
  };

  const discover = async (issuer: string): Promise<Discovery> => {
    const cached = discoveries.get(issuer);
    if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.document;
    const document = (await getJson(`${issuer}/.well-known/openid-configuration`)) as unknown as Discovery;
    // OIDC Discovery 4.3: the document is for this issuer, or it is not used.
    if (document.issuer !== issuer) throw upstreamFailure('discovery issuer mismatch');
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) checkUrl(document[field], field);
    if (document.userinfo_endpoint !== undefined) checkUrl(document.userinfo_endpoint, 'userinfo_endpoint');
    discoveries.set(issuer, { document, at: Date.now() });
    return document;
  };

  const keySet = (jwksUri: string) => {
    let set = keySets.get(jwksUri);
    if (!set) keySets.set(jwksUri, (set = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: options.timeoutMs })));
    return set;
  };

  return {
    discover,

    /** The authorization and token endpoints and the client secret grant uses. */
    async endpoints(connector: Connector, secrets: ConnectorSecrets): Promise<{ authorization: string; token: string; clientSecret: string }> {
      let clientSecret = secrets.clientSecret ?? '';
      if (connector.type === 'apple') {
        if (!connector.apple || !secrets.privateKey) throw upstreamFailure('apple key missing');
        clientSecret = await appleClientSecret({ ...connector.apple, clientId: connector.clientId, privateKey: secrets.privateKey });
      }
      if (connector.issuer) {
        const document = await discover(connector.issuer);
        return { authorization: document.authorization_endpoint, token: document.token_endpoint, clientSecret };
      }
      const fixed = oauthEndpoints(connector.type, connector);
      if (!fixed) throw upstreamFailure('no endpoints');
      return { authorization: fixed.authorization, token: fixed.token, clientSecret };
    },

    /** Checks the ID token and reads the profile; throws federation_failed on anything amiss. */
    async profile(connector: Connector, tokens: { idToken?: string; accessToken?: string }, expected: { nonce?: string }): Promise<UpstreamProfile> {
      if (connector.issuer) {
        if (!tokens.idToken) throw upstreamFailure('no ID token');
        const document = await discover(connector.issuer);
        const algorithms = (document.id_token_signing_alg_values_supported ?? ['RS256']).filter((alg) => ASYMMETRIC_ALGS.includes(alg));
        let payload: JWTPayload;
        try {
          ({ payload } = await jwtVerify(tokens.idToken, keySet(document.jwks_uri), { audience: connector.clientId, algorithms, requiredClaims: ['iss', 'sub', 'exp', 'iat'] }));
        } catch (error) {
          throw upstreamFailure('ID token rejected', error);
        }
        if (payload.iss !== expectedIssuer(document.issuer, payload)) throw upstreamFailure('ID token issuer');
        // A nonce was sent with every request: the token must carry it back, unchanged.
        if (!expected.nonce || typeof payload.nonce !== 'string' || !constantTimeEqual(payload.nonce, expected.nonce)) throw upstreamFailure('ID token nonce');
        if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== connector.clientId) throw upstreamFailure('ID token azp');
        let claims: Record<string, unknown> = { ...payload };
        if (document.userinfo_endpoint && tokens.accessToken && (claims.email === undefined || claims.email_verified === undefined)) {
          const userinfo = await getJson(document.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.accessToken}`, accept: 'application/json' } });
          // OIDC Core 5.3.2: userinfo about someone else than the ID token is discarded.
          if (userinfo.sub !== payload.sub) throw upstreamFailure('userinfo subject');
          claims = { ...userinfo, ...claims, email: claims.email ?? userinfo.email, email_verified: claims.email_verified ?? userinfo.email_verified };
        }
        return {
          subject: String(payload.sub),
          ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
          emailVerified: typeof claims.email === 'string' && truthy(claims.email_verified),
          ...(typeof claims.name === 'string' ? { name: claims.name } : {}),
          ...(typeof claims.given_name === 'string' ? { givenName: claims.given_name } : {}),
          ...(typeof claims.family_name === 'string' ? { familyName: claims.family_name } : {}),
          amr: Array.isArray(payload.amr) ? payload.amr.filter((value): value is string => typeof value === 'string') : [],
        };
      }
      if (!tokens.accessToken) throw upstreamFailure('no access token');
      const fixed = oauthEndpoints(connector.type, connector);
      if (!fixed) throw upstreamFailure('no endpoints');
      const headers = { authorization: `Bearer ${tokens.accessToken}`, accept: 'application/json', 'user-agent': 'keyhold' };
      const user = await getJson(fixed.profile, { headers });
      if (user.id === undefined || user.id === null) throw upstreamFailure('profile without id');
      let email: string | undefined;
      let emailVerified = false;
      if (fixed.emails) {
        // GitHub's profile email is whatever the user made public; the verified primary
        // address comes from /user/emails.
        const response = await fetch(fixed.emails, { headers, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs) }).catch((error: unknown) => {
          throw upstreamFailure('unreachable', error);
        });
        const emails = response.ok ? ((await response.json().catch(() => [])) as Array<{ email?: unknown; primary?: unknown; verified?: unknown }>) : [];
        const primary = Array.isArray(emails) ? emails.find((entry) => entry.primary === true && entry.verified === true && typeof entry.email === 'string') : undefined;
        if (primary) [email, emailVerified] = [primary.email as string, true];
      } else if (typeof user.email === 'string') {
        // Facebook says nothing about verification: the address is not taken as proven.
        email = user.email;
      }
      const name = typeof user.name === 'string' ? user.name : typeof user.login === 'string' ? user.login : undefined;
      return { subject: String(user.id), ...(email ? { email } : {}), emailVerified, ...(name ? { name } : {}), amr: [] };
    },
  };
}

export type UpstreamClient = ReturnType<typeof createUpstreamClient>;
