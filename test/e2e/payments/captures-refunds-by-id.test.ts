import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { authorizedPayment, get, post, type MoneyOperationJson } from './payment-fixtures.ts';

describe('GET /v1/captures/{id}, GET /v1/refunds/{id} and their lists', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let capture: MoneyOperationJson;
  let refunds: MoneyOperationJson[];

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
    const payment = await authorizedPayment(t, merchant, { currency: 'EUR', amount: 1000 });
    const captured = await post(t, merchant, `/v1/payments/${payment.id}/capture`, { amount: 1000 });
    expect(captured.statusCode).toBe(201);
    capture = captured.json();
    refunds = [];
    for (const amount of [100, 200, 300]) {
      const refunded = await post(t, merchant, `/v1/payments/${payment.id}/refunds`, { amount });
      expect(refunded.statusCode).toBe(201);
      refunds.push(refunded.json());
    }
  });
  afterAll(() => t.close());

  it('answers a capture by its id, as the payment lists it', async () => {
    const response = await get(t, merchant, `/v1/captures/${capture.id}`);
    expect(response.statusCode).toBe(200);
    const listed = (await get(t, merchant, `/v1/payments/${capture.payment_id}/captures`)).json().data[0];
    expect(response.json()).toEqual(listed);
    expect(response.json()).toMatchObject({
      object: 'capture',
      livemode: false,
      amount: 1000,
      currency: 'EUR',
      status: 'SUCCEEDED',
    });
  });

  it('answers a refund by its id, as the payment lists it', async () => {
    const refund = refunds[1]!;
    const response = await get(t, merchant, `/v1/refunds/${refund.id}`);
    expect(response.statusCode).toBe(200);
    const { payment: _payment, ...withoutPayment } = refund;
    expect(response.json()).toEqual(withoutPayment);
    expect(response.json()).toMatchObject({
      object: 'refund',
      livemode: false,
      amount: 200,
      currency: 'EUR',
    });
  });

  it("answers 404 for another merchant's, the other mode's and unknown ids", async () => {
    const other = await t.createMerchant();
    const live = await t.createMerchant({ livemode: true });
    for (const url of [`/v1/captures/${capture.id}`, `/v1/refunds/${refunds[0]!.id}`]) {
      for (const who of [other, live]) {
        const response = await get(t, who, url);
        expect(response.statusCode, url).toBe(404);
        expect(expectProblem(response).code).toBe('not_found');
      }
      expect((await get(t, other, `/v1/${url.split('/')[2]}`)).json().data).toEqual([]);
    }
    expect((await get(t, merchant, '/v1/refunds/ref_00000000000000000000000000000000')).statusCode).toBe(404);
  });

  it('lists refunds newest first in the list envelope, page by page', async () => {
    const first = (await get(t, merchant, '/v1/refunds?limit=2')).json();
    expect(first).toMatchObject({ object: 'list', has_more: true });
    expect(first.data.map((r: { amount: number }) => r.amount)).toEqual([300, 200]);
    expect(first.next_cursor).toBe(first.data[1].id);
    const second = (await get(t, merchant, `/v1/refunds?limit=2&starting_after=${first.next_cursor}`)).json();
    expect(second).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    expect(second.data.map((r: { amount: number }) => r.amount)).toEqual([100]);
    const captures = (await get(t, merchant, '/v1/captures')).json();
    expect(captures.data.map((c: { id: string }) => c.id)).toEqual([capture.id]);
  });
});
