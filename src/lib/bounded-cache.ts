/**
 * A memo of `build` by string key, bounded: when full it is cleared rather than grown, so keys that come from
 * outside (locales, URLs, secrets) cost rebuilds at worst, never memory. A build that throws keeps nothing.
 */
export function createBoundedCache<V>(maxEntries: number, build: (key: string) => V): (key: string) => V {
  const entries = new Map<string, V>();
  return (key) => {
    let value = entries.get(key);
    if (value === undefined) {
      if (entries.size >= maxEntries) entries.clear();
      value = build(key);
      entries.set(key, value);
    }
    return value;
  };
}
