// The engine's guard for second factors inside an existing session. The login prompt's own
// checks cover no session, max_age and essential acr claims; this one adds: the browser's
// session was signed in with less than a second factor while one is due now — acr_values
// asks for it (urn:keyhold:acr:mfa or the PAPE multi-factor URI), the client has
// `require_mfa`, or the account has factors or must enrol one. The login prompt then opens
// (reason `acr_step_up`) and the interaction asks for the factor only; with prompt=none the
// request ends with interaction_required.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { AccountService } from '#src/services/accounts.ts';
import { atLeast, levelOfAcr, requiredLevel } from '#src/services/authentication/assurance.ts';
import type { MfaRequirement } from '#src/services/mfa/requirement.ts';

export const ACR_STEP_UP = 'acr_step_up';

export interface StepUpDependencies {
  accounts: Pick<AccountService, 'findById'>;
  mfaRequirement: Pick<MfaRequirement, 'demand'>;
  /** Passkeys are on: urn:keyhold:acr:phr can be reached (by a passkey, enrolled if need be). */
  passkeys: boolean;
}

export function stepUpCheck(deps: StepUpDependencies) {
  return async (ctx: KoaContextWithOIDC): Promise<boolean> => {
    const { session, params, client } = ctx.oidc;
    if (!session?.accountId) return false;
    // A result just posted is the sign-in itself: nothing to step up from.
    if (ctx.oidc.result?.login) return false;
    const current = levelOfAcr(session.acr ?? '') ?? 'password';
    const acrValues = typeof params?.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
    if (deps.passkeys && requiredLevel({ acrValues }) === 'phr') return !atLeast(current, 'phr');
    if (atLeast(current, 'mfa')) return false;
    // As in the sign-in (flowWantsMfa): acr_values naming mfa; a level nothing reaches stays voluntary.
    const requested = requiredLevel({ acrValues }) === 'mfa';
    const account = await deps.accounts.findById(session.accountId);
    if (!account?.active) return false;
    const demand = await deps.mfaRequirement.demand(account, client as unknown as Record<string, unknown> | undefined, requested);
    return demand === 'challenge' || demand === 'enrol';
  };
}

/** Adds the check to the policy's login prompt. */
export function requireStepUp(policy: ReturnType<typeof interactionPolicy.base>, deps: StepUpDependencies): void {
  policy.get('login')!.checks.push(new interactionPolicy.Check(ACR_STEP_UP, 'a second factor is required', 'interaction_required', stepUpCheck(deps)));
}
