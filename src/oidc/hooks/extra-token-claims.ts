// Access tokens for an API resource carry the granted scopes as `permissions` and the
// account's authorisation data (RFC 9068 plus Keyhold's claims); opaque tokens keep it
// server-side.
import type { Configuration } from 'oidc-provider';
import type { AccountService } from '#src/services/accounts.ts';

/** What a token carries of its account (findAccount keeps the same on the engine's account). */
interface AuthorisationData {
  roles: string[];
  tier: string | null;
  tenant: string | null;
}

export function extraTokenClaims(accounts: Pick<AccountService, 'findById'>): NonNullable<Configuration['extraTokenClaims']> {
  return async (ctx, token) => {
    if (!token.resourceServer || (token.kind !== 'AccessToken' && token.kind !== 'ClientCredentials')) return undefined;
    const permissions = typeof token.scope === 'string' ? token.scope.split(' ').filter(Boolean) : [];
    const accountId = token.kind === 'AccessToken' ? (token as { accountId?: string }).accountId : undefined;
    if (!accountId) {
      // A client acting for itself carries its own tenant.
      const tenant = (ctx.oidc?.client as { tenant?: unknown } | undefined)?.tenant;
      return { permissions, ...(typeof tenant === 'string' ? { tenant } : {}) };
    }
    // The engine has usually just loaded the account (findAccount) for this very token.
    const loaded = ctx.oidc?.account as Partial<AuthorisationData> & { accountId?: string } | undefined;
    const account: AuthorisationData | undefined = loaded?.accountId === accountId && loaded.roles ? (loaded as AuthorisationData) : await accounts.findById(accountId);
    if (!account) return { permissions };
    return {
      permissions,
      roles: account.roles,
      ...(account.tier ? { tier: account.tier } : {}),
      ...(account.tenant ? { tenant: account.tenant } : {}),
    };
  };
}
