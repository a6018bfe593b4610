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

export interface ProfileEndpoints extends OAuthEndpoints {
  profile: string;
  /** GitHub: the addresses with their verification. */
  emails?: string;
}

/**
 * OAuth-only providers' endpoints (versions pinned, so a provider's change is a code
 * change). GitHub Enterprise Server: `base_url`, with its API under /api/v3.
 */
export function oauthEndpoints(type: ConnectorType, settings: { baseUrl?: string }): ProfileEndpoints | undefined {
  switch (type) {
    case 'github': {
      const web = settings.baseUrl ?? 'https://github.com';
      const api = settings.baseUrl ? `${settings.baseUrl}/api/v3` : 'https://api.github.com';
      return { authorization: `${web}/login/oauth/authorize`, token: `${web}/login/oauth/access_token`, profile: `${api}/user`, emails: `${api}/user/emails` };
    }
    case 'facebook':
      return {
        authorization: 'https://www.facebook.com/v19.0/dialog/oauth',
        token: 'https://graph.facebook.com/v19.0/oauth/access_token',
        profile: 'https://graph.facebook.com/v19.0/me?fields=id,name,email',
      };
    default:
      return undefined;
  }
}

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
