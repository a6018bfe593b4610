// Client metadata `required_claims`: the profile claims a client needs before it gets a
// code (progressive profiling, see services/profile-requirements.ts). The engine calls the
// validator for client registration, the CLI and the client store alike.
import { errors } from 'oidc-provider';
import type { ClientMetadataProperty } from '#src/oidc/hooks/client-metadata.ts';
import { isRequirableProfileClaim, REQUIRABLE_PROFILE_CLAIMS } from '#src/services/profile-requirements.ts';

export const REQUIRED_CLAIMS_PROPERTY = 'required_claims';

export function validateRequiredClaims(value: unknown): void {
  if (value === undefined) return;
  const known = REQUIRABLE_PROFILE_CLAIMS.join(', ');
  if (!Array.isArray(value)) throw new errors.InvalidClientMetadata(`${REQUIRED_CLAIMS_PROPERTY} must be an array of claim names (${known})`);
  const unknown = value.filter((claim) => !isRequirableProfileClaim(claim));
  if (unknown.length > 0) throw new errors.InvalidClientMetadata(`${REQUIRED_CLAIMS_PROPERTY} may only list ${known}`);
  if (new Set(value).size !== value.length) throw new errors.InvalidClientMetadata(`${REQUIRED_CLAIMS_PROPERTY} lists a claim twice`);
}

export const requiredClaims: ClientMetadataProperty = { name: REQUIRED_CLAIMS_PROPERTY, validate: validateRequiredClaims };
