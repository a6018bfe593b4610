// A small in-memory cache in front of a lookup the engine makes on every request (a client,
// an API resource, an account). Entries live at most `ttlMs` (the backstop bound); changes
// evict them at once through invalidate()/clear(), fed by the change feed
// (src/stores/change-feed.ts). Absent results are not kept, so a new row needs no eviction.
//
// A load right after an eviction must not read a read replica (DATABASE_REPLICA_URL): the
// replica may not have the change yet, and what it returned would be kept until the next
// change or the TTL (a rotated secret, a disabled client). So a load tells its reader
// whether the key changed within RECENT_CHANGE_MS; such reads go to the primary.
export interface LoadOptions {
  /** The key (or its whole table) changed within RECENT_CHANGE_MS: read the primary. */
  changedRecently: boolean;
}

export interface LookupCache<V> {
  get(key: string, load: (key: string, options: LoadOptions) => Promise<V | undefined>): Promise<V | undefined>;
  invalidate(key: string): void;
  clear(): void;
}

/** Longer than any replication lag worth running with. */
export const RECENT_CHANGE_MS = 60_000;

export function createLookupCache<V>(options: { ttlMs: number; maxEntries?: number }): LookupCache<V> {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, { value: V; expiresAt: number }>();
  // When each key (or, for clear(), every key) last changed; old marks are dropped as read.
  const changedAt = new Map<string, number>();
  let clearedAt = 0;
  const changedRecently = (key: string): boolean => {
    const now = Date.now();
    const at = changedAt.get(key);
    if (at !== undefined && now - at >= RECENT_CHANGE_MS) changedAt.delete(key);
    return now - Math.max(at ?? 0, clearedAt) < RECENT_CHANGE_MS;
  };
  // Bumped by every eviction: a load that began before one must not store what it read
  // (it may be the row as it was before the change).
  let generation = 0;

  return {
    async get(key, load) {
      if (options.ttlMs <= 0) return load(key, { changedRecently: false });
      const entry = entries.get(key);
      if (entry && entry.expiresAt > Date.now()) return entry.value;
      const startedAt = generation;
      const value = await load(key, { changedRecently: changedRecently(key) });
      if (value !== undefined && startedAt === generation) {
        // Oldest first out when full: Map keeps insertion order.
        if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
        entries.delete(key);
        entries.set(key, { value, expiresAt: Date.now() + options.ttlMs });
      }
      return value;
    },
    invalidate(key) {
      generation += 1;
      entries.delete(key);
      // Bounded like the entries: past the bound, every key counts as changed for a while.
      if (changedAt.size >= maxEntries) {
        changedAt.clear();
        clearedAt = Date.now();
      }
      changedAt.set(key, Date.now());
    },
    clear() {
      generation += 1;
      entries.clear();
      changedAt.clear();
      clearedAt = Date.now();
    },
  };
}
