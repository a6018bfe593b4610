// Sign-in method: an identity at an upstream provider (a connector). The upstream vouches
// for the person; Keyhold maps the upstream identity to an account
// (src/services/federation/identities.ts). It tells who the account is, and counts as its
// own factor kind: what the upstream checked is not Keyhold's to count as knowledge or
// possession.
import type { SignInMethod } from '#src/services/authentication/types.ts';

export const federatedMethod: SignInMethod = {
  id: 'federated',
  amr: ['fed'],
  factor: 'federated',
  phishingResistant: false,
  identifies: true,
};

// RFC 8176 values an upstream may assert that are passed on. `mfa` is Keyhold's own
// conclusion from the factors it saw, and passed on only from a connector trusted for it.
const UPSTREAM_AMR = ['face', 'fpt', 'geo', 'hwk', 'iris', 'kba', 'mca', 'otp', 'pin', 'pwd', 'rba', 'retina', 'sc', 'sms', 'swk', 'tel', 'user', 'vbm', 'wia'];

/** The method as used in one sign-in: `fed` plus the registered amr values the upstream asserted. */
export function federatedMethodWith(upstreamAmr: readonly string[], options: { trustUpstreamMfa: boolean }): SignInMethod {
  const passed = upstreamAmr.filter((value) => UPSTREAM_AMR.includes(value) || (options.trustUpstreamMfa && value === 'mfa'));
  return { ...federatedMethod, amr: [...new Set([...federatedMethod.amr, ...passed])] };
}

/**
 * The second factor an upstream asserted (amr `mfa`), recorded only for a connector the
 * operator trusts for it (`trust_upstream_mfa`): the sign-in then reaches multi-factor
 * without a second factor at Keyhold. It never identifies anyone on its own.
 */
export const upstreamMfaMethod: SignInMethod = {
  id: 'federated-mfa',
  amr: ['mfa'],
  factor: 'possession',
  phishingResistant: false,
  identifies: false,
};

/** Whether this sign-in's upstream multi-factor assertion counts. */
export const upstreamMfaCounts = (upstreamAmr: readonly string[], options: { trustUpstreamMfa: boolean }) => options.trustUpstreamMfa && upstreamAmr.includes('mfa');
