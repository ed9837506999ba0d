import { performance } from 'node:perf_hooks';
import type { Queryable } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import { createTtlCache } from '../../lib/ttl-cache.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import type { PaymentMethodSettingRecord } from './payment-method-settings.repository.ts';
import { getPaymentMethodSettings } from './payment-method-settings.service.ts';

/**
 * A merchant's payment-method settings per mode, kept by this process for `ttlMs` (default 1 s):
 * every hosted page, payment-methods answer and payment start reads them, and they change rarely.
 *
 * - `PUT /v1/payment-method-settings/{method}` through this process calls `forget`: the change applies here at
 *   once;
 * - another process sharing the database sees it within `ttlMs` (default 1 s): for that long it may still
 *   offer, or accept a payment with, a method just switched off there.
 */
export type PaymentMethodSettingsCache = {
  find(db: Queryable, scope: Scope): Promise<PaymentMethodSettingRecord[]>;
  forget(scope: Scope): void;
};

export function createPaymentMethodSettingsCache(options: {
  clock: Clock;
  ttlMs?: number;
}): PaymentMethodSettingsCache {
  const cache = createTtlCache<PaymentMethodSettingRecord[]>({
    ttlMs: options.ttlMs ?? 1000,
    maxEntries: 10_000,
    now: () => performance.now(), // the monotonic clock: tests move the business clock by hand
  });
  const keyOf = (scope: Scope) => `${scope.merchantId}:${scope.livemode ? 'live' : 'test'}`;
  return {
    async find(db, scope) {
      const settings = await cache.getOrLoad(keyOf(scope), () =>
        getPaymentMethodSettings(db, { clock: options.clock }, scope),
      );
      return settings!; // getPaymentMethodSettings writes the defaults first: never undefined
    },
    forget: (scope) => cache.delete(keyOf(scope)),
  };
}
