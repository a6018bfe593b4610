// The engine's configuration: which protocol features are on and which hook answers each
// question the engine asks (src/oidc/hooks/, one module per hook). Everything protocol is
// the engine's; this file only decides and assembles.
import type { Configuration } from 'oidc-provider';
import type { Config } from '#src/config.ts';
import { supportedLanguages } from '#src/messages/index.ts';
import { engineCookies } from '#src/oidc/hooks/cookies.ts';
import { clientBasedCORS } from '#src/oidc/hooks/client-cors.ts';
import { apiScope, clientTenant, extraClientMetadata, firstParty, introspection, requireMfa } from '#src/oidc/hooks/client-metadata.ts';
import { successSource, userCodeConfirmSource, userCodeInputSource } from '#src/oidc/hooks/device-pages.ts';
import { DYNAMIC_CLIENT_POLICY, dynamicClientPolicy } from '#src/oidc/hooks/dynamic-registration.ts';
import { fapiProfile, fapiProfileProperty } from '#src/oidc/hooks/fapi-profile.ts';
import { pairwiseIdentifier } from '#src/oidc/hooks/pairwise-subjects.ts';
import { extraTokenClaims } from '#src/oidc/hooks/extra-token-claims.ts';
import { findAccount } from '#src/oidc/hooks/find-account.ts';
import { loadExistingGrant } from '#src/oidc/hooks/first-party-grant.ts';
import { restoreFirstPartyOfflineAccess } from '#src/oidc/hooks/first-party-offline-access.ts';
import { interactions, promptValuesSupported } from '#src/oidc/hooks/interaction-policy.ts';
import { introspectionAllowedPolicy } from '#src/oidc/hooks/introspection-policy.ts';
import { logoutSource, postLogoutSuccessSource } from '#src/oidc/hooks/logout-pages.ts';
import { outgoingFetch } from '#src/oidc/hooks/outgoing-fetch.ts';
import { renderError } from '#src/oidc/hooks/render-error.ts';
import { resourceServer } from '#src/oidc/hooks/resource-server.ts';
import { revocationAllowedPolicy } from '#src/oidc/hooks/revocation-policy.ts';
import { ttl } from '#src/oidc/hooks/ttl.ts';
import type { AccountService } from '#src/services/accounts.ts';
import { ACR } from '#src/services/authentication/assurance.ts';
import type { MfaRequirement } from '#src/services/mfa/requirement.ts';
import type { AuthorizationService } from '#src/services/authorization.ts';
import { OIDC_SCOPES, standardClaims } from '#src/services/claims.ts';
import type { ApiResource } from '#src/services/resources.ts';
import { requiredClaims } from '#src/oidc/hooks/client-metadata-required-claims.ts';

export interface EngineDependencies {
  config: Config;
  accounts: AccountService;
  /** How the engine's per-token lookups read an account (a cache in front of `accounts`). */
  accountLookup?: Pick<AccountService, 'findById'>;
  findResource(identifier: string): Promise<ApiResource | undefined>;
  authorization: AuthorizationService;
  /** The requested scopes that neither OpenID Connect nor any registered API defines. */
  undefinedScopes(requested: string[]): Promise<string[]>;
  adapter: NonNullable<Configuration['adapter']>;
  jwks: { keys: Record<string, unknown>[] };
  cookieKeys: string[];
  /** Asked by the step-up check whether a session owes a second factor. */
  mfaRequirement?: MfaRequirement;
  /** 32 bytes shared by every node: DPoP nonces issued by one are accepted by all. */
  dpopNonceSecret: Buffer;
  /** HMAC key of pairwise subject identifiers. */
  pairwiseKey: Buffer;
}

const mfaAvailable = (config: Config) => config.MFA_TOTP || config.MFA_EMAIL || config.MFA_SMS || config.PASSKEYS;

