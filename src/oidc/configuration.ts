// The engine's configuration: which protocol features are on, how long things live, where
// accounts, clients and resources come from, and how its pages look. Everything protocol
// is the engine's; this file only decides.
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { errors, interactionPolicy } from 'oidc-provider';
import type { Config } from '#src/config.ts';
import type { AccountService } from '#src/services/accounts.ts';
import type { AuthorizationService, TokenSubject } from '#src/services/authorization.ts';
import { accountClaims, OIDC_SCOPES, standardClaims } from '#src/services/claims.ts';
import { API_SCOPE_PROPERTY, clientApiAllowList } from '#src/services/client-scopes.ts';
import { accountResourceFor, adminResourceFor, type ApiResource } from '#src/services/resources.ts';
// Progressive profiling (sign-in pipeline): the client metadata property and the engine's guard.
import { REQUIRED_CLAIMS_PROPERTY, validateRequiredClaims } from '#src/oidc/hooks/client-metadata-required-claims.ts';
import { requireClientProfileClaims } from '#src/oidc/hooks/required-claims-check.ts';
import { renderView } from '#src/views.ts';

export const ACR_PASSWORD = 'urn:keyhold:acr:password';

export interface EngineDependencies {
  config: Config;
  accounts: AccountService;
  findResource(identifier: string): Promise<ApiResource | undefined>;
  authorization: AuthorizationService;
  /** The requested scopes that neither OpenID Connect nor any registered API defines. */
  undefinedScopes(requested: string[]): Promise<string[]>;
  adapter: NonNullable<Configuration['adapter']>;
  jwks: { keys: Record<string, unknown>[] };
  cookieKeys: string[];
}

// The engine's login and consent prompts, plus `create` (OpenID Connect "Initiating User
// Registration", prompt=create) while registration is not closed: requested by the client,
// it opens the registration page first.
function interactionPolicyFor(config: Config) {
  const policy = interactionPolicy.base();
  if (config.REGISTRATION !== 'closed') policy.add(new interactionPolicy.Prompt({ name: 'create', requestable: true }), 0);
  requireClientProfileClaims(policy);
  return policy;
}

