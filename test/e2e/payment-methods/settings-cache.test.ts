import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/lib/clock.ts';
import { createTtlCache } from '../../../src/lib/ttl-cache.ts';
import { createPaymentMethodSettingsCache } from '../../../src/modules/payment-methods/payment-method-settings.cache.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

/**
 * The payment-method settings cache that pages, payment-methods answers and payment starts read through: a
 * change made by ANOTHER process (here: a direct UPDATE) shows once the entry is older than its TTL; `forget`
 * (what the settings PUT calls) shows it at once.
 */
describe('payment-method settings cache', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant({ name: 'Cached settings' });
  });
  afterAll(() => testApp.close());

  const scope = () => ({ merchantId: merchant.merchantId, livemode: false });
  const setInvoiceEnabled = (enabled: boolean) =>
    testApp.services.db.query(
      `UPDATE payment_method_settings SET enabled = $1 WHERE merchant_id = $2 AND livemode = false AND method = 'invoice'`,
      [enabled, merchant.merchantId],
    );
  const invoiceEnabled = (settings: { method: string; enabled: boolean }[]) =>
    settings.find((setting) => setting.method === 'invoice')?.enabled;

  it('writes the defaults on first read, keeps them for the TTL, and forget() drops them at once', async () => {
    const cache = createPaymentMethodSettingsCache({ clock: systemClock, ttlMs: 60_000 });
    const { db } = testApp.services;
    const first = await cache.find(db, scope());
    expect(first.map((setting) => setting.method).sort()).toEqual(['card', 'invoice', 'wallet']);
    expect(invoiceEnabled(first)).toBe(true);
    await setInvoiceEnabled(false);
    expect(invoiceEnabled(await cache.find(db, scope()))).toBe(true);
    cache.forget(scope());
    expect(invoiceEnabled(await cache.find(db, scope()))).toBe(false);
    // The other mode is a separate entry.
    const live = await cache.find(db, { ...scope(), livemode: true });
    expect(live.every((setting) => setting.livemode)).toBe(true);
  });

  it('reads again once an entry is older than the TTL', async () => {
    const cache = createPaymentMethodSettingsCache({ clock: systemClock, ttlMs: 0 });
    const { db } = testApp.services;
    await setInvoiceEnabled(true);
    expect(invoiceEnabled(await cache.find(db, scope()))).toBe(true);
    await setInvoiceEnabled(false);
    expect(invoiceEnabled(await cache.find(db, scope()))).toBe(false);
  });
});

describe('TtlCache.getOrLoad', () => {
  it('keeps what it loaded, but neither "not found" nor a load that overlapped a deletion', async () => {
    const cache = createTtlCache<string>({ ttlMs: 60_000, maxEntries: 10 });
    expect(await cache.getOrLoad('a', async () => 'first')).toBe('first');
    expect(await cache.getOrLoad('a', async () => 'second')).toBe('first');
    expect(await cache.getOrLoad('missing', async () => undefined)).toBeUndefined();
    expect(await cache.getOrLoad('missing', async () => 'found later')).toBe('found later');

    // A load that read before a change, and finished after the change's forget: not kept.
    let finishLoad!: (value: string) => void;
    const stale = cache.getOrLoad('b', () => new Promise<string>((resolve) => (finishLoad = resolve)));
    cache.delete('b'); // the change, forgotten while the load ran
    finishLoad('read before the change');
    expect(await stale).toBe('read before the change');
    expect(await cache.getOrLoad('b', async () => 'read after the change')).toBe('read after the change');
  });
});