export function engineConfiguration(deps: EngineDependencies): Configuration {
  const { config, accounts } = deps;
  const accountLookup = deps.accountLookup ?? accounts;
  const interaction = interactions({
    registrationOpen: config.REGISTRATION !== 'closed',
    ...(deps.mfaRequirement ? { stepUp: { accounts, mfaRequirement: deps.mfaRequirement, passkeys: config.PASSKEYS } } : {}),
  });

  return {
    adapter: deps.adapter,
    jwks: deps.jwks as Configuration['jwks'],
    cookies: engineCookies({ keys: deps.cookieKeys, secure: config.secureCookies }),

    claims: standardClaims,
    // Code flow only (RFC 9700 §2.1.2: no implicit or hybrid responses).
    responseTypes: ['code'],
    // ID tokens are signed with the first configured algorithm unless a client asks for
    // another one that Keyhold has keys for.
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: config.SIGNING_ALGS[0],
    },
    scopes: [...OIDC_SCOPES],
    // What sign-ins can reach: a password; a second factor when any kind is switched on.
    acrValues: deps.mfaRequirement && mfaAvailable(config) ? [ACR.password, ACR.mfa, ...(config.PASSKEYS ? [ACR.phr] : [])] : [ACR.password],
    conformIdTokenClaims: true,
    // Per client: `subject_type: pairwise` (pairwise-subjects.ts).
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: pairwiseIdentifier(deps.pairwiseKey),
    // Runs after the engine's scope checks (the `scope` parameter itself is the engine's).
    extraParams: { scope: restoreFirstPartyOfflineAccess },
    // A first-party client's grant is made as its sign-in finishes, without a consent interaction.
    loadExistingGrant,

    findAccount: findAccount(accountLookup),
    extraTokenClaims: extraTokenClaims(accountLookup),

    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true, allowedPolicy: introspectionAllowedPolicy },
      revocation: { enabled: true, allowedPolicy: revocationAllowedPolicy },
      clientCredentials: { enabled: true },
      claimsParameter: { enabled: true },
      pushedAuthorizationRequests: { enabled: config.PAR, requirePushedAuthorizationRequests: config.PAR && config.REQUIRE_PAR },
      // Signed only: 'none' is not among the engine's request object algorithms.
      requestObjects: { enabled: config.REQUEST_OBJECTS },
      // User codes of 8 letters from a 20-letter alphabet without vowels (no words, no look-alikes).
      deviceFlow: { enabled: config.DEVICE_FLOW, charset: 'base-20', mask: '****-****', userCodeInputSource, userCodeConfirmSource, successSource },
      // Only with an initial access token (stored, single policy: dynamic-registration.ts).
      registration: {
        enabled: config.DYNAMIC_REGISTRATION,
        initialAccessToken: true,
        issueRegistrationAccessToken: true,
        policies: { [DYNAMIC_CLIENT_POLICY]: dynamicClientPolicy({ undefinedScopes: deps.undefinedScopes }) },
      },
      registrationManagement: { enabled: config.DYNAMIC_REGISTRATION, rotateRegistrationAccessToken: true },
      // Per client: `fapi_profile: "2.0"` (fapi-profile.ts); no profile for the others.
      fapi: { enabled: true, profile: fapiProfile },
      // Replays are caught through the adapter's ReplayDetection marks, stored once across
      // nodes (src/stores/oidc-adapter-*.ts).
      dPoP: { enabled: config.DPOP, nonceSecret: deps.dpopNonceSecret, requireNonce: () => config.DPOP_REQUIRE_NONCE, allowReplay: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      resourceIndicators: {
        enabled: true,
        ...resourceServer({
          issuer: config.ISSUER,
          accessTokenTtl: config.ACCESS_TOKEN_TTL,
          signingAlg: config.SIGNING_ALGS[0]!,
          accounts: accountLookup,
          findResource: deps.findResource,
          authorization: deps.authorization,
          undefinedScopes: deps.undefinedScopes,
        }),
      },
    },

    extraClientMetadata: extraClientMetadata([firstParty, introspection, apiScope, requiredClaims, requireMfa, clientTenant, fapiProfileProperty]),
    clientBasedCORS,

    // Rotate on every use for every client type; reuse detection is in the adapters and
    // the engine (a consumed token presented again revokes the grant).
    rotateRefreshToken: true,
    ttl: ttl(config),

    // `create` is looked for there before a client sends prompt=create.
    discovery: {
      claim_types_supported: ['normal'],
      prompt_values_supported: promptValuesSupported(interaction.policy!),
      // The languages of the pages (src/messages/); others are answered in English.
      ui_locales_supported: [...supportedLanguages],
    },
    interactions: interaction,
    renderError,
    fetch: outgoingFetch({ allowLoopback: config.ALLOW_LOOPBACK_REQUESTS }),
  };
}
