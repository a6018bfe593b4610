// The results Keyhold hands the engine when an interaction step is done: a finished login
// and a consent grant. Routes decide when; these say what the engine is told.
import type { InteractionResults } from 'oidc-provider';
import { KeyholdError } from '#src/errors.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';

type InteractionDetails = Awaited<ReturnType<EngineHost['provider']['interactionDetails']>>;

/**
 * A finished sign-in (acr, amr and auth_time come from the login flow's verifications).
 * `create` resolves a prompt=create request as well: registration ends signed in.
 */
export function loginResult(login: NonNullable<InteractionResults['login']>): InteractionResults {
  return { login, create: {} };
}

interface ConsentPromptDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export const consentPromptDetails = (details: InteractionDetails) => details.prompt.details as ConsentPromptDetails;

/**
 * Grants what the consent prompt found missing: exactly what the engine computed from what
 * this client and account may get (getResourceServerInfo), never what the request named.
 */
export async function grantConsent(engine: EngineHost, details: InteractionDetails): Promise<InteractionResults> {
  const { provider } = engine;
  const missing = consentPromptDetails(details);
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
  if (!grant) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.grant_revoked' });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  return { consent: details.grantId ? {} : { grantId } };
}
