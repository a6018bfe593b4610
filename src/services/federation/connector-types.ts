// What each connector type is upstream: an OpenID Connect provider found by discovery from
// its issuer, or an OAuth 2.0 provider with fixed endpoints and a profile API. The generic
// `oidc` type takes its issuer from the operator; the others are fixed here.
export const CONNECTOR_TYPES = ['oidc', 'google', 'microsoft', 'apple', 'github', 'facebook'] as const;
export type ConnectorType = (typeof CONNECTOR_TYPES)[number];

export interface OAuthEndpoints {
  authorization: string;
  token: string;
}

/** Where a type's OpenID Connect discovery starts; undefined for OAuth-only types. */
export function fixedIssuer(type: ConnectorType, settings: { tenant?: string }): string | undefined {
  switch (type) {
    case 'google':
      return 'https://accounts.google.com';
    case 'microsoft':
      return `https://login.microsoftonline.com/${settings.tenant ?? 'common'}/v2.0`;
    case 'apple':
      return 'https://appleid.apple.com';
    default:
      return undefined;
  }
}

/** OAuth-only providers: their endpoints (versions pinned, so a provider's change is a code change). */
export const OAUTH_ENDPOINTS: Partial<Record<ConnectorType, OAuthEndpoints & { profile: string }>> = {
  github: { authorization: 'https://github.com/login/oauth/authorize', token: 'https://github.com/login/oauth/access_token', profile: 'https://api.github.com/user' },
  facebook: {
    authorization: 'https://www.facebook.com/v19.0/dialog/oauth',
    token: 'https://graph.facebook.com/v19.0/oauth/access_token',
    profile: 'https://graph.facebook.com/v19.0/me?fields=id,name,email',
  },
};

/** The scope asked for when the operator names none. */
export function defaultScope(type: ConnectorType): string {
  switch (type) {
    case 'github':
      return 'read:user user:email';
    case 'facebook':
      return 'public_profile email';
    case 'apple':
      return 'openid name email';
    default:
      return 'openid email profile';
  }
}
