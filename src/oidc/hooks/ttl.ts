// How long each engine object lives. Access tokens for an API live as long as that API
// says (its access_token_ttl), else the configured default.
import type { Configuration } from 'oidc-provider';
import type { Config } from '#src/config.ts';

export type TtlSettings = Pick<
  Config,
  'ACCESS_TOKEN_TTL' | 'AUTHORIZATION_CODE_TTL' | 'CLIENT_CREDENTIALS_TTL' | 'ID_TOKEN_TTL' | 'INTERACTION_TTL' | 'SESSION_TTL' | 'REFRESH_TOKEN_TTL' | 'DEVICE_CODE_TTL'
>;

export function ttl(settings: TtlSettings): NonNullable<Configuration['ttl']> {
  return {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? settings.ACCESS_TOKEN_TTL,
    AuthorizationCode: settings.AUTHORIZATION_CODE_TTL,
    DeviceCode: settings.DEVICE_CODE_TTL,
    ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? settings.CLIENT_CREDENTIALS_TTL,
    IdToken: settings.ID_TOKEN_TTL,
    Interaction: settings.INTERACTION_TTL,
    Session: settings.SESSION_TTL,
    Grant: Math.max(settings.REFRESH_TOKEN_TTL, settings.SESSION_TTL),
    RefreshToken(ctx, token, client) {
      // A browser app's rotated token keeps the family's remaining life, so rotation can
      // never extend a public SPA's session forever.
      const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
      if (rotated && client.applicationType === 'web' && client.clientAuthMethod === 'none' && !token.isSenderConstrained()) {
        return rotated.remainingTTL;
      }
      return settings.REFRESH_TOKEN_TTL;
    },
  };
}
