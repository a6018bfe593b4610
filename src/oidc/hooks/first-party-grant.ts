// The grant of a first-party client, made as the sign-in that needs it finishes. A
// first-party client's consent page is never shown (consent.ts grants what the engine
// found missing), but without this the engine still opens a second interaction for it after
// every sign-in: a redirect to /interaction/<uid>, the consent route granting, a redirect
// back to /auth/<uid>, with the interaction and the session read and written again. When
// the engine resumes from a login interaction (which only the sign-in pipeline finishes,
// after every one of its steps), the grant is made here instead, holding exactly what the
// engine's consent checks would find missing from an empty grant: the requested OpenID
// scopes and claims, and of each API's scopes those requested. Anything else (a grant the
// session already holds, another client, prompt=consent, a native client, authorization
// details, a client profile claim still missing) goes through the consent interaction as
// before: the engine's own checks decide whether it is asked for.
import type { KoaContextWithOIDC } from 'oidc-provider';

type Grant = InstanceType<KoaContextWithOIDC['oidc']['provider']['Grant']>;

// Claims the engine's consent check never asks for (op_claims_missing).
const ALWAYS_RELEASED = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

const isFirstParty = (client: KoaContextWithOIDC['oidc']['client']) => (client as unknown as Record<string, unknown> | undefined)?.['first_party'] === true;

export async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const { oidc } = ctx;
  const client = oidc.client!;
  // The engine's default: the grant the interaction gave, or the one the session holds.
  const grantId = (oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? oidc.session!.grantIdFor(client.clientId);
  if (grantId) return oidc.provider.Grant.find(grantId);
  if (oidc.route !== 'resume' || !oidc.result?.login || !isFirstParty(client)) return undefined;

  const grant = new oidc.provider.Grant({ accountId: oidc.account!.accountId, clientId: client.clientId });
  const scopes = [...oidc.requestParamOIDCScopes];
  if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
  const claims = [...oidc.requestParamClaims].filter((claim) => !ALWAYS_RELEASED.has(claim));
  if (claims.length > 0) grant.addOIDCClaims(claims);
  const requested = [...oidc.requestParamScopes];
  for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers ?? {})) {
    const granted = requested.filter((scope) => resourceServer.scopes.has(scope));
    if (granted.length > 0) grant.addResourceScope(indicator, granted.join(' '));
  }
  await grant.save();
  return grant;
}
