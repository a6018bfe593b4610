// CORS at the engine's endpoints that browsers call (token, userinfo, revocation…): allowed
// from the origins of the client's own registered redirect URIs, never from an opaque
// ("null") origin.
import type { Configuration } from 'oidc-provider';
import { redirectOrigin } from '#src/services/clients.ts';

export const clientBasedCORS: NonNullable<Configuration['clientBasedCORS']> = (_ctx, origin, client) => {
  if (origin === 'null') return false;
  return client.redirectUris?.some((uri) => redirectOrigin(uri) === origin) ?? false;
};
