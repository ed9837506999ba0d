import { performance } from 'node:perf_hooks';
import type { Queryable } from '../../db/client.ts';
import { createTtlCache } from '../../lib/ttl-cache.ts';
import { findMerchantById } from './merchant.repository.ts';
import type { Merchant } from './merchant.types.ts';

/**
 * Merchant rows (settings, defaults, branding) change rarely but are read by every checkout creation and
 * hosted page, where a database round trip is a large share of the work. This process keeps each row for
 * `ttlMs`:
 *
 * - a change made through this process (`PATCH /v1/merchant`) calls `forget`, so it applies at once here;
 * - another process sharing the database sees it within `ttlMs` (default 1 s). Only defaults for NEW
 *   checkouts and the page's branding are read through the cache; nothing about money or an existing
 *   session depends on it.
 *
 * Freshness is judged by the monotonic clock, not the business clock (tests move that one by hand).
 */
export type MerchantCache = {
  find(db: Queryable, id: string): Promise<Merchant | undefined>;
  forget(id: string): void;
};

export function createMerchantCache(options: { ttlMs?: number } = {}): MerchantCache {
  const cache = createTtlCache<Merchant>({
    ttlMs: options.ttlMs ?? 1000,
    maxEntries: 10_000,
    now: () => performance.now(),
  });
  return {
    find: (db, id) => cache.getOrLoad(id, () => findMerchantById(db, id)),
    forget: (id) => cache.delete(id),
  };
}
