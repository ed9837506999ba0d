import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import { connectLiveProcessor } from '../../fixtures/live-processor.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createCheckout, seedCheckoutRequest, type CheckoutJson } from './checkout-fixtures.ts';

/**
 * A merchant's credentials see only that merchant's objects in that mode; a foreign (or other-mode) id
 * answers exactly like an id that does not exist.
 */
describe('checkout and order access', () => {
  let testApp: TestApp;
  let shop: TestMerchant;
  let rival: TestMerchant;
  let shopLiveHeaders: { authorization: string };
  let checkout: CheckoutJson;

  beforeAll(async () => {
    testApp = await createTestApp();
    shop = await testApp.createMerchant({ name: 'Shop' });
    rival = await testApp.createMerchant({ name: 'Rival' });
    const live = await issueCredentials(testApp.database.db, shop.merchantId, true);
    shopLiveHeaders = { authorization: `Bearer ${live.apiKey}` };
    await connectLiveProcessor(testApp, shopLiveHeaders);
    checkout = await createCheckout(testApp, shop);
    await createCheckout(testApp, rival);
  });
  afterAll(() => testApp.close());

  /** The problem document minus what names the request itself (instance, request id) and the id asked for. */
  function comparable(
    response: { statusCode: number; headers: Record<string, unknown>; body: string },
    id: string,
  ) {
    const {
      instance: _instance,
      request_id: _requestId,
      ...rest
    } = expectProblem(response) as unknown as Record<string, unknown>;
    return { status: response.statusCode, ...rest, detail: String(rest.detail).replace(id, '<id>') };
  }

  const unknownCheckout = 'chk_00000000000000000000000000000000';
  const unknownOrder = 'ord_00000000000000000000000000000000';

  it.each([
    ['GET', (c: CheckoutJson) => `/v1/checkouts/${c.checkout_id}`, unknownCheckout],
    ['PUT', (c: CheckoutJson) => `/v1/checkouts/${c.checkout_id}`, unknownCheckout],
    ['POST', (c: CheckoutJson) => `/v1/checkouts/${c.checkout_id}/expire`, unknownCheckout],
    ['GET', (c: CheckoutJson) => `/v1/checkouts/${c.checkout_id}/payment-methods`, unknownCheckout],
    ['GET', (c: CheckoutJson) => `/v1/orders/${c.order.order_id}`, unknownOrder],
  ] as const)(
    '%s %s: another merchant and the other mode get the same 404 as an unknown id',
    async (method, urlOf, unknownId) => {
      const url = urlOf(checkout);
      const id = url.split('/')[3]!;
      const payload = method === 'PUT' ? { order: seedCheckoutRequest().order } : undefined;
      const asRival = await testApp.app.inject({
        method,
        url,
        headers: rival.headers,
        ...(payload ? { payload } : {}),
      });
      const asLive = await testApp.app.inject({
        method,
        url,
        headers: shopLiveHeaders,
        ...(payload ? { payload } : {}),
      });
      const unknown = await testApp.app.inject({
        method,
        url: url.replace(id, unknownId),
        headers: shop.headers,
        ...(payload ? { payload } : {}),
      });
      expect(unknown.statusCode).toBe(404);
      expect(comparable(asRival, id)).toEqual(comparable(unknown, unknownId));
      expect(comparable(asLive, id)).toEqual(comparable(unknown, unknownId));
    },
  );

  it('leaves a foreign checkout untouched after the refused calls', async () => {
    const own = await testApp.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${checkout.checkout_id}`,
      headers: shop.headers,
    });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ status: 'OPEN', version: 1, order: { version: 1 } });
  });

  it('lists only the caller’s checkouts and orders, in the caller’s mode', async () => {
    const checkouts = await testApp.app.inject({
      method: 'GET',
      url: '/v1/checkouts',
      headers: shop.headers,
    });
    expect(checkouts.json().data.map((c: CheckoutJson) => c.checkout_id)).toEqual([checkout.checkout_id]);
    const orders = await testApp.app.inject({ method: 'GET', url: '/v1/orders', headers: shop.headers });
    expect(orders.json().data.map((o: { order_id: string }) => o.order_id)).toEqual([
      checkout.order.order_id,
    ]);
    const live = await testApp.app.inject({ method: 'GET', url: '/v1/checkouts', headers: shopLiveHeaders });
    expect(live.json()).toEqual({ object: 'list', data: [], has_more: false, next_cursor: null });
    const liveOrders = await testApp.app.inject({
      method: 'GET',
      url: '/v1/orders',
      headers: shopLiveHeaders,
    });
    expect(liveOrders.json().data).toEqual([]);
  });

  it('a live-mode checkout is live and invisible to test credentials', async () => {
    const created = await testApp.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: shopLiveHeaders,
      payload: seedCheckoutRequest(),
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ livemode: true, order: { livemode: true } });
    const fromTest = await testApp.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${created.json().checkout_id}`,
      headers: shop.headers,
    });
    expect(fromTest.statusCode).toBe(404);
  });
});
