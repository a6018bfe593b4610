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

/**
 * An account's profile under the OIDC claim names, null where unset. The Account API
 * answers with it as it is; ID tokens and userinfo leave the unset ones out.
 */
export function profileClaims(account: Account) {
  return {
    email: account.email,
    email_verified: account.emailVerified,
    name: account.name,
    given_name: account.givenName,
    family_name: account.familyName,
    picture: account.picture,
    locale: account.locale,
    zoneinfo: account.zoneinfo,
    phone_number: account.phoneNumber,
    phone_number_verified: account.phoneNumberVerified,
    roles: account.roles,
    tier: account.tier,
    tenant: account.tenant,
  };
}

/** An account as OIDC standard claims; absent values are left out, not null. */
export function accountClaims(account: Account): { sub: string; [claim: string]: unknown } {
  const { phone_number_verified: phoneVerified, ...claims } = profileClaims(account);
  return {
    sub: account.id,
    ...Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== null && value !== '')),
    ...(account.phoneNumber ? { phone_number_verified: phoneVerified } : {}),
    updated_at: Math.floor(Date.parse(account.updatedAt) / 1000),
  };
}
