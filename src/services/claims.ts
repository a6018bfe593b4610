import type { Account } from '#src/services/accounts.ts';

// OIDC Core 5.4: the standard claims each scope releases. `openid` also releases acr, amr
// and auth_time, so every ID token says how and when the user authenticated; sid and iss
// stay available on request (claims parameter, logout).
export const standardClaims = {
  acr: null,
  sid: null,
  auth_time: null,
  iss: null,
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  profile: ['name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at'],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
  // Keyhold's own scope: the account's authorisation data, for apps that show or act on it.
  roles: ['roles', 'tier', 'tenant'],
} satisfies Record<string, string[] | null>;

/** The scopes the engine knows as OpenID Connect scopes; every other scope is an API's. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'address', 'phone', 'roles'] as const;
const oidcScopes: ReadonlySet<string> = new Set(OIDC_SCOPES);
export const isOidcScope = (scope: string) => oidcScopes.has(scope);

/** An account as OIDC standard claims; absent values are left out, not null. */
export function accountClaims(account: Account): { sub: string; [claim: string]: unknown } {
  const optional = {
    name: account.name,
    given_name: account.givenName,
    family_name: account.familyName,
    picture: account.picture,
    locale: account.locale,
    zoneinfo: account.zoneinfo,
    phone_number: account.phoneNumber,
    tier: account.tier,
    tenant: account.tenant,
  };
  return {
    sub: account.id,
    email: account.email,
    email_verified: account.emailVerified,
    roles: account.roles,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== null && value !== '')),
    ...(account.phoneNumber ? { phone_number_verified: account.phoneNumberVerified } : {}),
    updated_at: Math.floor(Date.parse(account.updatedAt) / 1000),
  };
}
