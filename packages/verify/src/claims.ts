// What a Keyhold access token carries (RFC 9068 plus Keyhold's authorisation claims), checked
// for shape once at verification so that the readers below can trust the types.
import type { JWTPayload } from 'jose';
import { ClaimsInvalidError } from './errors.js';

export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  /** The account id for a user's token; the client id for a client_credentials token. */
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  /** Granted scopes, space-separated. */
  scope?: string;
  /** The same granted scopes of this API, as an array. */
  permissions?: string[];
  /** The account's roles (user tokens). */
  roles?: string[];
  tier?: string;
  tenant?: string;
}

/** RFC 9068 §2.2: the claims every JWT access token has. */
export const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'] as const;

const isString = (value: unknown): value is string => typeof value === 'string';
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);

const claimShapes: ReadonlyArray<[claim: string, valid: (value: unknown) => boolean, required: boolean]> = [
  ['sub', isString, true],
  ['jti', isString, true],
  ['client_id', isString, true],
  ['scope', isString, false],
  ['permissions', isStringArray, false],
  ['roles', isStringArray, false],
  ['tier', isString, false],
  ['tenant', isString, false],
];

/** The payload jose verified (iss, aud, exp, iat, nbf already checked), as access token claims. */
export function accessTokenClaims(payload: JWTPayload): AccessTokenClaims {
  for (const [claim, valid, required] of claimShapes) {
    const value = payload[claim];
    if (value === undefined ? required : !valid(value)) throw new ClaimsInvalidError(claim);
  }
  return payload as AccessTokenClaims;
}

/** The granted scopes (`scope`, space-separated). */
export function scopesOf(claims: AccessTokenClaims): string[] {
  return claims.scope ? claims.scope.split(' ').filter(Boolean) : [];
}

/** The granted permissions of this API (`permissions`). */
export function permissionsOf(claims: AccessTokenClaims): string[] {
  return claims.permissions ?? [];
}

/** The account's roles (`roles`); none for a client's own token. */
export function rolesOf(claims: AccessTokenClaims): string[] {
  return claims.roles ?? [];
}

export function tierOf(claims: AccessTokenClaims): string | undefined {
  return claims.tier;
}

export function tenantOf(claims: AccessTokenClaims): string | undefined {
  return claims.tenant;
}

/** True when the token was granted every one of `scopes`. */
export function hasScopes(claims: AccessTokenClaims, ...scopes: string[]): boolean {
  const granted = new Set(scopesOf(claims));
  return scopes.every((scope) => granted.has(scope));
}

/** True when the token carries every one of `permissions`. */
export function hasPermissions(claims: AccessTokenClaims, ...permissions: string[]): boolean {
  const granted = new Set(permissionsOf(claims));
  return permissions.every((permission) => granted.has(permission));
}

/** True when the account has at least one of `roles`. */
export function hasRole(claims: AccessTokenClaims, ...roles: string[]): boolean {
  const held = rolesOf(claims);
  return roles.some((role) => held.includes(role));
}

/** True when the account's tier is one of `tiers`. */
export function hasTier(claims: AccessTokenClaims, ...tiers: string[]): boolean {
  return claims.tier !== undefined && tiers.includes(claims.tier);
}
