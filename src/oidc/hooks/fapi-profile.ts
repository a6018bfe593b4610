// The FAPI 2.0 Security Profile, switched on per client with `fapi_profile: "2.0"`. The
// engine then applies its FAPI 2.0 checks to that client's requests (PKCE with S256, an
// exact redirect_uri, client assertions and request objects audienced to the issuer with
// exp/nbf). What the profile asks of the client's registration is checked here, at
// registration and at every load: private_key_jwt client authentication, the code flow
// only, and ID tokens signed with PS256, ES256 or EdDSA. Pushed authorization requests and
// DPoP-bound tokens are simply turned on for the client (its own value of
// require_pushed_authorization_requests / dpop_bound_access_tokens, whatever it is, yields).
import { errors, type Configuration } from 'oidc-provider';
import type { ClientMetadataProperty } from '#src/oidc/hooks/client-metadata.ts';

export const FAPI_PROFILE_PROPERTY = 'fapi_profile';
const FAPI_2 = '2.0';
const FAPI_SIGNING_ALGS = ['PS256', 'ES256', 'EdDSA'];

// The engine has already defaulted these to false when absent: an explicit false cannot be
// told apart, so the profile decides.
const TURNED_ON = ['require_pushed_authorization_requests', 'dpop_bound_access_tokens'];

export const fapiProfileProperty: ClientMetadataProperty = {
  name: FAPI_PROFILE_PROPERTY,
  validate(value, metadata) {
    if (value === undefined) return;
    if (value !== FAPI_2) throw new errors.InvalidClientMetadata(`${FAPI_PROFILE_PROPERTY} must be "${FAPI_2}"`);
    if (metadata.token_endpoint_auth_method !== 'private_key_jwt') {
      throw new errors.InvalidClientMetadata(`${FAPI_PROFILE_PROPERTY} 2.0 needs token_endpoint_auth_method private_key_jwt`);
    }
    const responseTypes = Array.isArray(metadata.response_types) ? metadata.response_types : [];
    if (responseTypes.some((type) => type !== 'code')) throw new errors.InvalidClientMetadata(`${FAPI_PROFILE_PROPERTY} 2.0 allows response_types code only`);
    if (!FAPI_SIGNING_ALGS.includes(String(metadata.id_token_signed_response_alg))) {
      throw new errors.InvalidClientMetadata(`${FAPI_PROFILE_PROPERTY} 2.0 needs id_token_signed_response_alg ${FAPI_SIGNING_ALGS.join(', ')}`);
    }
    for (const name of TURNED_ON) metadata[name] = true;
  },
};

/** The engine's per-request question: which FAPI profile applies (none unless the client opted in). */
export const fapiProfile: NonNullable<NonNullable<NonNullable<Configuration['features']>['fapi']>['profile']> = (_ctx, client) =>
  (client as unknown as Record<string, unknown> | undefined)?.[FAPI_PROFILE_PROPERTY] === FAPI_2 ? FAPI_2 : undefined;
