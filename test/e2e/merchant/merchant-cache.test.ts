import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMerchantCache } from '../../../src/modules/merchants/merchant-cache.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

/**
 * The merchant cache that checkout creation reads defaults through: a change made by ANOTHER process (here: a
 * direct UPDATE) shows once the entry is older than its TTL; `forget` (what PATCH /v1/merchant calls) shows
 * it at once.
 */
describe('merchant cache', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant({ name: 'Cached Shop' });
  });
  afterAll(() => testApp.close());

  const setLocale = (locale: string) =>
    testApp.services.db.query('UPDATE merchants SET default_locale = $1 WHERE id = $2', [
      locale,
      merchant.merchantId,
    ]);

  it('keeps a row for its TTL, and forget() drops it at once', async () => {
    const cache = createMerchantCache({ ttlMs: 60_000 });
    const { db } = testApp.services;
    expect((await cache.find(db, merchant.merchantId))?.defaultLocale).toBe('EN');
    await setLocale('DA');
    expect((await cache.find(db, merchant.merchantId))?.defaultLocale).toBe('EN');
    cache.forget(merchant.merchantId);
    expect((await cache.find(db, merchant.merchantId))?.defaultLocale).toBe('DA');
  });

  it('reads again once an entry is older than the TTL, and does not cache unknown merchants', async () => {
    const cache = createMerchantCache({ ttlMs: 0 });
    const { db } = testApp.services;
    await setLocale('ES_LATAM');
    expect((await cache.find(db, merchant.merchantId))?.defaultLocale).toBe('ES_LATAM');
    await setLocale('EN');
    expect((await cache.find(db, merchant.merchantId))?.defaultLocale).toBe('EN');
    expect(await cache.find(db, 'mer_unknown')).toBeUndefined();
  });

  it('PATCH /v1/merchant applies to the next checkout of this process at once', async () => {
    const create = () =>
      testApp.app.inject({
        method: 'POST',
        url: '/v1/checkouts',
        headers: merchant.headers,
        payload: {
          completed_redirect_url: 'https://shop.example/done',
          canceled_redirect_url: 'https://shop.example/cancel',
          order: {
            merchant_order_id: 'm-1',
            currency: 'DKK',
            country_code: 'DK',
            subtotal_amount: 100,
            total_amount: 100,
            products: [{ id: 'p', name: 'P', quantity: 1, unit_price: 100 }],
          },
        },
      });
    expect((await create()).json().capture_mode).toBe('automatic'); // the app's cache now holds the merchant
    const patched = await testApp.app.inject({
      method: 'PATCH',
      url: '/v1/merchant',
      headers: merchant.headers,
      payload: { default_capture_mode: 'manual' },
    });
    expect(patched.statusCode).toBe(200);
    const created = await create();
    expect(created.statusCode).toBe(201);
    expect(created.json().capture_mode).toBe('manual');
  });
});
