// A small in-memory cache in front of a lookup the engine makes on every request (a client,
// an API resource, an account). Entries live at most `ttlMs` (the backstop bound); changes
// evict them at once through invalidate()/clear(), fed by the change feed
// (src/stores/change-feed.ts). Absent results are not kept, so a new row needs no eviction.
export interface LookupCache<V> {
  get(key: string, load: (key: string) => Promise<V | undefined>): Promise<V | undefined>;
  invalidate(key: string): void;
  clear(): void;
}

export function createLookupCache<V>(options: { ttlMs: number; maxEntries?: number }): LookupCache<V> {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, { value: V; expiresAt: number }>();
  // Bumped by every eviction: a load that began before one must not store what it read
  // (it may be the row as it was before the change).
  let generation = 0;

  return {
    async get(key, load) {
      if (options.ttlMs <= 0) return load(key);
      const entry = entries.get(key);
      if (entry && entry.expiresAt > Date.now()) return entry.value;
      const startedAt = generation;
      const value = await load(key);
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
    },
    clear() {
      generation += 1;
      entries.clear();
    },
  };
}
