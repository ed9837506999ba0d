import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  checkoutRequest,
  createCheckout,
  createManualClock,
  simpleOrder,
  type CheckoutJson,
} from './checkout-fixtures.ts';

/** Reading, listing, replacing the order of, and expiring checkout sessions. */
describe('managing checkouts', () => {
  const clock = createManualClock();
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp({ clock });
    merchant = await testApp.createMerchant();
  });
  afterAll(() => testApp.close());

  const inject = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
    testApp.app.inject({ method, url, headers: merchant.headers, ...(payload ? { payload } : {}) });

  async function eventTypes(checkoutId: string) {
    const { rows } = await testApp.database.db.query<{ type: string }>(
      'SELECT type FROM events WHERE checkout_id = $1 ORDER BY seq',
      [checkoutId],
    );
    return rows.map((row) => row.type);
  }

  describe('GET /v1/checkouts', () => {
    let a: CheckoutJson;
    let b: CheckoutJson;
    let c: CheckoutJson;
    let firstPlaced: string;

    beforeAll(async () => {
      firstPlaced = clock.now().toISOString();
      a = await createCheckout(testApp, merchant, checkoutRequest(simpleOrder('USD', 'US', 1000, 'list-a')));
      clock.advance(60);
      b = await createCheckout(testApp, merchant, checkoutRequest(simpleOrder('USD', 'US', 2000, 'list-b')));
      clock.advance(60);
      c = await createCheckout(testApp, merchant, checkoutRequest(simpleOrder('USD', 'US', 3000, 'list-b')));
      clock.advance(60);
    });

    it('pages newest first with limit and starting_after', async () => {
      const page1 = (await inject('GET', '/v1/checkouts?limit=2&merchant_order_id=list-b')).json();
      expect(page1.data.map((x: CheckoutJson) => x.checkout_id)).toEqual([c.checkout_id, b.checkout_id]);
      expect(page1.has_more).toBe(false);

      const all1 = (await inject('GET', '/v1/checkouts?limit=2')).json();
      expect(all1.data.map((x: CheckoutJson) => x.checkout_id)).toEqual([c.checkout_id, b.checkout_id]);
      expect(all1).toMatchObject({ has_more: true, next_cursor: b.checkout_id });
      const all2 = (await inject('GET', `/v1/checkouts?limit=2&starting_after=${all1.next_cursor}`)).json();
      expect(all2.data.map((x: CheckoutJson) => x.checkout_id)).toEqual([a.checkout_id]);
      expect(all2).toMatchObject({ object: 'list', has_more: false, next_cursor: null });

      const back1 = (await inject('GET', `/v1/checkouts?limit=1&ending_before=${a.checkout_id}`)).json();
      expect(back1.data.map((x: CheckoutJson) => x.checkout_id)).toEqual([b.checkout_id]);
      expect(back1).toMatchObject({ object: 'list', has_more: true, next_cursor: b.checkout_id });
      const back2 = (await inject('GET', `/v1/checkouts?limit=1&ending_before=${back1.next_cursor}`)).json();
      expect(back2.data.map((x: CheckoutJson) => x.checkout_id)).toEqual([c.checkout_id]);
      expect(back2).toMatchObject({ has_more: false, next_cursor: null });
    });

    it('refuses a foreign, unknown or wrong-type cursor with 400 invalid_cursor', async () => {
      const stranger = await testApp.createMerchant({ name: 'Stranger' });
      const theirs = await createCheckout(
        testApp,
        stranger,
        checkoutRequest(simpleOrder('USD', 'US', 500, 'x')),
      );
      for (const cursor of [
        a.order.order_id, // an ord_ id on /v1/checkouts
        'garbage',
        'chk_00000000000000000000000000000000',
        theirs.checkout_id,
      ]) {
        for (const name of ['starting_after', 'ending_before']) {
          const problem = expectProblem(await inject('GET', `/v1/checkouts?${name}=${cursor}`));
          expect(problem, `${name}=${cursor}`).toMatchObject({ status: 400, code: 'invalid_cursor' });
        }
      }
    });

    it('filters by status, customer and creation time', async () => {
      const since = new Date(Date.parse(firstPlaced) + 30_000).toISOString();
      const recent = (await inject('GET', `/v1/checkouts?created_gte=${encodeURIComponent(since)}`)).json();
      expect(recent.data.map((x: CheckoutJson) => x.checkout_id)).toEqual([c.checkout_id, b.checkout_id]);
      const early = (
        await inject('GET', `/v1/checkouts?created_lte=${encodeURIComponent(firstPlaced)}`)
      ).json();
      expect(early.data.map((x: CheckoutJson) => x.checkout_id)).toEqual([a.checkout_id]);
      const bOn = encodeURIComponent(b.placed_at as string);
      const after = (await inject('GET', `/v1/checkouts?created_gt=${bOn}`)).json();
      expect(after.data.map((x: CheckoutJson) => x.checkout_id)).toEqual([c.checkout_id]);
      const before = (await inject('GET', `/v1/checkouts?created_lt=${bOn}`)).json();
      expect(before.data.map((x: CheckoutJson) => x.checkout_id)).toEqual([a.checkout_id]);
      const expired = (await inject('GET', '/v1/checkouts?status=EXPIRED')).json();
      expect(expired.data).toEqual([]);
      const bad = await inject('GET', '/v1/checkouts?status=PAID');
      expect(bad.statusCode).toBe(422);
      expect(expectProblem(bad).errors?.[0]?.pointer).toBe('/query/status');
      const badLimit = await inject('GET', '/v1/checkouts?limit=101');
      expect(badLimit.statusCode).toBe(422);
    });
  });

  describe('PUT /v1/checkouts/{id}', () => {
    it('replaces the order while no payment has started; ids stay, versions move, events are written', async () => {
      const created = await createCheckout(
        testApp,
        merchant,
        checkoutRequest(simpleOrder('EUR', 'NL', 5000, 'cart-1')),
      );
      clock.advance(5);
      const replacement = {
        merchant_order_id: 'cart-1',
        currency: 'EUR',
        country_code: 'NL',
        subtotal_amount: 7000,
        discounts: [{ amount: 500, description: 'Welcome' }],
        shipping_amount: 495,
        total_amount: 6995,
        products: [
          { id: 'a', name: 'A', quantity: 2, unit_price: 2500 },
          { id: 'b', name: 'B', quantity: 1, unit_price: 2000 },
        ],
        customer: { email: 'shopper@example.nl', first_name: 'Sanne' },
      };
      const response = await inject('PUT', `/v1/checkouts/${created.checkout_id}`, { order: replacement });
      expect(response.statusCode, response.body).toBe(200);
      const updated = response.json() as CheckoutJson;
      expect(updated).toMatchObject({
        checkout_id: created.checkout_id,
        status: 'OPEN',
        version: 2,
        order: {
          order_id: created.order.order_id,
          status: 'CREATED',
          total_amount: 6995,
          shipping_amount: 495,
          version: 2,
        },
      });
      expect(updated.order.customer?.email).toBe('shopper@example.nl');
      expect(updated.placed_at).toBe(created.placed_at);
      expect(updated.updated_at).not.toBe(created.placed_at);
      expect(await eventTypes(created.checkout_id)).toEqual([
        'checkout.created',
        'order.created',
        'order.updated',
        'checkout.updated',
      ]);

      const { rows } = await testApp.database.db.query<{
        object_version: number;
        data: { total_amount: number };
      }>(`SELECT object_version, data FROM events WHERE checkout_id = $1 AND type = 'order.updated'`, [
        created.checkout_id,
      ]);
      expect(rows[0]).toMatchObject({ object_version: 2, data: { total_amount: 6995 } });
    });

    it('checks the replacement order like a new one', async () => {
      const created = await createCheckout(
        testApp,
        merchant,
        checkoutRequest(simpleOrder('EUR', 'NL', 5000)),
      );
      const response = await inject('PUT', `/v1/checkouts/${created.checkout_id}`, {
        order: { ...simpleOrder('EUR', 'NL', 5000), total_amount: 4999 },
      });
      expect(response.statusCode).toBe(422);
      expect(expectProblem(response).errors?.[0]).toMatchObject({
        pointer: '/order/total_amount',
        code: 'total_mismatch',
      });
    });

    it('refuses with 409 payment_in_progress once a payment has started', async () => {
      const created = await createCheckout(
        testApp,
        merchant,
        checkoutRequest(simpleOrder('EUR', 'NL', 5000)),
      );
      // The payment flow marks the session (here: the column it sets).
      await testApp.database.db.query('UPDATE checkouts SET payment_started = true WHERE id = $1', [
        created.checkout_id,
      ]);
      const response = await inject('PUT', `/v1/checkouts/${created.checkout_id}`, {
        order: simpleOrder('EUR', 'NL', 6000),
      });
      expect(response.statusCode).toBe(409);
      expect(expectProblem(response).code).toBe('payment_in_progress');
      const after = (await inject('GET', `/v1/checkouts/${created.checkout_id}`)).json();
      expect(after.order.total_amount).toBe(5000);
      expect(after.payment_started).toBe(true);
    });

    it('refuses with a coded 409 naming the status once the session is closed', async () => {
      const created = await createCheckout(
        testApp,
        merchant,
        checkoutRequest(simpleOrder('EUR', 'NL', 5000)),
      );
      expect((await inject('POST', `/v1/checkouts/${created.checkout_id}/expire`)).statusCode).toBe(200);
      const response = await inject('PUT', `/v1/checkouts/${created.checkout_id}`, {
        order: simpleOrder('EUR', 'NL', 6000),
      });
      expect(response.statusCode).toBe(409);
      expect(expectProblem(response)).toMatchObject({
        code: 'invalid_state_transition',
        current_status: 'EXPIRED',
        allowed_statuses: ['OPEN'],
      });
    });
  });

  describe('POST /v1/checkouts/{id}/expire', () => {
    it('expires an open session and its order, with events, and refuses a second time', async () => {
      const created = await createCheckout(
        testApp,
        merchant,
        checkoutRequest(simpleOrder('SEK', 'SE', 10_000)),
      );
      const response = await inject('POST', `/v1/checkouts/${created.checkout_id}/expire`);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        status: 'EXPIRED',
        expired_at: clock.now().toISOString(),
        version: 2,
        order: { status: 'EXPIRED', version: 2 },
      });
      expect(await eventTypes(created.checkout_id)).toEqual([
        'checkout.created',
        'order.created',
        'checkout.expired',
        'order.updated',
      ]);

      const again = await inject('POST', `/v1/checkouts/${created.checkout_id}/expire`);
      expect(again.statusCode).toBe(409);
      const problem = expectProblem(again);
      expect(problem).toMatchObject({
        code: 'invalid_state_transition',
        current_status: 'EXPIRED',
        allowed_statuses: ['OPEN'],
      });
      expect(problem.detail).toBe('Cannot expire a checkout whose status is EXPIRED; allowed: OPEN');
    });

    it('refuses while a payment attempt is in flight', async () => {
      const created = await createCheckout(
        testApp,
        merchant,
        checkoutRequest(simpleOrder('SEK', 'SE', 10_000)),
      );
      await testApp.database.db.query(
        `UPDATE checkouts SET active_payment_id = 'pay_inflight' WHERE id = $1`,
        [created.checkout_id],
      );
      const response = await inject('POST', `/v1/checkouts/${created.checkout_id}/expire`);
      expect(response.statusCode).toBe(409);
      expect(expectProblem(response).code).toBe('payment_in_progress');
    });

    it('replays with an Idempotency-Key instead of failing', async () => {
      const created = await createCheckout(
        testApp,
        merchant,
        checkoutRequest(simpleOrder('SEK', 'SE', 10_000)),
      );
      const headers = { ...merchant.headers, 'idempotency-key': `expire-${created.checkout_id}` };
      const first = await testApp.app.inject({
        method: 'POST',
        url: `/v1/checkouts/${created.checkout_id}/expire`,
        headers,
      });
      const second = await testApp.app.inject({
        method: 'POST',
        url: `/v1/checkouts/${created.checkout_id}/expire`,
        headers,
      });
      expect(first.statusCode).toBe(200);
      expect(second.statusCode).toBe(200);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toBe(first.body);
    });
  });
});
