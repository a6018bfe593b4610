// Progressive profiling: a client may declare profile claims it cannot work without
// (client metadata `required_claims`); a user who lacks any of them is asked for them once,
// after sign-in, before the client gets a code. Pure rules, no I/O.

/** The profile claims a client may require: the ones a user can type in themselves. */
export const REQUIRABLE_PROFILE_CLAIMS = ['name', 'given_name', 'family_name', 'phone_number', 'locale', 'zoneinfo', 'picture'] as const;
export type RequirableProfileClaim = (typeof REQUIRABLE_PROFILE_CLAIMS)[number];

const requirable: ReadonlySet<string> = new Set(REQUIRABLE_PROFILE_CLAIMS);
export const isRequirableProfileClaim = (claim: unknown): claim is RequirableProfileClaim => typeof claim === 'string' && requirable.has(claim);

/** A loaded client's `required_claims`, ignoring anything that is not a requirable claim. */
export function requiredClaimsOf(client: { [key: string]: unknown } | undefined): RequirableProfileClaim[] {
  const value = client?.['required_claims'];
  return Array.isArray(value) ? value.filter(isRequirableProfileClaim) : [];
}

/** The required claims that the account's claims (as the engine releases them) lack. */
export function missingProfileClaims(claims: Record<string, unknown>, required: readonly RequirableProfileClaim[]): RequirableProfileClaim[] {
  return required.filter((claim) => {
    const value = claims[claim];
    return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
  });
}
