// @keyhold/verify: verify Keyhold's JWT access tokens offline and read what they grant.
// Middleware: `@keyhold/verify/koa` and `@keyhold/verify/express`.
export { createVerifier, ASYMMETRIC_ALGORITHMS, DEFAULT_ALGORITHMS, type Algorithm, type Verifier, type VerifierOptions } from './verifier.js';
export {
  hasPermissions,
  hasRole,
  hasScopes,
  hasTier,
  permissionsOf,
  rolesOf,
  scopesOf,
  tenantOf,
  tierOf,
  type AccessTokenClaims,
} from './claims.js';
export * from './errors.js';
export { bearerToken } from './http.js';
