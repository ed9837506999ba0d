import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, createCheckout, seedCheckoutRequest, simpleOrder } from './checkout-fixtures.ts';

/**
 * Money rules (docs/api-conventions.md, docs/checkouts.md): integers of minor units only, ISO 4217 currencies with their exponents, ISO 3166
 * countries, totals that add up exactly. Refused inputs are never rounded or coerced, and create nothing.
 */
describe('checkout money rules', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant();
  });
  afterAll(() => testApp.close());

  async function post(payload: unknown) {
    return testApp.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: merchant.headers,
      payload: payload as object,
    });
  }

  async function countCheckouts() {
    const { rows } = await testApp.database.db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM checkouts WHERE merchant_id = $1',
      [merchant.merchantId],
    );
    return rows[0]!.count;
  }

  async function expectRefused(payload: unknown, pointer: string, messagePart?: string | RegExp) {
    const before = await countCheckouts();
    const response = await post(payload);
    expect(response.statusCode, response.body).toBe(422);
    const problem = expectProblem(response);
    expect(problem.code).toBe('validation_failed');
    const error = problem.errors?.find((candidate) => candidate.pointer === pointer);
    expect(error, `an error at ${pointer} in ${response.body}`).toBeDefined();
    if (messagePart) expect(error!.message).toMatch(messagePart);
    expect(await countCheckouts()).toBe(before);
    return error!;
  }

  it.each([
    // [currency, exponent, country, unit price, quantity, discount, tax, shipping] — each read as minor units
    ['JPY', 0, 'JP', 1_980, 3, 500, 544, 800], // ¥5,940 − ¥500 + ¥544 + ¥800 = ¥6,784
    ['USD', 2, 'US', 1_999, 2, 300, 296, 499], // $39.98 − $3.00 + $2.96 + $4.99 = $44.93
    ['KWD', 3, 'KW', 12_345, 2, 1_000, 0, 2_500], // 24.690 − 1.000 + 2.500 KWD = 26.190 KWD
  ] as const)(
    'accepts exact %s amounts (exponent %i) as integers, unchanged',
    async (currency, _exponent, country, price, quantity, discount, tax, shipping) => {
      const subtotal = price * quantity;
      const total = subtotal - discount + tax + shipping;
      const created = await createCheckout(testApp, merchant, {
        ...checkoutRequest({
          merchant_order_id: `money-${currency}`,
          currency,
          country_code: country,
          subtotal_amount: subtotal,
          discounts: [{ amount: discount, description: 'Coupon' }],
          taxes: [{ amount: tax, description: 'VAT' }],
          shipping_amount: shipping,
          total_amount: total,
          products: [{ id: 'p', name: 'Product', quantity, unit_price: price }],
        }),
      });
      expect(created.order).toMatchObject({
        currency,
        subtotal_amount: subtotal,
        total_amount: total,
        shipping_amount: shipping,
        discounts: [{ amount: discount, description: 'Coupon' }],
        taxes: [{ amount: tax, description: 'VAT' }],
      });
      const { rows } = await testApp.database.db.query<{ total_amount: number }>(
        'SELECT total_amount FROM orders WHERE id = $1',
        [created.order.order_id],
      );
      expect(rows[0]!.total_amount).toBe(total);
    },
  );

  it('refuses a total that does not add up, pointing at it and showing the expected value', async () => {
    const body = seedCheckoutRequest();
    body.order.total_amount = 1000; // the seed's discount of 10 makes it 990
    const error = await expectRefused(body, '/order/total_amount', 'must be 990 (');
    expect(error.code).toBe('total_mismatch');
    expect(error.message).toContain('subtotal 1000 − discounts 10 + taxes 0 + shipping 0');
  });

  it('refuses a subtotal that is not Σ quantity × unit_price', async () => {
    const body = checkoutRequest({
      ...simpleOrder('USD', 'US', 1_000),
      products: [
        { id: 'a', name: 'A', quantity: 2, unit_price: 300 },
        { id: 'b', name: 'B', quantity: 1, unit_price: 450 },
      ],
      subtotal_amount: 1_000,
      total_amount: 1_000,
    });
    const error = await expectRefused(body, '/order/subtotal_amount', 'must be 1050 (');
    expect(error.message).toContain('2 × 300 + 1 × 450');
    expect(error.code).toBe('subtotal_mismatch');
  });

  it('refuses discounts larger than the order and a zero total', async () => {
    const tooMuch = checkoutRequest({
      ...simpleOrder('EUR', 'DE', 500),
      discounts: [{ amount: 600 }],
      total_amount: 0,
    });
    expect((await expectRefused(tooMuch, '/order/discounts')).code).toBe('total_negative');
    const zero = checkoutRequest({
      ...simpleOrder('EUR', 'DE', 500),
      discounts: [{ amount: 500 }],
      total_amount: 0,
    });
    expect((await expectRefused(zero, '/order/total_amount')).code).toBe('total_zero');
  });

  it.each([
    ['a decimal amount', 10.5, /whole number of minor units/],
    ['a numeric string', '1000', /must be a JSON number of minor units.*the string "1000"/],
    ['a decimal string', '10.00', /the string "10.00"/],
    ['a negative amount', -1, /must not be negative/],
    ['an unsafe integer', 2 ** 53, /at most 9007199254740991/],
    ['null', null, /JSON number/],
  ])('refuses %s instead of rounding or coercing it', async (_label, amount, message) => {
    const body = seedCheckoutRequest() as unknown as { order: Record<string, unknown> };
    body.order.subtotal_amount = amount;
    await expectRefused(body, '/order/subtotal_amount', message);
  });

  it('refuses a fractional quantity and a decimal unit price inside products', async () => {
    const body = seedCheckoutRequest() as unknown as { order: { products: Record<string, unknown>[] } };
    body.order.products[0]!.unit_price = 999.99;
    body.order.products[0]!.quantity = 1.5;
    const response = await post(body);
    expect(response.statusCode).toBe(422);
    const pointers = expectProblem(response).errors?.map((error) => error.pointer);
    expect(pointers).toEqual(
      expect.arrayContaining(['/order/products/0/unit_price', '/order/products/0/quantity']),
    );
  });

  it.each([
    ['XXX', /not an active ISO 4217 currency code/],
    ['XAU', /not an active ISO 4217 currency code/],
    ['usd', /upper-case ISO 4217 code/],
    ['US', /three-letter/],
  ])('refuses the currency %s', async (currency, message) => {
    const body = seedCheckoutRequest();
    body.order.currency = currency;
    await expectRefused(body, '/order/currency', message);
  });

  it.each([
    ['XK', /not an ISO 3166-1 alpha-2 country code/],
    ['UK', /not an ISO 3166-1 alpha-2 country code/],
    ['mx', /upper-case/],
    ['MEX', /two-letter/],
  ])('refuses the country %s', async (country, message) => {
    const body = seedCheckoutRequest();
    body.order.country_code = country;
    await expectRefused(body, '/order/country_code', message);
  });

  it('refuses an order without the required fields, naming each', async () => {
    const response = await post({ ...seedCheckoutRequest(), order: { currency: 'MXN' } });
    expect(response.statusCode).toBe(422);
    const pointers = expectProblem(response).errors?.map((error) => error.pointer);
    expect(pointers).toEqual(
      expect.arrayContaining([
        '/order/merchant_order_id',
        '/order/country_code',
        '/order/subtotal_amount',
        '/order/total_amount',
      ]),
    );
  });

  it('refuses a customer without a usable e-mail address', async () => {
    const body = seedCheckoutRequest();
    body.order.customer.email = '[email protected]';
    await expectRefused(body, '/order/customer/email', /e-mail address/);
  });
});
