// RFC 7009 §2.1: a client revokes only its own tokens. Someone else's token presented by a
// public client gets the answer an unknown token gets (nothing revoked, nothing learned); a
// confidential client is told it may not, so a misconfigured resource server notices.
import type { Configuration } from 'oidc-provider';
import { errors } from 'oidc-provider';

type Revocation = NonNullable<NonNullable<Configuration['features']>['revocation']>;

export const revocationAllowedPolicy: NonNullable<Revocation['allowedPolicy']> = async (_ctx, client, token) => {
  if (token.clientId === client.clientId) return true;
  if (client.clientAuthMethod === 'none') return false;
  throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
};
