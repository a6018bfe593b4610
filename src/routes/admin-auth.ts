// Bearer authentication for the Admin API (RFC 6750), the same way as the Account API's
// (account-auth.ts): its access tokens are opaque and looked up on every call, so a revoked
// grant, a removed client or a disabled administrator stops at once. A user's token acts as
// that account, a client_credentials token as the client; either is bound to its tenant
// unless the account holds the `owner` role.
import type { Context, Middleware } from 'koa';
import type { Config } from '#src/config.ts';
import { KeyholdError, type ErrorMessageKey } from '#src/errors.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import { bearerToken, challenge, invalidToken } from '#src/routes/bearer-token.ts';
import type { AccountService } from '#src/services/accounts.ts';
import { OWNER_ROLE, type AdminActor } from '#src/services/admin/actor.ts';
import { adminResourceFor } from '#src/services/resources.ts';

/** `admin` reads and writes; `admin:read` reads. */
export type AdminScope = 'admin' | 'admin:read';

export interface AdminAuthDependencies {
  engine: EngineHost;
  config: Config;
  accounts: Pick<AccountService, 'findById'>;
  /** The tenant a client belongs to; undefined when the client is gone. */
  clientTenant(clientId: string): Promise<string | undefined>;
}

interface EngineToken {
  aud?: unknown;
  accountId?: string;
  clientId?: string;
  grantId?: string;
  isExpired: boolean;
  scopes: Set<string>;
  isSenderConstrained(): boolean;
}

export function requireAdminToken(deps: AdminAuthDependencies, scope: AdminScope): Middleware {
  const resource = adminResourceFor(deps.config.ISSUER);
  const refuse = (key: ErrorMessageKey) => invalidToken(resource, key);

  const authenticate = async (ctx: Context): Promise<AdminActor> => {
    const value = bearerToken(ctx, resource, 'error.unauthorized.admin_token_required');

    const { provider } = deps.engine;
    // A user's token (authorization code) or a client's own (client_credentials).
    const token = ((await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value))) as EngineToken | undefined;
    if (!token || token.isExpired) throw refuse('error.unauthorized.token_invalid');
    if (token.aud !== resource) throw refuse('error.unauthorized.admin_token_audience');
    if (token.isSenderConstrained()) throw refuse('error.unauthorized.token_sender_constrained');
    const client = token.clientId ? await provider.Client.find(token.clientId) : undefined;
    const clientTenant = token.clientId ? await deps.clientTenant(token.clientId) : undefined;
    if (!client || clientTenant === undefined) throw refuse('error.unauthorized.token_client_gone');

    let actor: AdminActor;
    if (token.accountId) {
      const grant = token.grantId ? await provider.Grant.find(token.grantId) : undefined;
      if (!grant || grant.accountId !== token.accountId || grant.clientId !== token.clientId) throw refuse('error.unauthorized.token_revoked');
      const account = await deps.accounts.findById(token.accountId);
      if (!account?.active) throw refuse('error.unauthorized.token_account_gone');
      // The account's roles now, not when the token was issued: an owner demoted is bound at once.
      actor = { actor: `account:${account.id}`, ...(account.roles.includes(OWNER_ROLE) ? {} : { tenant: account.tenant ?? undefined }), ip: ctx.ip };
    } else {
      actor = { actor: `client:${client.clientId}`, tenant: clientTenant, ip: ctx.ip };
    }

    const allowed = scope === 'admin:read' ? token.scopes.has('admin') || token.scopes.has('admin:read') : token.scopes.has('admin');
    if (!allowed) {
      throw new KeyholdError('insufficient_scope', { params: { scope }, headers: { 'WWW-Authenticate': challenge(resource, { error: 'insufficient_scope', scope }) } });
    }
    return actor;
  };

  return async (ctx, next) => {
    ctx.state.adminActor = await authenticate(ctx);
    return next();
  };
}

/** The caller authenticated by requireAdminToken. */
export function adminActorOf(ctx: Context): AdminActor {
  const actor = ctx.state.adminActor as AdminActor | undefined;
  if (!actor) throw new Error('requireAdminToken must run before this handler');
  return actor;
}
