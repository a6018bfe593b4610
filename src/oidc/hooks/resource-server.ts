// RFC 8707 resource indicators: which API a token is for, and which of its scopes it may
// carry. No default audience: a request without `resource` gets an opaque token usable at
// userinfo; one with `resource` gets a JWT for that API (Keyhold's own APIs excepted).
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Config } from '#src/config.ts';
import type { AccountService } from '#src/services/accounts.ts';
import type { AuthorizationService, TokenSubject } from '#src/services/authorization.ts';
import { clientApiAllowList } from '#src/services/client-scopes.ts';
import { accountResourceFor, adminResourceFor, type ApiResource } from '#src/services/resources.ts';

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

export interface ResourceServerDependencies {
  issuer: string;
  /** The lifetime of an API's access tokens when the API sets none. */
  accessTokenTtl: number;
  signingAlg: Config['SIGNING_ALGS'][number];
  accounts: Pick<AccountService, 'findById'>;
  findResource(identifier: string): Promise<ApiResource | undefined>;
  authorization: AuthorizationService;
  /** The requested scopes that neither OpenID Connect nor any registered API defines. */
  undefinedScopes(requested: string[]): Promise<string[]>;
}

// On whose behalf the engine asks for a resource's scopes: at the token endpoint the grant's
// account (its current roles, so a role taken away stops new tokens); at the authorization
// endpoint the signed-in account, or nobody yet (sign-in comes first, then this runs again).
async function tokenSubject(ctx: KoaContextWithOIDC, accounts: ResourceServerDependencies['accounts']): Promise<TokenSubject> {
  const engineAccount = ctx.oidc.account as { accountId: string; roles?: string[] } | undefined;
  if (engineAccount?.roles) return { kind: 'account', roles: engineAccount.roles };
  const accountId = engineAccount?.accountId ?? ctx.oidc.session?.accountId;
  if (accountId) return { kind: 'account', roles: (await accounts.findById(accountId))?.roles ?? [] };
  if (ctx.oidc.route === 'token') return { kind: 'client' };
  return { kind: 'pending-user' };
}

export function resourceServer(deps: ResourceServerDependencies): Pick<ResourceIndicators, 'defaultResource' | 'useGrantedResource' | 'getResourceServerInfo'> {
  const ownApis = new Set([accountResourceFor(deps.issuer), adminResourceFor(deps.issuer)]);

  // The engine drops scopes it does not know without a word; Keyhold answers invalid_scope
  // (RFC 6749 §4.1.2.1, §5.2). Checked where the engine resolves the request's resources,
  // which every authorization request (plain, resumed, pushed) and every client_credentials
  // request passes through: once per request.
  const scopesChecked = new WeakSet<object>();
  const assertScopesDefined = async (ctx: KoaContextWithOIDC): Promise<void> => {
    if (scopesChecked.has(ctx)) return;
    const requested = typeof ctx.oidc.params?.scope === 'string' ? ctx.oidc.params.scope.split(' ') : [];
    const unknown = await deps.undefinedScopes(requested);
    if (unknown.length > 0) throw new errors.InvalidScope('requested scope is not defined', unknown[0]!);
    scopesChecked.add(ctx);
  };

  return {
    async defaultResource(ctx, _client, oneOf) {
      await assertScopesDefined(ctx);
      return oneOf;
    },
    useGrantedResource: async () => true,
    // `scope` is what this client may get for this subject; the engine intersects the
    // requested scopes with it (consent, grant, token), so nothing else is ever issued.
    async getResourceServerInfo(ctx, identifier, client) {
      await assertScopesDefined(ctx);
      const resource = await deps.findResource(identifier);
      if (!resource) throw new errors.InvalidTarget('unknown resource');
      const scopes = await deps.authorization.grantableScopes(resource, clientApiAllowList(client), await tokenSubject(ctx, deps.accounts));
      return {
        audience: resource.identifier,
        scope: scopes.join(' '),
        // Keyhold's own APIs are served by the issuer itself: opaque tokens, looked up on
        // every call, so revocation (logout, password reset) takes effect at once.
        accessTokenFormat: ownApis.has(resource.identifier) ? 'opaque' : 'jwt',
        accessTokenTTL: resource.accessTokenTtl ?? deps.accessTokenTtl,
        jwt: { sign: { alg: deps.signingAlg } },
      };
    },
  };
}
