// The assurance policy: which authentication context class (acr) and methods (amr) a set of
// verifications achieves, and what a sign-in still lacks for what was asked. Pure rules,
// no I/O: the login flow and the engine hooks ask here, never decide themselves.
import type { Verification } from '#src/services/authentication/types.ts';

export const ACR = {
  password: 'urn:keyhold:acr:password',
  mfa: 'urn:keyhold:acr:mfa',
  phr: 'urn:keyhold:acr:phr',
} as const;

/** OpenID PAPE's multi-factor policy URI, accepted as an alias of ACR.mfa. */
export const PAPE_MULTI_FACTOR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

export type AssuranceLevel = keyof typeof ACR;
const ORDER: readonly AssuranceLevel[] = ['password', 'mfa', 'phr'];

/** The level an acr value names, or undefined for one Keyhold does not know. */
export function levelOfAcr(acr: string): AssuranceLevel | undefined {
  if (acr === PAPE_MULTI_FACTOR) return 'mfa';
  return ORDER.find((level) => ACR[level] === acr);
}

export function atLeast(achieved: AssuranceLevel, required: AssuranceLevel): boolean {
  return ORDER.indexOf(achieved) >= ORDER.indexOf(required);
}

/** The highest level the verifications reach together; undefined when there are none. */
export function achievedLevel(verifications: readonly Verification[]): AssuranceLevel | undefined {
  if (verifications.length === 0) return undefined;
  // A phishing-resistant authenticator with user verification is itself multi-factor
  // (something you have, unlocked by something you know or are).
  if (verifications.some((verification) => verification.phishingResistant)) return 'phr';
  const kinds = new Set(verifications.map((verification) => verification.factor));
  return kinds.size >= 2 ? 'mfa' : 'password';
}

/** RFC 8176 amr: every method's values, plus `mfa` when more than one factor kind was used. */
export function amrOf(verifications: readonly Verification[]): string[] {
  const amr = new Set(verifications.flatMap((verification) => verification.amr));
  if (new Set(verifications.map((verification) => verification.factor)).size >= 2) amr.add('mfa');
  return [...amr];
}

export function acrOf(verifications: readonly Verification[]): string | undefined {
  const level = achievedLevel(verifications);
  return level ? ACR[level] : undefined;
}

export interface AssuranceRequest {
  /** acr_values of the authorization request, in the client's order of preference. */
  acrValues: readonly string[];
  /** Levels demanded by policy whatever the client asked (client `require_mfa`, tier, role). */
  policyMinimum?: AssuranceLevel;
}

/**
 * The level a sign-in must reach. acr_values are voluntary (OIDC Core 3.1.2.1): the lowest
 * known one requested is the target, unknown values are ignored; policy can only raise it.
 */
export function requiredLevel(request: AssuranceRequest): AssuranceLevel {
  const requested = request.acrValues.map(levelOfAcr).filter((level): level is AssuranceLevel => level !== undefined);
  let required: AssuranceLevel = requested.length > 0 ? requested.reduce((lowest, level) => (atLeast(lowest, level) ? level : lowest)) : 'password';
  if (request.policyMinimum && !atLeast(required, request.policyMinimum)) required = request.policyMinimum;
  return required;
}

/** What is still missing: nothing, the first factor, or a stronger one. */
export function missingStep(verifications: readonly Verification[], required: AssuranceLevel): 'none' | 'first_factor' | 'stronger_factor' {
  const achieved = achievedLevel(verifications);
  if (!achieved) return 'first_factor';
  return atLeast(achieved, required) ? 'none' : 'stronger_factor';
}
