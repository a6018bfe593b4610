// offline_access for first-party clients without prompt=consent. The engine drops
// offline_access from every authorization request whose prompt lacks `consent` (OIDC Core
// 11: the user must consent to offline access), which common SPA libraries never send. A
// first-party client's consent is the operator's (its consent page is skipped anyway), so
// for such a client the scope is restored right after the engine's scope check, from the
// request as the client sent it. Everything else stays the engine's: the restored scope
// goes through its consent prompt (granted without a page for first-party clients), the
// code carries it, and the engine's default issueRefreshToken issues the refresh token.
// prompt=none is left alone: a silent renewal must not start needing consent.
import { decodeJwt } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';

const OFFLINE_ACCESS = 'offline_access';

type EngineClient = NonNullable<KoaContextWithOIDC['oidc']['client']>;

/** The scope of the request as the client sent it: its request object's when it used one. */
function sentScope(ctx: KoaContextWithOIDC): string | undefined {
  const { oidc } = ctx;
  const body = (oidc.body ?? {}) as Record<string, unknown>;
  // The engine has verified the request object (pushed, by value) before this runs.
  const requestObject = oidc.entities.PushedAuthorizationRequest?.request ?? body.request ?? ctx.query.request;
  if (typeof requestObject === 'string') {
    const { scope } = decodeJwt(requestObject);
    return typeof scope === 'string' ? scope : undefined;
  }
  const scope = ctx.method === 'POST' ? body.scope : ctx.query.scope;
  return typeof scope === 'string' ? scope : undefined;
}

const isFirstParty = (client: EngineClient) => (client as unknown as Record<string, unknown>)['first_party'] === true;

/** An `extraParams` validator for `scope`: it runs after the engine's own scope checks. */
export async function restoreFirstPartyOfflineAccess(ctx: KoaContextWithOIDC, scope: string | undefined, client: EngineClient | undefined): Promise<void> {
  if (!client || !isFirstParty(client) || !client.grantTypeAllowed('refresh_token')) return;
  // The client's own allow-list still applies (the engine checked it without the scope).
  if (client.scope && !client.scope.split(' ').includes(OFFLINE_ACCESS)) return;
  const { params } = ctx.oidc;
  if (!params) return;
  if (typeof params.response_type === 'string' && !params.response_type.split(' ').includes('code')) return;
  if (ctx.oidc.prompts.has('none')) return;
  const granted = new Set(scope?.split(' ') ?? []);
  if (granted.has(OFFLINE_ACCESS) || !sentScope(ctx)?.split(' ').includes(OFFLINE_ACCESS)) return;
  params.scope = [...granted, OFFLINE_ACCESS].join(' ');
}
