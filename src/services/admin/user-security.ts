// What the console shows of an account's security besides its sessions: the lockout, the
// second factors and the linked upstream identities. Never secrets: no TOTP secret, no
// public key, no phone number beyond its last digits.
import type { Kysely } from 'kysely';
import type { LockoutService } from '#src/services/lockout.ts';
import { listFederatedIdentities } from '#src/stores/federated-identity-store.ts';
import { listFactors } from '#src/stores/mfa-store.ts';
import type { Database } from '#src/stores/schema.ts';

export interface FactorSummary {
  id: string;
  kind: string;
  /** A passkey's name, or the last digits of an SMS number. */
  label: string | null;
  created_at: string;
  last_used_at: string | null;
}

export interface IdentitySummary {
  connector_id: string;
  email: string | null;
  created_at: string;
  last_used_at: string | null;
}

export interface AccountSecurity {
  locked_until: string | null;
  factors: FactorSummary[];
  identities: IdentitySummary[];
}

export function createUserSecurityReader(deps: { db: Kysely<Database>; lockout: Pick<LockoutService, 'lockedUntil'> }) {
  return {
    /** The account must already be known to be visible to the caller (users.get). */
    async describe(accountId: string): Promise<AccountSecurity> {
      const [lockedUntil, factors, identities] = await Promise.all([
        deps.lockout.lockedUntil(accountId),
        listFactors(deps.db, accountId),
        listFederatedIdentities(deps.db, accountId),
      ]);
      return {
        locked_until: lockedUntil?.toISOString() ?? null,
        factors: factors.map((factor) => ({
          id: factor.id,
          kind: factor.kind,
          label: factor.kind === 'passkey' ? factor.name : factor.kind === 'sms' && factor.phone_number ? `…${factor.phone_number.slice(-2)}` : null,
          created_at: factor.created_at.toISOString(),
          last_used_at: factor.last_used_at?.toISOString() ?? null,
        })),
        identities: identities.map((identity) => ({
          connector_id: identity.connector_id,
          email: identity.email,
          created_at: identity.created_at.toISOString(),
          last_used_at: identity.last_used_at?.toISOString() ?? null,
        })),
      };
    },
  };
}
