// Bearer authentication for Keyhold's own Account API (RFC 6750). Its access tokens are
// opaque and stored by the engine, so each call looks the token up: a revoked grant, an
// ended session, a removed client or a deleted account stops it at once.
import type { Context, Middleware } from 'koa';
import type { Config } from '#src/config.ts';
import { KeyholdError, type ErrorMessageKey } from '#src/errors.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import { sessionByUid } from '#src/oidc/sessions.ts';
import { bearerToken, challenge, invalidToken } from '#src/routes/bearer-token.ts';
import type { Account, AccountService } from '#src/services/accounts.ts';
import { accountResourceFor } from '#src/services/resources.ts';

export type AccountScope = 'account:read' | 'account:write';

/** Who calls: put on ctx.state.accountToken by requireAccountToken. */
export interface AccountToken {
  account: Account;
  accountId: string;
  grantId: string;
  clientId: string;
  /** The engine session the token was issued in, when it was. */
  sessionUid?: string;
  /** When the user last signed in to that session (epoch seconds), if it still exists; only for first-party clients. */
  authTime?: number;
  /** The assurance (acr) of that sign-in, under the same conditions. */
  acr?: string;
}

export interface AccountAuthDependencies {
  engine: EngineHost;
  config: Config;
  accounts: AccountService;
}

export function requireAccountToken(deps: AccountAuthDependencies, scope: AccountScope): Middleware {
  const resource = accountResourceFor(deps.config.ISSUER);

  const refuse = (key: ErrorMessageKey) => invalidToken(resource, key);

  const authenticate = async (ctx: Context): Promise<AccountToken> => {
    const value = bearerToken(ctx, resource, 'error.unauthorized.token_required');

    const { provider } = deps.engine;
    const token = await provider.AccessToken.find(value);
    if (!token || token.isExpired) throw refuse('error.unauthorized.token_invalid');
    if (token.aud !== resource) throw refuse('error.unauthorized.token_audience');
    // A sender-constrained (DPoP) token is not usable as a plain bearer token.
    if (token.isSenderConstrained()) throw refuse('error.unauthorized.token_sender_constrained');
    const grant = token.grantId ? await provider.Grant.find(token.grantId) : undefined;
    if (!grant || grant.accountId !== token.accountId || grant.clientId !== token.clientId) throw refuse('error.unauthorized.token_revoked');
    const client = token.clientId ? await provider.Client.find(token.clientId) : undefined;
    if (!client) throw refuse('error.unauthorized.token_client_gone');
    const account = await deps.accounts.findById(token.accountId);
    if (!account?.active) throw refuse('error.unauthorized.token_account_gone');

    if (!token.scopes.has(scope)) {
      throw new KeyholdError('forbidden', { key: 'error.forbidden.scope', params: { scope }, headers: { 'WWW-Authenticate': challenge(resource, { error: 'insufficient_scope', scope }) } });
    }
    // A recent sign-in stands in for the password (email change, deletion) only in the
    // operator's own apps: a third-party app the user let use the API is not the user, and
    // must not turn a sign-in moments ago into an account takeover.
    const session = token.sessionUid && client['first_party'] === true ? await sessionByUid(provider, token.sessionUid) : undefined;
    const authTime = session?.accountId === account.id ? session.authTime : undefined;
    return {
      account,
      accountId: account.id,
      grantId: token.grantId,
      clientId: client.clientId,
      ...(token.sessionUid ? { sessionUid: token.sessionUid } : {}),
      ...(typeof authTime === 'number' ? { authTime } : {}),
      ...(typeof authTime === 'number' && session?.acr ? { acr: session.acr } : {}),
    };
  };

  return async (ctx, next) => {
    ctx.state.accountToken = await authenticate(ctx);
    return next();
  };
}

/** The caller authenticated by requireAccountToken. */
export function accountTokenOf(ctx: Context): AccountToken {
  const token = ctx.state.accountToken as AccountToken | undefined;
  if (!token) throw new Error('requireAccountToken must run before this handler');
  return token;
}

/** The refusal for a token whose account disappeared while the request ran. */
export function accountGone(config: Config): KeyholdError {
  return invalidToken(accountResourceFor(config.ISSUER), 'error.unauthorized.token_account_gone');
}
