import { performance } from 'node:perf_hooks';
import type { Clock } from '../../lib/clock.ts';
import { createTtlCache } from '../../lib/ttl-cache.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import type { PaymentMethodSettingRecord } from './payment-method-settings.repository.ts';
import type { PaymentMethodSettingsCache } from './payment-method-settings.types.ts';
import { getPaymentMethodSettings } from './payment-method-settings.service.ts';

export type { PaymentMethodSettingsCache };

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
