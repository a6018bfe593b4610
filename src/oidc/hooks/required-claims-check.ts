// The engine's guard for progressive profiling. The sign-in pipeline asks for a client's
// required claims before it finishes a login; this check covers everything else: a browser
// already signed in at Keyhold, a resumed request, a result posted out of order. While the
// account lacks a claim the client requires, the consent prompt stays open (reason
// `required_claims_missing`), the interaction routes show the profile page first, and no
// code is issued.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { missingProfileClaims, requiredClaimsOf } from '#src/services/profile-requirements.ts';

export const REQUIRED_CLAIMS_MISSING = 'required_claims_missing';

async function lacksRequiredClaims(ctx: KoaContextWithOIDC): Promise<boolean> {
  const required = requiredClaimsOf(ctx.oidc.client as unknown as Record<string, unknown> | undefined);
  const account = ctx.oidc.account;
  if (required.length === 0 || !account) return false;
  const claims = (await account.claims('userinfo', 'openid', {}, [])) as Record<string, unknown>;
  return missingProfileClaims(claims, required).length > 0;
}

/** Adds the check to the policy's consent prompt. */
export function requireClientProfileClaims(policy: ReturnType<typeof interactionPolicy.base>): void {
  policy
    .get('consent')!
    .checks.push(new interactionPolicy.Check(REQUIRED_CLAIMS_MISSING, 'the client requires profile claims the account does not have', 'interaction_required', lacksRequiredClaims));
}
