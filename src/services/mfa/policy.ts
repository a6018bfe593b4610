// Who must use a second factor. Pure rules: the account's tier and roles against
// MFA_REQUIRED_TIERS / MFA_REQUIRED_ROLES, and the client's `require_mfa`. A person who
// enrolled a factor of their own accord uses it too; that is the login flow's business.
import type { ProductPolicy } from '#src/config.ts';

export type MfaPolicy = Pick<ProductPolicy, 'MFA_REQUIRED_TIERS' | 'MFA_REQUIRED_ROLES'>;

/** Why policy demands a second factor of this account at this client (empty: it does not). */
export function mfaRequiredBy(policy: MfaPolicy, account: { tier: string | null; roles: readonly string[] }, client?: { requireMfa?: boolean }): string[] {
  const reasons: string[] = [];
  if (account.tier && policy.MFA_REQUIRED_TIERS.includes(account.tier)) reasons.push(`tier:${account.tier}`);
  for (const role of account.roles) if (policy.MFA_REQUIRED_ROLES.includes(role)) reasons.push(`role:${role}`);
  if (client?.requireMfa) reasons.push('client');
  return reasons;
}
