import { performance } from 'node:perf_hooks';
import type { Queryable } from '../../db/client.ts';
import { findMerchantById } from './merchant.repository.ts';
import type { Merchant } from './merchant.types.ts';

/**
 * Merchant rows (settings, defaults, branding) change rarely but are read by every checkout creation, where a
 * database round trip is a large share of the work. This process keeps each row for `ttlMs`:
 *
 * - a change made through this process (`PATCH /v1/merchant`) calls `forget`, so it applies at once here;
 * - another process sharing the database sees it within `ttlMs` (default 1 s). Only defaults for NEW
 *   checkouts are read through the cache; nothing about money or an existing session depends on it.
 *
 * Freshness is judged by the monotonic clock, not the business clock (tests move that one by hand).
 */
export type MerchantCache = {
  find(db: Queryable, id: string): Promise<Merchant | undefined>;
  forget(id: string): void;
};

const MAX_ENTRIES = 10_000;

export function createMerchantCache(options: { ttlMs?: number } = {}): MerchantCache {
  const ttlMs = options.ttlMs ?? 1000;
  const entries = new Map<string, { merchant: Merchant; loadedAt: number }>();
  return {
    async find(db, id) {
      const cached = entries.get(id);
      if (cached && performance.now() - cached.loadedAt < ttlMs) return cached.merchant;
      const loadedAt = performance.now();
      const merchant = await findMerchantById(db, id);
      if (!merchant) return undefined;
      entries.delete(id);
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!); // the oldest
      entries.set(id, { merchant, loadedAt });
      return merchant;
    },
    forget(id) {
      entries.delete(id);
    },
  };
}
