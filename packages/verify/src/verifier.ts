// createVerifier: offline verification of Keyhold's JWT access tokens (RFC 9068) with jose,
// against the issuer's published keys. Everything a token must satisfy is checked here: the
// signature with an allowed algorithm, iss, aud, exp, nbf, `typ: at+jwt` and the claims' shapes.
import { errors, jwtVerify, type JWTVerifyOptions } from 'jose';
import { accessTokenClaims, REQUIRED_CLAIMS, type AccessTokenClaims } from './claims.js';
import {
  AlgorithmNotAllowedError,
  AudienceMismatchError,
  ClaimsInvalidError,
  IssuerMismatchError,
  SignatureInvalidError,
  TokenExpiredError,
  TokenMalformedError,
  TokenNotYetValidError,
  TokenTypeError,
  VerifyError,
} from './errors.js';
import { discoveredKeySet } from './key-set.js';

/** Asymmetric JWS algorithms: a key set published by an issuer can only verify these. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type Algorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** What Keyhold signs with (its `SIGNING_ALGS`). */
export const DEFAULT_ALGORITHMS: readonly Algorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

export interface VerifierOptions {
  /** The issuer exactly as in its discovery document and in the tokens' `iss`. */
  issuer: string;
  /** This API's resource identifier; a token's `aud` must contain one of them. */
  audience: string | readonly string[];
  /** Accepted signature algorithms (default: RS256, PS256, ES256, EdDSA). Never `none` or HMAC. */
  algorithms?: readonly Algorithm[];
  /** Seconds of clock skew tolerated for exp, nbf and iat (default 0). */
  clockTolerance?: number;
  /** Milliseconds after a key set fetch during which an unknown `kid` does not fetch again (default 30 000). */
  cooldownDuration?: number;
  /** Milliseconds a fetched key set is used before it is fetched again (default 600 000). */
  cacheMaxAge?: number;
  /** Milliseconds before a discovery or key set request is abandoned (default 5 000). */
  timeoutDuration?: number;
  /** The fetch used for discovery and keys (default the global fetch): for proxies or tracing. */
  fetch?: typeof globalThis.fetch;
}

export interface Verifier {
  readonly issuer: string;
  /** The token's claims, or a rejection with a VerifyError subclass. */
  verify(token: string): Promise<AccessTokenClaims>;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number`);
  return value;
}

function parseAudience(audience: VerifierOptions['audience']): string[] {
  const list = typeof audience === 'string' ? [audience] : Array.isArray(audience) ? [...audience] : [];
  if (list.length === 0 || list.some((value) => typeof value !== 'string' || value === '')) throw new TypeError('audience must be a non-empty string or a list of them');
  return list;
}

function parseAlgorithms(algorithms: VerifierOptions['algorithms']): string[] {
  const list = [...(algorithms ?? DEFAULT_ALGORITHMS)];
  const unsupported = list.filter((alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg));
  if (list.length === 0 || unsupported.length > 0) throw new TypeError(`algorithms must be a non-empty list of ${ASYMMETRIC_ALGORITHMS.join(', ')}`);
  return list;
}

/** A jose failure as the matching verification error. */
function verifyError(error: unknown): VerifyError {
  if (error instanceof VerifyError) return error;
  const options = { cause: error };
  if (error instanceof errors.JWTExpired) return new TokenExpiredError(options);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new IssuerMismatchError(options);
    if (error.claim === 'aud') return new AudienceMismatchError(options);
    if (error.claim === 'typ') return new TokenTypeError(options);
    if (error.claim === 'nbf' && error.reason === 'check_failed') return new TokenNotYetValidError(options);
    return new ClaimsInvalidError(error.claim, options);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new AlgorithmNotAllowedError(options);
  if (error instanceof errors.JWSSignatureVerificationFailed) return new SignatureInvalidError(options);
  return new TokenMalformedError(options);
}

export function createVerifier(options: VerifierOptions): Verifier {
  const { issuer } = options;
  if (typeof issuer !== 'string' || !URL.canParse(issuer)) throw new TypeError('issuer must be an absolute URL');
  const getKey = discoveredKeySet({
    issuer,
    cooldownDuration: nonNegative('cooldownDuration', options.cooldownDuration, 30_000),
    cacheMaxAge: nonNegative('cacheMaxAge', options.cacheMaxAge, 600_000),
    timeoutDuration: Math.round(nonNegative('timeoutDuration', options.timeoutDuration, 5_000)),
    fetch: options.fetch ?? globalThis.fetch,
  });
  const verifyOptions: JWTVerifyOptions = {
    issuer,
    audience: parseAudience(options.audience),
    algorithms: parseAlgorithms(options.algorithms),
    typ: 'at+jwt',
    clockTolerance: nonNegative('clockTolerance', options.clockTolerance, 0),
    requiredClaims: [...REQUIRED_CLAIMS],
  };

  return {
    issuer,
    async verify(token) {
      if (typeof token !== 'string' || token === '') throw new TokenMalformedError();
      try {
        const { payload } = await jwtVerify(token, getKey, verifyOptions);
        return accessTokenClaims(payload);
      } catch (error) {
        throw verifyError(error);
      }
    },
  };
}
