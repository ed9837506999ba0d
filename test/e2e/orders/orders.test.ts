import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  checkoutRequest,
  createCheckout,
  createManualClock,
  seedCheckoutRequest,
  simpleOrder,
  type CheckoutJson,
} from '../checkouts/checkout-fixtures.ts';

type OrderJson = {
  order_id: string;
  status: string;
  merchant_order_id: string;
  checkout_id: string;
} & Record<string, unknown>;

/** GET /v1/orders/{id} and GET /v1/orders (by merchant_order_id, status, creation time; cursor pages). */
describe('orders', () => {
  const clock = createManualClock(new Date('2025-05-01T08:00:00.000Z'));
  let testApp: TestApp;
  let merchant: TestMerchant;
  let first: CheckoutJson;
  let second: CheckoutJson;
  let third: CheckoutJson;

  beforeAll(async () => {
    testApp = await createTestApp({ clock });
    merchant = await testApp.createMerchant();
    first = await createCheckout(testApp, merchant, seedCheckoutRequest());
    clock.advance(3600);
    second = await createCheckout(
      testApp,
      merchant,
      checkoutRequest(simpleOrder('JPY', 'JP', 4_980, 'A-100')),
    );
    clock.advance(3600);
    third = await createCheckout(
      testApp,
      merchant,
      checkoutRequest(simpleOrder('JPY', 'JP', 1_200, 'A-100')),
    );
    await testApp.app.inject({
      method: 'POST',
      url: `/v1/checkouts/${third.checkout_id}/expire`,
      headers: merchant.headers,
    });
  });
  afterAll(() => testApp.close());

  const get = (url: string) => testApp.app.inject({ method: 'GET', url, headers: merchant.headers });
  const ids = (body: { data: OrderJson[] }) => body.data.map((order) => order.order_id);

  it('retrieves an order with its customer and the checkout it belongs to', async () => {
    const response = await get(`/v1/orders/${first.order.order_id}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(first.order);
    expect(response.json()).toMatchObject({
      id: first.order.order_id,
      object: 'order',
      checkout_id: first.checkout_id,
      country: 'Mexico', // English whatever the checkout's locale (docs/api-conventions.md#4)
      created_at: '2025-05-01T08:00:00.000Z',
      placed_at: '2025-05-01T08:00:00.000Z',
    });
  });

  it('answers 404 for an unknown id', async () => {
    const response = await get('/v1/orders/ord_ffffffffffffffffffffffffffffffff');
    expect(response.statusCode).toBe(404);
    expect(expectProblem(response)).toMatchObject({
      code: 'not_found',
      detail: 'No order with id ord_ffffffffffffffffffffffffffffffff',
    });
  });

  it('lists newest first, filtered by merchant_order_id and status', async () => {
    expect(ids((await get('/v1/orders')).json())).toEqual([
      third.order.order_id,
      second.order.order_id,
      first.order.order_id,
    ]);
    expect(ids((await get('/v1/orders?merchant_order_id=A-100')).json())).toEqual([
      third.order.order_id,
      second.order.order_id,
    ]);
    expect(ids((await get('/v1/orders?merchant_order_id=A-100&status=CREATED')).json())).toEqual([
      second.order.order_id,
    ]);
    expect(ids((await get('/v1/orders?status=EXPIRED')).json())).toEqual([third.order.order_id]);
    expect(ids((await get('/v1/orders?merchant_order_id=nope')).json())).toEqual([]);
  });

  it('filters by creation time (inclusive bounds, any offset)', async () => {
    const between = await get(
      `/v1/orders?created_gte=${encodeURIComponent('2025-05-01T10:00:00+01:00')}&created_lte=2025-05-01T09:00:00.000Z`,
    );
    expect(ids(between.json())).toEqual([second.order.order_id]);
    const at = (time: string) => encodeURIComponent(time);
    expect(ids((await get(`/v1/orders?created_gt=${at('2025-05-01T09:00:00Z')}`)).json())).toEqual([
      third.order.order_id,
    ]);
    expect(ids((await get(`/v1/orders?created_lt=${at('2025-05-01T09:00:00Z')}`)).json())).toEqual([
      first.order.order_id,
    ]);
    expect(
      ids(
        (
          await get(`/v1/orders?created_gte=${at('2025-05-01T09:00:00Z')}&created_lte=2025-05-01T09:00:00Z`)
        ).json(),
      ),
    ).toEqual([second.order.order_id]);
    expect(
      ids(
        (
          await get(`/v1/orders?created_gt=${at('2025-05-01T08:00:00Z')}&created_lt=2025-05-01T10:00:00Z`)
        ).json(),
      ),
    ).toEqual([second.order.order_id]);
    const bad = await get('/v1/orders?created_gte=yesterday');
    expect(bad.statusCode).toBe(422);
    expect(expectProblem(bad).errors?.[0]?.pointer).toBe('/query/created_gte');
  });

  it('pages with limit and starting_after', async () => {
    const page1 = (await get('/v1/orders?limit=2')).json();
    expect(ids(page1)).toEqual([third.order.order_id, second.order.order_id]);
    expect(page1).toMatchObject({ has_more: true, next_cursor: second.order.order_id });
    const page2 = (await get(`/v1/orders?limit=2&starting_after=${page1.next_cursor}`)).json();
    expect(ids(page2)).toEqual([first.order.order_id]);
    expect(page2).toMatchObject({ has_more: false, next_cursor: null });
  });

  it('pages back with ending_before, newest first, without the cursor itself', async () => {
    const back1 = (await get(`/v1/orders?limit=1&ending_before=${first.order.order_id}`)).json();
    expect(back1).toMatchObject({ object: 'list', has_more: true, next_cursor: second.order.order_id });
    expect(ids(back1)).toEqual([second.order.order_id]);
    const back2 = (await get(`/v1/orders?limit=1&ending_before=${back1.next_cursor}`)).json();
    expect(back2).toMatchObject({ has_more: false, next_cursor: null });
    expect(ids(back2)).toEqual([third.order.order_id]);
    const both = (await get(`/v1/orders?ending_before=${first.order.order_id}`)).json();
    expect(ids(both)).toEqual([third.order.order_id, second.order.order_id]);
    expect((await get(`/v1/orders?ending_before=${third.order.order_id}`)).json()).toEqual({
      object: 'list',
      data: [],
      has_more: false,
      next_cursor: null,
    });
    const twoWays = await get(
      `/v1/orders?starting_after=${third.order.order_id}&ending_before=${first.order.order_id}`,
    );
    expect(expectProblem(twoWays)).toMatchObject({ status: 422, code: 'validation_failed' });
    expect(expectProblem(twoWays).errors?.[0]).toMatchObject({
      pointer: '/query/ending_before',
      code: 'not_allowed',
    });
  });

  it('refuses a cursor that is not an order of this list (garbage, unknown, another type) with 400', async () => {
    for (const cursor of ['garbage', 'ord_00000000000000000000000000000000', first.checkout_id]) {
      for (const name of ['starting_after', 'ending_before']) {
        const problem = expectProblem(await get(`/v1/orders?${name}=${cursor}`));
        expect(problem, `${name}=${cursor}`).toMatchObject({ status: 400, code: 'invalid_cursor' });
      }
    }
    // A filter does not judge the cursor: `first` is not EXPIRED, yet places the page.
    expect(
      ids((await get(`/v1/orders?status=CREATED&starting_after=${third.order.order_id}`)).json()),
    ).toEqual([second.order.order_id, first.order.order_id]);
  });

  it("never lists another merchant's orders, and refuses its cursor", async () => {
    const other = await testApp.createMerchant({ name: 'Other' });
    const response = await testApp.app.inject({
      method: 'GET',
      url: `/v1/orders?starting_after=${third.order.order_id}`,
      headers: other.headers,
    });
    // Its cursor is not an order of this list: refused, never an empty page that looks like the end.
    expect(expectProblem(response)).toMatchObject({ status: 400, code: 'invalid_cursor' });
  });
});
