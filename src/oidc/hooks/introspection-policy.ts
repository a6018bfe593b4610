// RFC 7662 §4: a caller learns about a token only when it is the token's own client or a
// client the operator registered as a resource server (client metadata `introspection: true`).
import type { Configuration } from 'oidc-provider';

type Introspection = NonNullable<NonNullable<Configuration['features']>['introspection']>;

export const introspectionAllowedPolicy: NonNullable<Introspection['allowedPolicy']> = async (_ctx, client, token) =>
  token.clientId === client.clientId || client['introspection'] === true;
