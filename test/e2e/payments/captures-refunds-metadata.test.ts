import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { authorizedPayment, cardMethod, createPaymentCheckout, get, post } from './payment-fixtures.ts';

/** `metadata` on payments, captures and refunds: set at creation, returned everywhere, merged by PATCH (docs/api-conventions.md §5). */
describe('metadata on payments, captures and refunds', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let paymentId: string;
  let captureId: string;
  let refundId: string;

  const patch = (url: string, payload: object, who: TestMerchant = merchant) =>
    t.app.inject({ method: 'PATCH', url, headers: who.headers, payload });

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
    const payment = await authorizedPayment(t, merchant, { currency: 'EUR', amount: 1000 });
    paymentId = payment.id;
    const captured = await post(t, merchant, `/v1/payments/${payment.id}/capture`, {
      amount: 1000,
      metadata: { shipment: 'SH-1', parcels: 2 },
    });
    expect(captured.statusCode, captured.body).toBe(201);
    expect(captured.json().metadata).toEqual({ shipment: 'SH-1', parcels: 2 });
    captureId = captured.json().id;
    const refunded = await post(t, merchant, `/v1/payments/${payment.id}/refunds`, {
      amount: 100,
      metadata: { rma: 'R-7' },
    });
    expect(refunded.statusCode, refunded.body).toBe(201);
    expect(refunded.json().metadata).toEqual({ rma: 'R-7' });
    refundId = refunded.json().id;
  });
  afterAll(() => t.close());

  it('stores what creation sent and returns it on the object and in the lists', async () => {
    expect((await get(t, merchant, `/v1/captures/${captureId}`)).json().metadata).toEqual({
      shipment: 'SH-1',
      parcels: 2,
    });
    expect((await get(t, merchant, `/v1/refunds/${refundId}`)).json().metadata).toEqual({ rma: 'R-7' });
    const refunds = (await get(t, merchant, `/v1/payments/${paymentId}/refunds`)).json().data;
    expect(refunds[0].metadata).toEqual({ rma: 'R-7' });
  });

  it('defaults to {} without metadata at creation', async () => {
    const refunded = await post(t, merchant, `/v1/payments/${paymentId}/refunds`, { amount: 50 });
    expect(refunded.statusCode).toBe(201);
    expect(refunded.json().metadata).toEqual({});
  });

  it('refuses null values at creation with a pointer', async () => {
    const refused = await post(t, merchant, `/v1/payments/${paymentId}/refunds`, {
      amount: 10,
      metadata: { rma: null },
    });
    expect(refused.statusCode).toBe(422);
    expect(expectProblem(refused).errors?.[0]?.pointer).toBe('/metadata/rma');
  });

  it('merges a PATCH key by key: null removes a key; null as a whole removes all', async () => {
    const first = await patch(`/v1/captures/${captureId}`, { metadata: { parcels: null, carrier: 'DHL' } });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      id: captureId,
      object: 'capture',
      amount: 1000,
      currency: 'EUR',
      metadata: { shipment: 'SH-1', carrier: 'DHL' },
    });
    expect((await get(t, merchant, `/v1/captures/${captureId}`)).json().metadata).toEqual({
      shipment: 'SH-1',
      carrier: 'DHL',
    });

    const cleared = await patch(`/v1/refunds/${refundId}`, { metadata: null });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json()).toMatchObject({ object: 'refund', amount: 100, metadata: {} });
    expect((await get(t, merchant, `/v1/refunds/${refundId}`)).json().metadata).toEqual({});
  });

  it('writes nothing for a patch that changes nothing', async () => {
    const before = (await get(t, merchant, `/v1/captures/${captureId}`)).json();
    const same = await patch(`/v1/captures/${captureId}`, { metadata: { carrier: 'DHL' } });
    expect(same.json().updated_at).toBe(before.updated_at);
    const empty = await patch(`/v1/captures/${captureId}`, {});
    expect(empty.json()).toEqual(before);
  });

  it('refuses other fields, too many keys, and answers 404 for ids of others', async () => {
    const amount = await patch(`/v1/refunds/${refundId}`, { amount: 1 });
    expect(amount.statusCode).toBe(422);
    expect(expectProblem(amount).errors?.[0]).toMatchObject({ pointer: '/amount', code: 'unknown_field' });

    const many = Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`k${index}`, index]));
    const tooMany = await patch(`/v1/captures/${captureId}`, { metadata: many });
    expect(tooMany.statusCode).toBe(422);
    expect(expectProblem(tooMany).errors?.[0]).toMatchObject({ pointer: '/metadata', code: 'too_many_keys' });

    const other = await t.createMerchant();
    for (const url of [`/v1/captures/${captureId}`, `/v1/refunds/${refundId}`]) {
      const response = await patch(url, { metadata: { x: '1' } }, other);
      expect(response.statusCode, url).toBe(404);
      expect(expectProblem(response).code).toBe('not_found');
    }
  });

  describe('payments', () => {
    it('stores metadata sent with POST /v1/payments; a payment without has {}', async () => {
      const checkout = await createPaymentCheckout(t, merchant, { currency: 'EUR', amount: 500 });
      const paid = await post(t, merchant, '/v1/payments', {
        checkout_id: checkout.checkout_id,
        payment_method: cardMethod(),
        metadata: { erp_ref: 'INV-2041', line: 3 },
      });
      expect(paid.statusCode, paid.body).toBe(201);
      expect(paid.json().metadata).toEqual({ erp_ref: 'INV-2041', line: 3 });
      expect((await get(t, merchant, `/v1/payments/${paid.json().id}`)).json().metadata).toEqual({
        erp_ref: 'INV-2041',
        line: 3,
      });
      expect((await get(t, merchant, `/v1/payments/${paymentId}`)).json().metadata).toEqual({});
    });

    it('merges a PATCH, raising version only when something changes; other fields are refused', async () => {
      const before = (await get(t, merchant, `/v1/payments/${paymentId}`)).json();
      const changed = await patch(`/v1/payments/${paymentId}`, { metadata: { erp_ref: 'INV-1', gone: 'x' } });
      expect(changed.statusCode, changed.body).toBe(200);
      expect(changed.json()).toMatchObject({
        id: paymentId,
        object: 'payment',
        status: before.status,
        captured_amount: before.captured_amount,
        metadata: { erp_ref: 'INV-1', gone: 'x' },
        version: before.version + 1,
      });
      const removed = await patch(`/v1/payments/${paymentId}`, { metadata: { gone: null } });
      expect(removed.json()).toMatchObject({ metadata: { erp_ref: 'INV-1' }, version: before.version + 2 });
      const same = await patch(`/v1/payments/${paymentId}`, { metadata: { erp_ref: 'INV-1' } });
      expect(same.json().version).toBe(before.version + 2);
      expect((await get(t, merchant, `/v1/payments/${paymentId}`)).json().metadata).toEqual({
        erp_ref: 'INV-1',
      });

      const status = await patch(`/v1/payments/${paymentId}`, { status: 'CANCELED' });
      expect(status.statusCode).toBe(422);
      expect(expectProblem(status).errors?.[0]).toMatchObject({ pointer: '/status', code: 'unknown_field' });
      const other = await t.createMerchant();
      const foreign = await patch(`/v1/payments/${paymentId}`, { metadata: { x: 1 } }, other);
      expect(foreign.statusCode).toBe(404);
    });
  });
});
