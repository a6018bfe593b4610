// The engine's configuration for a given key set, built from the core: its storage (the
// clients table for clients, the engine-state store for the rest) and the services its
// hooks ask. The engine host builds the serving engine from it, the client validator a
// bare one that only checks client metadata; both therefore apply the same rules.
import type { Configuration } from 'oidc-provider';
import type { Core } from '#src/core.ts';
import { engineConfiguration } from '#src/oidc/configuration.ts';
import { isOidcScope } from '#src/services/claims.ts';
import { fromEngineClientMetadata, toEngineClientMetadata } from '#src/services/client-scopes.ts';
import { findResource, undefinedScopes } from '#src/services/resources.ts';
import type { EngineLookups } from '#src/oidc/engine-lookups.ts';
import { createClientAdapter } from '#src/stores/oidc-client-adapter.ts';
import { readMostly } from '#src/stores/read-replica.ts';

export type EngineJwks = { keys: Record<string, unknown>[] };

export function engineOptions(
  core: Pick<Core, 'config' | 'db' | 'keys' | 'accounts' | 'authorization' | 'engineState'> & Partial<Pick<Core, 'mfaRequirement' | 'reads'>>,
  /** The serving engine's caches; a bare engine (client rules for the CLI) reads directly. */
  lookups?: EngineLookups,
): (jwks: EngineJwks) => Configuration {
  const { config, keys, engineState } = core;
  // The lookups the engine makes per request (client, API resource, defined scopes) read
  // from the replica when there is one (behind the caches, when there are caches).
  const reads = core.reads ?? { primary: core.db };
  const ClientAdapter = createClientAdapter(reads, keys.clientSecrets, { toEngine: toEngineClientMetadata, fromEngine: fromEngineClientMetadata }, lookups?.clients);
  const adapter = function adapterFor(name: string) {
    return name === 'Client' ? new ClientAdapter() : new engineState.Adapter(name);
  } as unknown as NonNullable<Configuration['adapter']>;

  return (jwks) =>
    engineConfiguration({
      config,
      accounts: core.accounts,
      adapter,
      jwks,
      cookieKeys: keys.cookieKeys,
      dpopNonceSecret: keys.dpopNonces,
      pairwiseKey: keys.pairwiseSubjects,
      ...(lookups ? { accountLookup: { findById: lookups.findAccount } } : {}),
      findResource: lookups ? lookups.findResource : (identifier) => readMostly(reads, (reader) => findResource(reader, identifier)),
      authorization: core.authorization,
      ...(core.mfaRequirement ? { mfaRequirement: core.mfaRequirement } : {}),
      undefinedScopes: lookups
        ? lookups.undefinedScopes
        : (requested) => readMostly(reads, (reader) => undefinedScopes(reader, requested, isOidcScope), (undefinedOnes) => undefinedOnes.length > 0),
    });
}
