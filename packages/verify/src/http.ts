// The framework-free half of the middleware: reading the bearer token (RFC 6750 §2.1), checking
// a route's requirement, and the answer to give when either fails (RFC 6750 §3): 401 with
// `WWW-Authenticate: Bearer` for a missing token, 401 `error="invalid_token"` for a bad one,
// 403 `error="insufficient_scope"` for a good one that is not enough.
import { hasPermissions, hasRole, hasScopes, hasTier, type AccessTokenClaims } from './claims.js';
import { InsufficientScopeError, TokenMalformedError, TokenMissingError, VerifyError, type RequirementKind } from './errors.js';
import type { Verifier } from './verifier.js';

export interface Rejection {
  status: 401 | 403 | 503;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), if any. */
export function bearerToken(authorization: string | string[] | undefined): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
  return match?.[1];
}

/** The verified claims of the request's bearer token, or why there are none. */
export async function authenticateRequest(verifier: Verifier, authorization: string | string[] | undefined): Promise<{ claims: AccessTokenClaims } | { error: VerifyError }> {
  // No header, another scheme, or the scheme alone: the request did not try a bearer token.
  if (typeof authorization !== 'string' || !/^Bearer\s+\S/i.test(authorization)) return { error: new TokenMissingError() };
  const token = bearerToken(authorization);
  // Bearer, but not a b64token: as unacceptable as any other bad token.
  if (token === undefined) return { error: new TokenMalformedError() };
  try {
    return { claims: await verifier.verify(token) };
  } catch (error) {
    if (error instanceof VerifyError) return { error };
    throw error;
  }
}

// RFC 6750 §3: error_description and scope are quoted strings limited to visible ASCII
// without `"` and `\`.
const quotable = (value: string) => value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** What to answer for a failed verification or requirement. */
export function rejection(error: VerifyError): Rejection {
  if (error.status === 503) {
    return { status: 503, headers: {}, body: { error: 'temporarily_unavailable', error_description: quotable(error.message) } };
  }
  if (error instanceof TokenMissingError) {
    // §3.1: no error code when the request carried no authentication at all.
    return { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: { error: 'unauthorized', error_description: error.message } };
  }
  const code = error instanceof InsufficientScopeError ? 'insufficient_scope' : 'invalid_token';
  const description = quotable(error.message);
  let challenge = `Bearer error="${code}", error_description="${description}"`;
  if (error instanceof InsufficientScopeError && error.kind === 'scope') challenge += `, scope="${error.required.join(' ')}"`;
  return { status: error.status, headers: { 'www-authenticate': challenge }, body: { error: code, error_description: description } };
}

export interface Requirement {
  kind: RequirementKind;
  check(claims: AccessTokenClaims): boolean;
  error: InsufficientScopeError;
}

const checks: Record<RequirementKind, { match: 'all' | 'any'; test: (claims: AccessTokenClaims, ...values: string[]) => boolean }> = {
  scope: { match: 'all', test: hasScopes },
  permission: { match: 'all', test: hasPermissions },
  role: { match: 'any', test: hasRole },
  tier: { match: 'any', test: hasTier },
};

/** A route's requirement; its values are checked when the route is declared, not per request. */
export function requirement(kind: RequirementKind, values: string[]): Requirement {
  if (values.length === 0 || values.some((value) => typeof value !== 'string' || !SCOPE_TOKEN.test(value))) {
    throw new TypeError(`require${kind[0]!.toUpperCase()}${kind.slice(1)} needs one or more names without spaces, quotes or backslashes`);
  }
  const { match, test } = checks[kind];
  return { kind, check: (claims) => test(claims, ...values), error: new InsufficientScopeError(kind, match, [...values]) };
}

/** The rejection for a request whose claims (set by authenticate, or not) fail `required`. */
export function checkRequirement(required: Requirement, claims: AccessTokenClaims | undefined): Rejection | undefined {
  if (claims === undefined) return rejection(new TokenMissingError());
  return required.check(claims) ? undefined : rejection(required.error);
}
