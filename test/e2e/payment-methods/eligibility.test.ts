import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  checkoutRequest,
  createCheckout,
  seedCheckoutRequest,
  simpleOrder,
  type CheckoutJson,
} from '../checkouts/checkout-fixtures.ts';

type Eligibility = {
  object: 'payment_method_eligibility';
  checkout_id: string;
  livemode: boolean;
  device: 'desktop' | 'mobile';
  payment_methods: { type: string; display_order: number; brands?: string[] }[];
  hidden?: { type: string; rule: string; message: string }[];
};

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const DESKTOP =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';

/**
 * GET /v1/checkouts/{id}/payment-methods: which methods a checkout may offer, and with explain=true the rule
 * that hid each of the others. Settings are the defaults (card everywhere; invoice for DK/SE/NO/FI/DE/AT/NL in
 * DKK/SEK/NOK/EUR between 1.00 and 50,000.00; wallet on mobile) unless a test changes them.
 */
describe('checkout payment methods (eligibility)', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant();
  });
  afterAll(() => testApp.close());

  async function methods(
    checkout: CheckoutJson,
    query = '',
    headers: Record<string, string> = merchant.headers,
  ) {
    const response = await testApp.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${checkout.checkout_id}/payment-methods${query}`,
      headers,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as Eligibility;
  }

  const danish = (amount: number, extra: Record<string, unknown> = {}) =>
    createCheckout(testApp, merchant, checkoutRequest(simpleOrder('DKK', 'DK', amount), extra));

  function hiddenRule(result: Eligibility, type: string) {
    return result.hidden?.find((hidden) => hidden.type === type);
  }

  it('offers card (with brands) and invoice on a Danish desktop checkout, and says why wallet is hidden', async () => {
    const checkout = await danish(50_000);
    const result = await methods(checkout, '?explain=true', { ...merchant.headers, 'user-agent': DESKTOP });
    expect(result).toMatchObject({
      object: 'payment_method_eligibility',
      checkout_id: checkout.checkout_id,
      livemode: false,
      device: 'desktop',
    });
    // Not a list: no envelope fields (docs/api-conventions.md, D15).
    expect(Object.keys(result).sort()).toEqual([
      'checkout_id',
      'device',
      'hidden',
      'livemode',
      'object',
      'payment_methods',
    ]);
    expect(result.payment_methods.map((method) => method.type)).toEqual(['card', 'invoice']);
    expect(result.payment_methods[0]!.brands).toEqual(expect.arrayContaining(['visa', 'mastercard']));
    expect(result.payment_methods[1]).not.toHaveProperty('brands');
    expect(result.hidden).toEqual([
      {
        type: 'wallet',
        rule: 'device',
        message: 'wallet is offered only on mobile; this shopper is on desktop',
      },
    ]);
    const plain = await methods(checkout);
    expect(plain).not.toHaveProperty('hidden');
  });

  it('takes the device from the device parameter, else from the User-Agent', async () => {
    const checkout = await danish(50_000);
    const fromAgent = await methods(checkout, '', { ...merchant.headers, 'user-agent': IPHONE });
    expect(fromAgent.device).toBe('mobile');
    expect(fromAgent.payment_methods.map((method) => method.type)).toEqual(['card', 'invoice', 'wallet']);
    const overridden = await methods(checkout, '?device=desktop', {
      ...merchant.headers,
      'user-agent': IPHONE,
    });
    expect(overridden.device).toBe('desktop');
    expect(overridden.payment_methods.map((method) => method.type)).toEqual(['card', 'invoice']);
    const bad = await testApp.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${checkout.checkout_id}/payment-methods?device=tv`,
      headers: merchant.headers,
    });
    expect(bad.statusCode).toBe(422);
    expect(expectProblem(bad).errors?.[0]?.pointer).toBe('/query/device');
  });

  it("country: invoice is hidden for the seed's Mexican order", async () => {
    const checkout = await createCheckout(testApp, merchant, seedCheckoutRequest());
    const result = await methods(checkout, '?explain=true&device=mobile');
    expect(result.payment_methods.map((method) => method.type)).toEqual(['card', 'wallet']);
    expect(hiddenRule(result, 'invoice')).toEqual({
      type: 'invoice',
      rule: 'country',
      message: 'invoice is offered only in DK, SE, NO, FI, DE, AT, NL; this checkout is for MX',
    });
  });

  it('currency: invoice is hidden for a Danish order in USD', async () => {
    const checkout = await createCheckout(
      testApp,
      merchant,
      checkoutRequest(simpleOrder('USD', 'DK', 50_000)),
    );
    const rule = hiddenRule(await methods(checkout, '?explain=true'), 'invoice');
    expect(rule).toMatchObject({ rule: 'currency' });
    expect(rule!.message).toContain('this checkout is in USD');
  });

  it('min_amount and max_amount: invoice is hidden below 1.00 and above 50,000.00 DKK', async () => {
    const small = hiddenRule(await methods(await danish(99), '?explain=true'), 'invoice');
    expect(small).toMatchObject({ rule: 'min_amount' });
    expect(small!.message).toBe(
      'invoice needs an amount of at least 100 (DKK 1.00); this checkout is for 99 (DKK 0.99)',
    );
    const atMinimum = await methods(await danish(100));
    expect(atMinimum.payment_methods.map((method) => method.type)).toContain('invoice');
    const large = hiddenRule(await methods(await danish(5_000_001), '?explain=true'), 'invoice');
    expect(large).toMatchObject({ rule: 'max_amount' });
    expect(large!.message).toContain('up to 5000000 (DKK 50,000.00)');
  });

  it("not_allowed_by_checkout: the checkout's own payment_methods restricts the list", async () => {
    const checkout = await danish(50_000, { payment_methods: ['card'] });
    const result = await methods(checkout, '?explain=true&device=mobile');
    expect(result.payment_methods.map((method) => method.type)).toEqual(['card']);
    expect(result.hidden?.map((hidden) => [hidden.type, hidden.rule])).toEqual([
      ['invoice', 'not_allowed_by_checkout'],
      ['wallet', 'not_allowed_by_checkout'],
    ]);
  });

  it('disabled, display order and brands follow the merchant settings', async () => {
    const shop = await testApp.createMerchant({ name: 'Settings shop' });
    const put = (method: string, payload: object) =>
      testApp.app.inject({
        method: 'PATCH',
        url: `/v1/payment-method-settings/${method}`,
        headers: shop.headers,
        payload,
      });
    expect((await put('card', { card_brands: ['visa', 'amex'], display_order: 5 })).statusCode).toBe(200);
    expect((await put('wallet', { devices: null, display_order: 1 })).statusCode).toBe(200);
    const checkout = await createCheckout(testApp, shop, checkoutRequest(simpleOrder('DKK', 'DK', 50_000)));
    const before = await methods(checkout, '', shop.headers);
    expect(before.payment_methods).toEqual([
      { type: 'wallet', display_order: 1 },
      { type: 'invoice', display_order: 2 },
      { type: 'card', display_order: 5, brands: ['visa', 'amex'] },
    ]);

    expect((await put('invoice', { enabled: false })).statusCode).toBe(200);
    const after = await methods(checkout, '?explain=true', shop.headers);
    expect(after.payment_methods.map((method) => method.type)).toEqual(['wallet', 'card']);
    expect(hiddenRule(after, 'invoice')).toEqual({
      type: 'invoice',
      rule: 'disabled',
      message: 'invoice is disabled in the payment method settings',
    });
  });

  describe('with the client token', () => {
    let checkout: CheckoutJson;
    let tokenHeaders: { authorization: string };

    beforeAll(async () => {
      checkout = await danish(50_000);
      tokenHeaders = { authorization: `Bearer ${checkout.client_token}` };
    });

    it("reads its own checkout's methods", async () => {
      const result = await methods(checkout, '?explain=true', tokenHeaders);
      expect(result.payment_methods.map((method) => method.type)).toEqual(['card', 'invoice']);
      expect(hiddenRule(result, 'wallet')?.rule).toBe('device');
    });

    it('another checkout (even of the same merchant) answers 404 like an unknown one', async () => {
      const other = await danish(50_000);
      const response = await testApp.app.inject({
        method: 'GET',
        url: `/v1/checkouts/${other.checkout_id}/payment-methods`,
        headers: tokenHeaders,
      });
      expect(response.statusCode).toBe(404);
      expect(expectProblem(response).code).toBe('not_found');
    });

    it.each([
      ['GET', (c: CheckoutJson) => `/v1/checkouts/${c.checkout_id}`],
      ['GET', () => '/v1/checkouts'],
      ['POST', (c: CheckoutJson) => `/v1/checkouts/${c.checkout_id}/expire`],
      ['PUT', (c: CheckoutJson) => `/v1/checkouts/${c.checkout_id}`],
      ['GET', (c: CheckoutJson) => `/v1/orders/${c.order.order_id}`],
      ['GET', () => '/v1/payment-method-settings'],
      ['GET', () => '/v1/merchant'],
    ] as const)('opens nothing else: %s %s is 401', async (method, urlOf) => {
      const response = await testApp.app.inject({
        method,
        url: urlOf(checkout),
        headers: tokenHeaders,
        ...(method === 'PUT' ? { payload: { order: simpleOrder('DKK', 'DK', 1) } } : {}),
      });
      expect(response.statusCode).toBe(401);
      expect(expectProblem(response).code).toBe('invalid_token');
    });

    it('a made-up or altered token is refused', async () => {
      const forged = `ct_${'A'.repeat(43)}`;
      const response = await testApp.app.inject({
        method: 'GET',
        url: `/v1/checkouts/${checkout.checkout_id}/payment-methods`,
        headers: { authorization: `Bearer ${forged}` },
      });
      expect(response.statusCode).toBe(401);
      expect(expectProblem(response).code).toBe('invalid_token');
    });
  });

  it('refuses to list methods for a closed session with a coded 409', async () => {
    const checkout = await danish(50_000);
    await testApp.app.inject({
      method: 'POST',
      url: `/v1/checkouts/${checkout.checkout_id}/expire`,
      headers: merchant.headers,
    });
    const response = await testApp.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${checkout.checkout_id}/payment-methods`,
      headers: merchant.headers,
    });
    expect(response.statusCode).toBe(409);
    expect(expectProblem(response)).toMatchObject({
      code: 'invalid_state_transition',
      current_status: 'EXPIRED',
      allowed_statuses: ['OPEN'],
    });
  });
});
