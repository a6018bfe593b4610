// Initial access tokens for dynamic client registration, issued by the operator
// (`keyhold client initial-token`). They are engine objects, stored with the rest of the
// engine's state (Redis or SQL) so every node accepts them; a bare engine built from the
// same configuration writes one, as the client validator does (client-validator.ts).
import Provider from 'oidc-provider';
import type { Core } from '#src/core.ts';
import { KeyholdError } from '#src/errors.ts';
import { engineOptions } from '#src/oidc/engine-options.ts';
import { DYNAMIC_CLIENT_POLICY } from '#src/oidc/hooks/dynamic-registration.ts';
import { loadEngineJwks } from '#src/services/signing-keys.ts';

export async function issueInitialAccessToken(
  core: Parameters<typeof engineOptions>[0] & Pick<Core, 'keyOptions'>,
  ttlSeconds: number,
): Promise<{ initial_access_token: string; expires_at: string }> {
  if (!core.config.DYNAMIC_REGISTRATION) throw new KeyholdError('dynamic_registration_off');
  const { keys } = await loadEngineJwks(core.db, core.keyOptions);
  const provider = new Provider(core.config.ISSUER, engineOptions(core)({ keys }));
  const token = new provider.InitialAccessToken({ expiresIn: ttlSeconds, policies: [DYNAMIC_CLIENT_POLICY] });
  const issuedAt = Date.now();
  const value = await token.save();
  return { initial_access_token: value, expires_at: new Date(issuedAt + ttlSeconds * 1000).toISOString() };
}
