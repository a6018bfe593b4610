// What every sign-in page reads and an administrator seldom changes, kept in memory like
// the engine's lookups (src/oidc/engine-lookups.ts): tenant rows (registration mode, MFA
// tiers) and the connector list (the login page's buttons). Each evicts on the change
// feed (any write, on any node, at once) and lives at most CACHE_TTL seconds.
//
// Only a serving node keeps them: a CLI command runs once, and subscribing to the feed
// would cost it a Redis connection for nothing. Without a feed every read goes to SQL.
import type { Kysely } from 'kysely';
import type { ChangeFeed } from '#src/stores/change-feed.ts';
import { listConnectorRows, type ConnectorRow } from '#src/stores/connector-store.ts';
import { createLookupCache } from '#src/stores/lookup-cache.ts';
import type { Database } from '#src/stores/schema.ts';
import { findTenantRow, type TenantRow } from '#src/stores/tenant-store.ts';

export interface SignInLookups {
  tenant(id: string): Promise<TenantRow | undefined>;
  /** Every connector row, in the order the sign-in pages show them. */
  connectors(): Promise<ConnectorRow[]>;
}

const ALL = 'all';

export function createSignInLookups(db: Kysely<Database>, cache?: { changes: ChangeFeed; ttlMs: number }): SignInLookups {
  if (!cache || cache.ttlMs <= 0) return { tenant: (id) => findTenantRow(db, id), connectors: () => listConnectorRows(db) };
  const tenants = createLookupCache<TenantRow>({ ttlMs: cache.ttlMs, maxEntries: 1000 });
  const connectors = createLookupCache<ConnectorRow[]>({ ttlMs: cache.ttlMs, maxEntries: 1 });
  cache.changes.subscribe((change) => {
    if (change.table === 'tenants') {
      if (change.keys === null) tenants.clear();
      else for (const key of change.keys) tenants.invalidate(key);
    }
    // A new connector changes the list too, so every write clears it (inserts included).
    if (change.table === 'connectors') connectors.clear();
  });
  return {
    tenant: (id) => tenants.get(id, (key) => findTenantRow(db, key)),
    connectors: async () => (await connectors.get(ALL, () => listConnectorRows(db)))!,
  };
}