function isLoopbackUrl(url: string | URL): boolean {
  const { hostname } = new URL(url);
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function clientName(ctx: KoaContextWithOIDC): string | undefined {
  const client = ctx.oidc?.client;
  return client ? (client.clientName ?? client.clientId) : undefined;
}

// The engine drops scopes it does not know without a word; Keyhold answers invalid_scope
// (RFC 6749 §4.1.2.1, §5.2). Checked where the engine resolves the request's resources,
// which every authorization request (plain, resumed, pushed) and every client_credentials
// request passes through: once per request.
const scopesChecked = new WeakSet<object>();
async function assertScopesDefined(ctx: KoaContextWithOIDC, undefinedScopes: EngineDependencies['undefinedScopes']): Promise<void> {
  if (scopesChecked.has(ctx)) return;
  const requested = typeof ctx.oidc.params?.scope === 'string' ? ctx.oidc.params.scope.split(' ') : [];
  const unknown = await undefinedScopes(requested);
  if (unknown.length > 0) throw new errors.InvalidScope('requested scope is not defined', unknown[0]!);
  scopesChecked.add(ctx);
}

// On whose behalf the engine asks for a resource's scopes: at the token endpoint the grant's
// account (its current roles, so a role taken away stops new tokens); at the authorization
// endpoint the signed-in account, or nobody yet (sign-in comes first, then this runs again).
async function tokenSubject(ctx: KoaContextWithOIDC, accounts: AccountService): Promise<TokenSubject> {
  const engineAccount = ctx.oidc.account as { accountId: string; roles?: string[] } | undefined;
  if (engineAccount?.roles) return { kind: 'account', roles: engineAccount.roles };
  const accountId = engineAccount?.accountId ?? ctx.oidc.session?.accountId;
  if (accountId) return { kind: 'account', roles: (await accounts.findById(accountId))?.roles ?? [] };
  if (ctx.oidc.route === 'token') return { kind: 'client' };
  return { kind: 'pending-user' };
}

function originOf(uri: string): string | undefined {
  try {
    return new URL(uri).origin;
  } catch {
    return undefined;
  }
}

export function engineConfiguration(deps: EngineDependencies): Configuration {
  const { config, accounts } = deps;
  const ownApis = new Set([accountResourceFor(config.ISSUER), adminResourceFor(config.ISSUER)]);
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure: config.secureCookies, signed: true };

  return {
    adapter: deps.adapter,
    jwks: deps.jwks as Configuration['jwks'],
    cookies: {
      keys: deps.cookieKeys,
      long: cookieOptions,
      short: cookieOptions,
      names: { session: 'keyhold_session', interaction: 'keyhold_interaction', resume: 'keyhold_resume' },
    },

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
    acrValues: [ACR_PASSWORD],
    conformIdTokenClaims: true,

    async findAccount(_ctx, sub) {
      const account = await accounts.findById(sub);
      if (!account || !account.active) return undefined;
      return {
        accountId: account.id,
        // Read by getResourceServerInfo at the token endpoint.
        roles: account.roles,
        // Everything the account has; the engine releases only what the granted scopes
        // (OIDC Core 5.4) or the claims parameter allow.
        async claims() {
          return accountClaims(account);
        },
      };
    },

    // Access tokens for an API resource carry the granted scopes as `permissions` and the
    // account's authorisation data (RFC 9068 plus Keyhold's claims); opaque tokens keep it
    // server-side.
    async extraTokenClaims(_ctx, token) {
      if (!token.resourceServer || (token.kind !== 'AccessToken' && token.kind !== 'ClientCredentials')) return undefined;
      const permissions = typeof token.scope === 'string' ? token.scope.split(' ').filter(Boolean) : [];
      const accountId = token.kind === 'AccessToken' ? (token as { accountId?: string }).accountId : undefined;
      if (!accountId) return { permissions };
      const account = await accounts.findById(accountId);
      if (!account) return { permissions };
      return {
        permissions,
        roles: account.roles,
        ...(account.tier ? { tier: account.tier } : {}),
        ...(account.tenant ? { tenant: account.tenant } : {}),
      };
    },

    features: {
      devInteractions: { enabled: false },
      // RFC 7662 §4: a caller learns about a token only when it is the token's own client
      // or a client the operator registered as a resource server (`introspection: true`).
      introspection: {
        enabled: true,
        async allowedPolicy(_ctx, client, token) {
          return token.clientId === client.clientId || client['introspection'] === true;
        },
      },
      revocation: {
        enabled: true,
        async allowedPolicy(_ctx, client, token) {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      clientCredentials: { enabled: true },
      claimsParameter: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = renderView('logout', { title: 'Sign out', form, clientName: clientName(ctx) });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = renderView('logged-out', { title: 'Signed out', clientName: clientName(ctx) });
        },
      },
      resourceIndicators: {
        enabled: true,
        // No default audience: a request without `resource` gets an opaque token usable at
        // userinfo; one with `resource` gets a JWT for that API.
        async defaultResource(ctx, _client, oneOf) {
          await assertScopesDefined(ctx, deps.undefinedScopes);
          return oneOf;
        },
        useGrantedResource: async () => true,
        // `scope` is what this client may get for this subject; the engine intersects the
        // requested scopes with it (consent, grant, token), so nothing else is ever issued.
        async getResourceServerInfo(ctx, identifier, client) {
          await assertScopesDefined(ctx, deps.undefinedScopes);
          const resource = await deps.findResource(identifier);
          if (!resource) throw new errors.InvalidTarget('unknown resource');
          const scopes = await deps.authorization.grantableScopes(resource, clientApiAllowList(client), await tokenSubject(ctx, accounts));
          return {
            audience: resource.identifier,
            scope: scopes.join(' '),
            // Keyhold's own APIs are served by the issuer itself: opaque tokens, looked up on
            // every call, so revocation (logout, password reset) takes effect at once.
            accessTokenFormat: ownApis.has(resource.identifier) ? 'opaque' : 'jwt',
            accessTokenTTL: resource.accessTokenTtl ?? config.ACCESS_TOKEN_TTL,
            jwt: { sign: { alg: config.SIGNING_ALGS[0] } },
          };
        },
      },
    },

    extraClientMetadata: {
      // first_party: consent is skipped. introspection: may introspect other clients' tokens.
      // api_scope: the API scopes of `scope`, split off for the engine (client-scopes.ts).
      // required_claims: profile claims asked for after sign-in (progressive profiling).
      properties: ['first_party', 'introspection', API_SCOPE_PROPERTY, REQUIRED_CLAIMS_PROPERTY],
      validator(_ctx, key, value) {
        if (key === REQUIRED_CLAIMS_PROPERTY) return validateRequiredClaims(value);
        if (key === API_SCOPE_PROPERTY) {
          if (value !== undefined && typeof value !== 'string') throw new errors.InvalidClientMetadata(`${key} must be a string`);
          return;
        }
        if (value !== undefined && typeof value !== 'boolean') {
          throw new errors.InvalidClientMetadata(`${key} must be a boolean`);
        }
      },
    },

    clientBasedCORS(_ctx, origin, client) {
      if (origin === 'null') return false;
      return client.redirectUris?.some((uri) => originOf(uri) === origin) ?? false;
    },

    // Rotate on every use for every client type; reuse detection is in the adapters and
    // the engine (a consumed token presented again revokes the grant).
    rotateRefreshToken: true,
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.ACCESS_TOKEN_TTL,
      AuthorizationCode: config.AUTHORIZATION_CODE_TTL,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.CLIENT_CREDENTIALS_TTL,
      IdToken: config.ID_TOKEN_TTL,
      Interaction: config.INTERACTION_TTL,
      Session: config.SESSION_TTL,
      Grant: Math.max(config.REFRESH_TOKEN_TTL, config.SESSION_TTL),
      RefreshToken(ctx, token, client) {
        // A browser app's rotated token keeps the family's remaining life, so rotation can
        // never extend a public SPA's session forever.
        const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
        if (rotated && client.applicationType === 'web' && client.clientAuthMethod === 'none' && !token.isSenderConstrained()) {
          return rotated.remainingTTL;
        }
        return config.REFRESH_TOKEN_TTL;
      },
    },

    // The engine does not publish prompt_values_supported itself; clients look for
    // `create` there before sending prompt=create.
    discovery: {
      claim_types_supported: ['normal'],
      prompt_values_supported: ['none', ...interactionPolicyFor(config).filter((prompt) => prompt.requestable).map((prompt) => prompt.name)],
    },
    interactions: {
      policy: interactionPolicyFor(config),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },

    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = renderView('error', {
        title: 'Something went wrong',
        message: out.error_description ?? 'The request could not be completed.',
        code: out.error,
        requestId: ctx.state?.requestId,
      });
    },

    // The engine guards its outgoing requests (back-channel logout) against special-use
    // addresses. Loopback is let through only when configured (development, tests).
    fetch(url, options) {
      if (config.ALLOW_LOOPBACK_REQUESTS && !(url instanceof Request) && isLoopbackUrl(url)) {
        const { dispatcher: _dispatcher, ...rest } = options as RequestInit & { dispatcher?: unknown };
        return globalThis.fetch(url, rest);
      }
      return globalThis.fetch(url, options);
    },
  };
}
