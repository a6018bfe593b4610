// The issuer's signing keys: `jwks_uri` found once through discovery, then jose's remote key
// set, which caches the keys (`cacheMaxAge`) and fetches them again when a token names an
// unknown `kid` — at most once per `cooldownDuration`, so a stream of forged kids costs the
// issuer one request per cool-down, not one per token.
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from 'jose';
import { DiscoveryInvalidError, IssuerUnavailableError, KeyNotFoundError, VerifyError } from './errors.js';

export interface KeySetSettings {
  issuer: string;
  cooldownDuration: number;
  cacheMaxAge: number;
  timeoutDuration: number;
  fetch: typeof globalThis.fetch;
}

/** OpenID Connect Discovery §4: `<issuer>/.well-known/openid-configuration`. */
export function discoveryUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
}

async function fetchDiscovery(settings: KeySetSettings): Promise<unknown> {
  const url = discoveryUrl(settings.issuer);
  let response: Response;
  try {
    response = await settings.fetch(url.href, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(settings.timeoutDuration) });
  } catch (cause) {
    throw new IssuerUnavailableError({ cause });
  }
  if (response.status !== 200) throw new IssuerUnavailableError({ cause: new Error(`${url.href} answered ${response.status}`) });
  try {
    return await response.json();
  } catch (cause) {
    throw new IssuerUnavailableError({ cause });
  }
}

/** The key set URL the issuer's discovery document names, checked against the issuer. */
export async function discoverJwksUri(settings: KeySetSettings): Promise<URL> {
  const metadata = await fetchDiscovery(settings);
  if (typeof metadata !== 'object' || metadata === null) throw new DiscoveryInvalidError('not a JSON object');
  const { issuer, jwks_uri: jwksUri } = metadata as Record<string, unknown>;
  // §4.3: the document must name exactly the issuer it was fetched for.
  if (issuer !== settings.issuer) throw new DiscoveryInvalidError('its issuer differs from the configured one');
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) throw new DiscoveryInvalidError('no valid jwks_uri');
  const url = new URL(jwksUri);
  // An https issuer's keys are never fetched over plain http.
  if (url.protocol !== 'https:' && (new URL(settings.issuer).protocol === 'https:' || url.protocol !== 'http:')) {
    throw new DiscoveryInvalidError('jwks_uri is not https');
  }
  return url;
}

/** What went wrong while finding the key for a token, as a verification error. */
function keyError(error: unknown): VerifyError {
  if (error instanceof VerifyError) return error;
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return new KeyNotFoundError({ cause: error });
  return new IssuerUnavailableError({ cause: error });
}

/**
 * A jose key resolver that discovers the key set on first use. While the issuer cannot be
 * reached (discovery or key set), it is asked again no sooner than `cooldownDuration` after
 * the last failure; verifications fail fast meanwhile instead of each sending a request.
 */
export function discoveredKeySet(settings: KeySetSettings): JWTVerifyGetKey {
  let remote: JWTVerifyGetKey | undefined;
  let discovery: Promise<JWTVerifyGetKey> | undefined;
  let failure: { at: number; error: VerifyError } | undefined;

  // Concurrent first verifications share one discovery request.
  const discover = (): Promise<JWTVerifyGetKey> =>
    (discovery ??= discoverJwksUri(settings)
      .then(
        (jwksUri) =>
          (remote = createRemoteJWKSet(jwksUri, {
            cooldownDuration: settings.cooldownDuration,
            cacheMaxAge: settings.cacheMaxAge,
            timeoutDuration: settings.timeoutDuration,
            [customFetch]: settings.fetch,
          })),
      )
      .finally(() => {
        discovery = undefined;
      }));

  return async (header, token) => {
    if (failure && Date.now() < failure.at + settings.cooldownDuration) throw failure.error;
    try {
      const keySet = remote ?? (await discover());
      return await keySet(header, token);
    } catch (error) {
      const verifyError = keyError(error);
      if (verifyError.status === 503) failure = { at: Date.now(), error: verifyError };
      throw verifyError;
    }
  };
}
