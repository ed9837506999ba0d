/**
 * A small time-bounded cache with a size cap (oldest entries evicted first). Used where a few seconds of
 * staleness is an accepted trade for not querying the database on every request — each use says how long.
 */
export type TtlCache<V> = {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
  /** Drops every entry (counts as a deletion for loads in flight). */
  clear(): void;
  /**
   * The cached value, or else `load()`'s, which is kept unless it is undefined ("not found" is not cached) or
   * an entry was deleted while it loaded (the load may have read what that deletion was about).
   */
  getOrLoad(key: string, load: () => Promise<V | undefined>): Promise<V | undefined>;
};

export function createTtlCache<V>(options: {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}): TtlCache<V> {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: V; expiresAt: number }>();
  let deletions = 0;
  const cache: TtlCache<V> = {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, { value, expiresAt: now() + options.ttlMs });
      if (entries.size > options.maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
    },
    delete(key) {
      entries.delete(key);
      deletions += 1;
    },
    clear() {
      entries.clear();
      deletions += 1;
    },
    async getOrLoad(key, load) {
      const cached = cache.get(key);
      if (cached !== undefined) return cached;
      const deletionsBefore = deletions;
      const loaded = await load();
      if (loaded !== undefined && deletions === deletionsBefore) cache.set(key, loaded);
      return loaded;
    },
  };
  return cache;
}
