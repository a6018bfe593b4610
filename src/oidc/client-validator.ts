// The engine's own client metadata rules (redirect URIs, auth methods, algorithms the key
// set supports), which its typings do not fully describe. A serving engine has them; the
// CLI gets them from a bare engine built from the same configuration and the current key
// set, which is never mounted, serves nothing and starts no timer.
import Provider from 'oidc-provider';
import type { Core } from '#src/core.ts';
import { engineOptions } from '#src/oidc/engine-options.ts';
import type { ClientValidator } from '#src/services/clients.ts';
import { loadEngineJwks } from '#src/services/signing-keys.ts';

type EngineClientModel = {
  validate(metadata: Record<string, unknown>): Promise<void>;
  needsSecret(metadata: Record<string, unknown>): boolean;
};

export function clientValidatorOf(provider: Provider): ClientValidator {
  const Client = provider.Client as unknown as EngineClientModel;
  return { validate: (metadata) => Client.validate(metadata), needsSecret: (metadata) => Client.needsSecret(metadata) };
}

export async function createClientValidator(core: Parameters<typeof engineOptions>[0] & Pick<Core, 'keyOptions'>): Promise<ClientValidator> {
  const { keys } = await loadEngineJwks(core.db, core.keyOptions);
  return clientValidatorOf(new Provider(core.config.ISSUER, engineOptions(core)({ keys })));
}
