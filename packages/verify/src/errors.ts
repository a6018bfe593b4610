// Every way a verification can fail, as a closed set of classes with a stable `code` and the
// HTTP status an API answers with (RFC 6750 §3.1). Messages are fixed sentences: they end up
// in `WWW-Authenticate` and response bodies, so they never echo token content.

export type VerifyErrorCode =
  | 'token_missing'
  | 'token_malformed'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'token_type_invalid'
  | 'algorithm_not_allowed'
  | 'signature_invalid'
  | 'key_not_found'
  | 'claims_invalid'
  | 'insufficient_scope'
  | 'issuer_unavailable'
  | 'discovery_invalid';

export abstract class VerifyError extends Error {
  abstract readonly code: VerifyErrorCode;
  /** 401: the token is missing or not acceptable; 403: valid but not enough; 503: the issuer cannot be reached. */
  abstract readonly status: 401 | 403 | 503;
}

/** No bearer token in the request (the only 401 without an `error` in its challenge). */
export class TokenMissingError extends VerifyError {
  readonly code = 'token_missing';
  readonly status = 401;
  constructor(options?: ErrorOptions) {
    super('no bearer access token in the request', options);
  }
}

/** Every 401 with `error="invalid_token"`: the token is there but not acceptable. */
export abstract class InvalidTokenError extends VerifyError {
  readonly status = 401;
}

export class TokenMalformedError extends InvalidTokenError {
  readonly code = 'token_malformed';
  constructor(options?: ErrorOptions) {
    super('the access token is not a well-formed signed JWT', options);
  }
}

export class TokenExpiredError extends InvalidTokenError {
  readonly code = 'token_expired';
  constructor(options?: ErrorOptions) {
    super('the access token has expired', options);
  }
}

export class TokenNotYetValidError extends InvalidTokenError {
  readonly code = 'token_not_yet_valid';
  constructor(options?: ErrorOptions) {
    super('the access token is not valid yet (nbf)', options);
  }
}

export class IssuerMismatchError extends InvalidTokenError {
  readonly code = 'issuer_mismatch';
  constructor(options?: ErrorOptions) {
    super('the access token was issued by another issuer', options);
  }
}

export class AudienceMismatchError extends InvalidTokenError {
  readonly code = 'audience_mismatch';
  constructor(options?: ErrorOptions) {
    super('the access token is not meant for this API (aud)', options);
  }
}

/** Not an RFC 9068 access token (`typ: at+jwt`): an ID token or a logout token, for instance. */
export class TokenTypeError extends InvalidTokenError {
  readonly code = 'token_type_invalid';
  constructor(options?: ErrorOptions) {
    super('the token is not a JWT access token (typ at+jwt)', options);
  }
}

export class AlgorithmNotAllowedError extends InvalidTokenError {
  readonly code = 'algorithm_not_allowed';
  constructor(options?: ErrorOptions) {
    super('the access token is signed with an algorithm this API does not accept', options);
  }
}

export class SignatureInvalidError extends InvalidTokenError {
  readonly code = 'signature_invalid';
  constructor(options?: ErrorOptions) {
    super('the access token signature is invalid', options);
  }
}

/** The token names a key the issuer does not publish, even after fetching its keys again. */
export class KeyNotFoundError extends InvalidTokenError {
  readonly code = 'key_not_found';
  constructor(options?: ErrorOptions) {
    super('the access token is signed with a key the issuer does not publish', options);
  }
}

export class ClaimsInvalidError extends InvalidTokenError {
  readonly code = 'claims_invalid';
  /** The claim that is missing or has the wrong type. */
  readonly claim: string;
  constructor(claim: string, options?: ErrorOptions) {
    super(`the access token claim ${claim} is missing or invalid`, options);
    this.claim = claim;
  }
}

export type RequirementKind = 'scope' | 'permission' | 'role' | 'tier';

/** A valid token that does not carry what the route requires (RFC 6750 `insufficient_scope`). */
export class InsufficientScopeError extends VerifyError {
  readonly code = 'insufficient_scope';
  readonly status = 403;
  readonly kind: RequirementKind;
  /** `all`: every value is required (scopes, permissions); `any`: one of them is enough (roles, tiers). */
  readonly match: 'all' | 'any';
  readonly required: readonly string[];
  constructor(kind: RequirementKind, match: 'all' | 'any', required: readonly string[]) {
    const noun = required.length === 1 ? kind : `${kind}s`;
    super(`${match === 'any' && required.length > 1 ? 'one of the ' : ''}${noun} ${required.join(' ')} required`);
    this.kind = kind;
    this.match = match;
    this.required = required;
  }
}

/** The discovery document or the key set could not be fetched (network, timeout, not 200, not JSON). */
export class IssuerUnavailableError extends VerifyError {
  readonly code = 'issuer_unavailable';
  readonly status = 503;
  constructor(options?: ErrorOptions) {
    super("the issuer's discovery document or keys could not be fetched", options);
  }
}

/** The discovery document does not describe the configured issuer (OpenID Connect Discovery §4.3). */
export class DiscoveryInvalidError extends VerifyError {
  readonly code = 'discovery_invalid';
  readonly status = 503;
  constructor(detail: string, options?: ErrorOptions) {
    super(`the issuer's discovery document is not acceptable: ${detail}`, options);
  }
}

for (const ErrorClass of [
  TokenMissingError,
  TokenMalformedError,
  TokenExpiredError,
  TokenNotYetValidError,
  IssuerMismatchError,
  AudienceMismatchError,
  TokenTypeError,
  AlgorithmNotAllowedError,
  SignatureInvalidError,
  KeyNotFoundError,
  ClaimsInvalidError,
  InsufficientScopeError,
  IssuerUnavailableError,
  DiscoveryInvalidError,
]) {
  // `error.name` is the class name, as with jose's errors.
  Object.defineProperty(ErrorClass.prototype, 'name', { value: ErrorClass.name, configurable: true });
}
