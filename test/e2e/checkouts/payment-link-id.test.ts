import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  checkoutIdOf,
  createLink,
  linkRequest,
  openLink,
  payWithApprovedCard,
} from '../payment-links/payment-link-fixtures.ts';
import { checkoutRequest, createCheckout, simpleOrder } from './checkout-fixtures.ts';

/**
 * `payment_link_id` on the Checkout resource: the link whose visit opened the session, null for a session made
 * with `POST /v1/checkouts`. Read from `checkouts.payment_link_id` (migration 0007) on every route.
 */
describe('checkout.payment_link_id', () => {
  let t: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  const getCheckout = async (id: string) => {
    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${id}`,
      headers: merchant.headers,
    });
    expect(response.statusCode).toBe(200);
    return response.json<{ checkout_id: string; payment_link_id: string | null; status: string }>();
  };

  it('is null for a session created with the API, in the create answer, GET and the list', async () => {
    const body = await createCheckout(t, merchant, checkoutRequest(simpleOrder('EUR', 'FI', 1_000, 'api-1')));
    expect(body).toHaveProperty('payment_link_id', null);
    expect((await getCheckout(body.checkout_id)).payment_link_id).toBeNull();

    const list = await t.app.inject({ method: 'GET', url: '/v1/checkouts', headers: merchant.headers });
    const item = list
      .json<{ data: { checkout_id: string; payment_link_id: string | null }[] }>()
      .data.find((checkout) => checkout.checkout_id === body.checkout_id);
    expect(item).toHaveProperty('payment_link_id', null);
  });

  it("names the link for a session a link's visit opened, before and after it is paid", async () => {
    const link = await createLink(t, merchant, linkRequest());
    const opened = await openLink(t, link);
    expect(opened.statusCode).toBe(303);
    const checkoutId = checkoutIdOf(String(opened.headers.location));

    expect((await getCheckout(checkoutId)).payment_link_id).toBe(link.payment_link_id);
    expect((await payWithApprovedCard(t, merchant, checkoutId)).status).toBe('SUCCEEDED');
    const paid = await getCheckout(checkoutId);
    expect(paid).toMatchObject({ status: 'COMPLETED', payment_link_id: link.payment_link_id });

    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/checkouts?status=COMPLETED',
      headers: merchant.headers,
    });
    const item = list
      .json<{ data: { checkout_id: string; payment_link_id: string | null }[] }>()
      .data.find((checkout) => checkout.checkout_id === checkoutId);
    expect(item?.payment_link_id).toBe(link.payment_link_id);
  });
});
