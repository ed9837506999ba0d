import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardFingerprint } from '../../../src/lib/card.ts';
import {
  createAttemptLimiter,
  type AttemptLimitsConfig,
} from '../../../src/modules/payments/attempt-limits.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { CARDS, countAuthorizations, createHostedCheckout } from '../hosted-page/hosted-fixtures.ts';

/**
 * The per-card and per-address card-testing limits count in live mode always, and in test mode only when
 * `KASSA_CARD_DECLINE_LIMITS_IN_TEST_MODE` is set (docs/security.md, "Card testing"): a merchant's integration
 * tests decline the same test cards again and again, as Stripe's and Adyen's test modes allow, and no real card
 * can be tried there.
 */

const LIMITS: AttemptLimitsConfig = {
  perCheckout: 0,
  perClientAddress: 2,
  perCard: 3,
  windowSeconds: 3_600,
  inTestMode: false,
};

describe('card-testing limits by mode', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp({ listen: true }); // the default limits: 10 declines per card, 30 per address
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('in test mode, by default, a test card declines more often than the per-card limit and is never refused', async () => {
    const before = await countAuthorizations(t);
    for (let i = 0; i < 12; i += 1) {
      const checkout = await createHostedCheckout(t, merchant);
      const response = await fetch(`${t.baseUrl}/v1/payments`, {
        method: 'POST',
        headers: { ...merchant.headers, 'content-type': 'application/json' },
        body: JSON.stringify({
          checkout_id: checkout.checkoutId,
          payment_method: {
            type: 'card',
            card: {
              number: CARDS.declined,
              exp_month: 12,
              exp_year: 2040,
              cvc: '123',
              holder_name: 'Ada Lovelace',
            },
          },
        }),
      });
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ status: 'REJECTED' });
    }
    // Each attempt reached the processor, and nothing was counted.
    expect(await countAuthorizations(t)).toBe(before + 12);
    const { rows } = await t.database.db.query('SELECT key FROM card_attempt_limits');
    expect(rows).toEqual([]);
  });

  it('in live mode the card and address declines count and refuse at the limit; test mode stays uncounted', async () => {
    const limiter = createAttemptLimiter(t.database.db, LIMITS);
    const now = new Date();
    const card = cardFingerprint('4000 0000 0000 0002', 'a key of the test');
    const live = { merchantId: merchant.merchantId, livemode: true, cardFingerprints: [card] };
    const test = { merchantId: merchant.merchantId, livemode: false, cardFingerprints: [card] };
    for (let i = 0; i < 3; i += 1) {
      expect(await limiter.check(live, now)).toBeUndefined();
      await limiter.recordDecline(live, now);
      await limiter.recordDecline(test, now);
    }
    expect(await limiter.check(live, now)).toMatchObject({ limit: 'card', first: true });
    expect(await limiter.check(test, now)).toBeUndefined();

    const address = { merchantId: merchant.merchantId, livemode: true, clientAddress: '127.0.0.9' };
    await limiter.recordDecline(address, now);
    expect(await limiter.check(address, now)).toBeUndefined();
    await limiter.recordDecline(address, now);
    expect(await limiter.check(address, now)).toMatchObject({ limit: 'client_address' });
    expect(await limiter.check({ ...address, livemode: false }, now)).toBeUndefined();
  });

  it('with KASSA_CARD_DECLINE_LIMITS_IN_TEST_MODE the test-mode declines count too, per merchant', async () => {
    const limiter = createAttemptLimiter(t.database.db, { ...LIMITS, inTestMode: true });
    const now = new Date();
    const card = cardFingerprint('4000 0000 0000 9995', 'a key of the test');
    const test = { merchantId: merchant.merchantId, livemode: false, cardFingerprints: [card] };
    for (let i = 0; i < 3; i += 1) await limiter.recordDecline(test, now);
    expect(await limiter.check(test, now)).toMatchObject({ limit: 'card' });
    // Another merchant's tests of the same test card are not held back.
    expect(await limiter.check({ ...test, merchantId: 'mer_other' }, now)).toBeUndefined();
  });
});
