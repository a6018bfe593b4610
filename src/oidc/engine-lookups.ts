// What the engine looks up on every request, kept in memory: a client (its secret
// decrypted), an API resource and the scopes APIs define, an account for a token's claims.
// Each cache evicts on the core's change feed (every write on any node, at once) and keeps
// nothing longer than CACHE_TTL seconds in any case.
import type { Core } from '#src/core.ts';
import type { Account } from '#src/services/accounts.ts';
import { findResource, type ApiResource } from '#src/services/resources.ts';
import { isOidcScope } from '#src/services/claims.ts';
import type { Change } from '#src/stores/change-feed.ts';
import { createLookupCache, type LookupCache } from '#src/stores/lookup-cache.ts';
import { readersFor, readMostly } from '#src/stores/read-replica.ts';
import { listDefinedApiScopes } from '#src/stores/resource-store.ts';

export interface EngineLookups {
  clients: LookupCache<Record<string, unknown>>;
  findResource(identifier: string): Promise<ApiResource | undefined>;
  undefinedScopes(requested: string[]): Promise<string[]>;
  findAccount(id: string): Promise<Account | undefined>;
}

const DEFINED_SCOPES = 'defined';

function evictOn(cache: LookupCache<unknown>, change: Change): void {
  if (change.keys === null) cache.clear();
  else for (const key of change.keys) cache.invalidate(key);
}

export function createEngineLookups(core: Pick<Core, 'config' | 'db' | 'accounts' | 'changes' | 'reads'>): EngineLookups {
  const ttlMs = core.config.CACHE_TTL * 1000;
  const clients = createLookupCache<Record<string, unknown>>({ ttlMs });
  const resources = createLookupCache<ApiResource>({ ttlMs });
  const definedScopes = createLookupCache<ReadonlySet<string>>({ ttlMs });
  const accounts = createLookupCache<Account>({ ttlMs });

  core.changes.subscribe((change) => {
    switch (change.table) {
      case 'clients':
        evictOn(clients, change);
        break;
      case 'resources':
        // Any change, a new API included, may change the set of defined scopes.
        resources.clear();
        definedScopes.clear();
        break;
      case 'accounts':
        evictOn(accounts, change);
        break;
      case 'tenants':
        // A renamed tenant is renamed in its accounts' rows too (ON UPDATE CASCADE).
        if (change.keys === null || change.keys.length > 0) accounts.clear();
        break;
    }
  });

  return {
    clients,
    findResource: (identifier) => resources.get(identifier, (key, load) => readMostly(readersFor(core.reads, load), (reader) => findResource(reader, key))),
    async undefinedScopes(requested) {
      const candidates = requested.filter((scope) => scope !== '' && !isOidcScope(scope));
      if (candidates.length === 0) return [];
      const defined = (await definedScopes.get(DEFINED_SCOPES, (_key, load) => readMostly(readersFor(core.reads, load), (reader) => listDefinedApiScopes(reader))))!;
      return candidates.filter((scope) => !defined.has(scope));
    },
    findAccount: (id) => accounts.get(id, (key) => core.accounts.findById(key)),
  };
}
