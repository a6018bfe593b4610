// What a sign-in owes in second factors, for one account at one client: a challenge (it
// has factors: the owner's choice, or policy's), an enrolment (policy demands a factor it
// lacks and its grace is used up), grace (policy demands one, but MFA_ENROLMENT_GRACE
// sign-ins remain), or nothing. A tenant may override the tiers (tenants.mfa_required_tiers). The sign-in pipeline and the engine's step-up check both
// ask here, so they never disagree.
import type { Kysely } from 'kysely';
import type { ProductPolicy } from '#src/config.ts';
import type { Account } from '#src/services/accounts.ts';
import type { MfaService } from '#src/services/mfa/factors.ts';
import { mfaRequiredBy, type MfaPolicy } from '#src/services/mfa/policy.ts';
import { mfaGraceUsed, useMfaGrace } from '#src/stores/mfa-store.ts';
import type { Database } from '#src/stores/schema.ts';
import type { SignInLookups } from '#src/stores/sign-in-lookups.ts';

export type MfaDemand = 'challenge' | 'enrol' | 'grace' | 'none';

/** The client metadata that takes part (`require_mfa`). */
export const requiresMfa = (client: { [key: string]: unknown } | undefined): boolean => client?.['require_mfa'] === true;

export interface MfaRequirementDependencies {
  db: Kysely<Database>;
  config: Pick<ProductPolicy, 'MFA_REQUIRED_TIERS' | 'MFA_REQUIRED_ROLES' | 'MFA_ENROLMENT_GRACE'>;
  mfa: Pick<MfaService, 'hasFactors' | 'enabledKinds'>;
  lookups: Pick<SignInLookups, 'tenant'>;
}

export function createMfaRequirement(deps: MfaRequirementDependencies) {
  const { db, config, mfa, lookups } = deps;

  /** The node's policy, with the tiers the account's tenant overrides (null: the node's). */
  const policyFor = async (account: Pick<Account, 'tenant'>): Promise<MfaPolicy> => {
    const tenant = account.tenant ? await lookups.tenant(account.tenant) : undefined;
    return { MFA_REQUIRED_TIERS: tenant?.mfa_required_tiers ?? config.MFA_REQUIRED_TIERS, MFA_REQUIRED_ROLES: config.MFA_REQUIRED_ROLES };
  };

  return {
    /** The demand policy and the account's own factors make; `requested`: the client asked for a second factor. */
    async demand(account: Pick<Account, 'id' | 'tier' | 'roles' | 'tenant'>, client: { [key: string]: unknown } | undefined, requested = false): Promise<MfaDemand> {
      if (mfa.enabledKinds().length === 0) return 'none';
      if (await mfa.hasFactors(account.id)) return 'challenge';
      if (requested) return 'enrol';
      if (mfaRequiredBy(await policyFor(account), account, { requireMfa: requiresMfa(client) }).length === 0) return 'none';
      return (await mfaGraceUsed(db, account.id)) < config.MFA_ENROLMENT_GRACE ? 'grace' : 'enrol';
    },

    /** Whether policy demands a factor of the account whatever the client (removal of the last one is refused). */
    requiredByPolicy: async (account: Pick<Account, 'tier' | 'roles' | 'tenant'>): Promise<boolean> => mfaRequiredBy(await policyFor(account), account).length > 0,

    /** Counts a sign-in let through on grace. */
    useGrace: (accountId: string) => useMfaGrace(db, accountId),
  };
}

export type MfaRequirement = ReturnType<typeof createMfaRequirement>;
