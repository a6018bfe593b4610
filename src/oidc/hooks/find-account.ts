// findAccount: the engine's view of an account, looked up for every token, userinfo call
// and session check. A disabled or removed account is no account at all.
import type { FindAccount } from 'oidc-provider';
import type { AccountService } from '#src/services/accounts.ts';
import { accountClaims } from '#src/services/claims.ts';

export function findAccount(accounts: Pick<AccountService, 'findById'>): FindAccount {
  return async (_ctx, sub) => {
    const account = await accounts.findById(sub);
    if (!account || !account.active) return undefined;
    return {
      accountId: account.id,
      // Read by getResourceServerInfo and extraTokenClaims at the token endpoint.
      roles: account.roles,
      tier: account.tier,
      tenant: account.tenant,
      // Everything the account has; the engine releases only what the granted scopes
      // (OIDC Core 5.4) or the claims parameter allow.
      async claims() {
        return accountClaims(account);
      },
    };
  };
}
