import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/lib/errors.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  alertOf,
  CARDS,
  cardForm,
  checkoutStatus,
  countAuthorizations,
  createHostedCheckout,
  csrfOf,
  getPage,
  paymentsOf,
  postForm,
} from './hosted-fixtures.ts';

const CHANGED =
  'The store updated this order after the page was loaded. Nothing was charged: check the new total and pay again.';

/**
 * The amount the shopper saw is the amount charged: the payment form is bound to the order version it showed,
 * and an order the merchant replaced since (`PUT /v1/checkouts/{id}`) is charged only after the shopper saw it.
 */
describe('hosted page: the form is bound to the order version', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function replaceOrder(checkoutId: string, amount: number) {
    const response = await t.app.inject({
      method: 'PUT',
      url: `/v1/checkouts/${checkoutId}`,
      headers: merchant.headers,
      payload: {
        order: {
          merchant_order_id: 'ORDER-1',
          currency: 'EUR',
          country_code: 'DE',
          subtotal_amount: amount,
          total_amount: amount,
          products: [{ id: 'sku-1', name: 'Trail shoes', quantity: 1, unit_price: amount }],
        },
      },
    });
    expect(response.statusCode).toBe(200);
    return response.json() as { order: { version: number } };
  }

  it('a submit after the merchant changed the amount charges nothing and answers the updated page', async () => {
    const checkout = await createHostedCheckout(t, merchant, {
      amount: 1000,
      currency: 'EUR',
      country: 'DE',
    });
    const page = await getPage(t, checkout.path);
    expect(page.html).toContain('€10.00');
    const shown = csrfOf(page.html);

    await replaceOrder(checkout.checkoutId, 99_999);
    const before = await countAuthorizations(t);
    const submitted = await postForm(t, checkout.path, cardForm(shown));
    expect(submitted.status).toBe(409);
    expect(alertOf(submitted.html)).toBe(CHANGED);
    expect(submitted.html).toContain('€999.99');
    expect(submitted.html).not.toContain('€10.00');
    expect(submitted.html).not.toContain(CARDS.approved);
    expect(await countAuthorizations(t)).toBe(before);
    expect(await paymentsOf(t, checkout.checkoutId)).toEqual([]);
    expect(await checkoutStatus(t, checkout.checkoutId)).toBe('OPEN');

    // Sent again, the old form still charges nothing; the updated page's form pays the amount it shows.
    expect((await postForm(t, checkout.path, cardForm(shown))).status).toBe(409);
    const confirmed = await postForm(t, checkout.path, cardForm(csrfOf(submitted.html)));
    expect(confirmed.status).toBe(303);
    const payments = await paymentsOf(t, checkout.checkoutId);
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ amount: 99_999, status: 'SUCCEEDED' });
  });

  it('an unchanged order pays with the form as shown, and an old form may still cancel', async () => {
    const paid = await createHostedCheckout(t, merchant, { amount: 1000, currency: 'EUR', country: 'DE' });
    const form = cardForm(csrfOf((await getPage(t, paid.path)).html));
    expect((await postForm(t, paid.path, form)).status).toBe(303);
    expect(await paymentsOf(t, paid.checkoutId)).toMatchObject([{ amount: 1000 }]);

    const canceled = await createHostedCheckout(t, merchant, {
      amount: 1000,
      currency: 'EUR',
      country: 'DE',
    });
    const shown = csrfOf((await getPage(t, canceled.path)).html);
    await replaceOrder(canceled.checkoutId, 2000);
    expect((await postForm(t, `${canceled.path}/cancel`, { csrf_token: shown })).status).toBe(303);
    expect(await checkoutStatus(t, canceled.checkoutId)).toBe('CANCELED');
  });

  it('the version is checked under the session lock when the payment starts (a PUT between check and start)', async () => {
    const checkout = await createHostedCheckout(t, merchant, {
      amount: 1000,
      currency: 'EUR',
      country: 'DE',
    });
    const { order } = await replaceOrder(checkout.checkoutId, 5000);
    const scope = { merchantId: merchant.merchantId, livemode: false };
    const attempt = (expectedOrderVersion: number) =>
      t.services.payments.payCheckout({
        scope,
        checkoutId: checkout.checkoutId,
        channel: 'hosted_page',
        method: {
          type: 'card',
          card: { number: CARDS.approved, expMonth: 12, expYear: 2034, cvc: '737', holderName: 'Ada' },
        },
        device: 'desktop',
        returnUrl: () => 'https://shop.example/return',
        expectedOrderVersion,
      });
    const refused = await attempt(order.version - 1).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('order_changed');
    expect(await paymentsOf(t, checkout.checkoutId)).toEqual([]);

    const accepted = await attempt(order.version);
    expect(accepted.payment.amount).toBe(5000);
  });
});
