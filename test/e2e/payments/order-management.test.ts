import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  authorizedPayment,
  get,
  kassaTotals,
  paymentEvents,
  post,
  sandboxTotals,
  type MoneyOperationJson,
  type PaymentJson,
} from './payment-fixtures.ts';

/**
 * Order Management (docs/payments.md, the secret-key checkout flow): captures and refunds are child rows, partial and repeated, never
 * beyond the authorised / captured amount; cancel voids an authorization; the order and the events follow.
 */
describe('order management: capture, cancel, refund', () => {
  let t: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  const order = async (orderId: string) => (await get(t, merchant, `/v1/orders/${orderId}`)).json();

  it('captures in parts up to the authorised amount; the default captures the rest; the order becomes PAID', async () => {
    const payment = await authorizedPayment(t, merchant, { amount: 1000 });
    expect(payment).toMatchObject({ status: 'AUTHORIZED', authorized_amount: 1000, captured_amount: 0 });
    expect((await order(payment.order_id)).status).toBe('AUTHORIZED');

    const first = await post(t, merchant, `/v1/payments/${payment.id}/capture`, { amount: 300 });
    expect(first.statusCode).toBe(201);
    const capture = first.json<MoneyOperationJson>();
    expect(capture).toMatchObject({ object: 'capture', amount: 300, currency: 'USD', status: 'SUCCEEDED' });
    expect(capture.id).toMatch(/^cap_/);
    expect(capture.payment).toMatchObject({ status: 'SUCCEEDED', captured_amount: 300 });
    expect(await order(payment.order_id)).toMatchObject({
      status: 'PAID',
      captured_amount: 300,
      authorized_amount: 1000,
    });

    const rest = await post(t, merchant, `/v1/payments/${payment.id}/capture`);
    expect(rest.statusCode).toBe(201);
    expect(rest.json()).toMatchObject({ amount: 700, payment: { captured_amount: 1000 } });
    // A second partial capture keeps the order PAID and moves its amounts.
    expect(await order(payment.order_id)).toMatchObject({ status: 'PAID', captured_amount: 1000 });

    const beyond = await post(t, merchant, `/v1/payments/${payment.id}/capture`, { amount: 1 });
    expect(beyond.statusCode).toBe(422);
    expect(expectProblem(beyond)).toMatchObject({ code: 'amount_exceeds_capturable', capturable_amount: 0 });

    const list = await get(t, merchant, `/v1/payments/${payment.id}/captures`);
    // Newest first, paginated like every list.
    expect(list.json().data.map((c: { amount: number }) => c.amount)).toEqual([700, 300]);
    const page1 = (await get(t, merchant, `/v1/payments/${payment.id}/captures?limit=1`)).json();
    expect(page1).toMatchObject({ object: 'list', data: [{ amount: 700 }], has_more: true });
    const page2 = (
      await get(
        t,
        merchant,
        `/v1/payments/${payment.id}/captures?limit=1&starting_after=${page1.next_cursor}`,
      )
    ).json();
    expect(page2).toMatchObject({ data: [{ amount: 300 }], has_more: false, next_cursor: null });
    const back = (
      await get(t, merchant, `/v1/payments/${payment.id}/captures?limit=1&ending_before=${page2.data[0].id}`)
    ).json();
    expect(back).toMatchObject({ data: [{ id: page1.next_cursor, amount: 700 }], has_more: false });
    expect(await sandboxTotals(t, payment.id)).toMatchObject({ captured: 1000, captureCalls: 2 });
    const types = (await paymentEvents(t, payment.id)).map((event) => event.type);
    expect(types.filter((type) => type === 'payment.captured')).toHaveLength(2);
    expect(types.filter((type) => type === 'payment.succeeded')).toHaveLength(1);
  });

  it('refuses a capture above what remains, naming the capturable amount', async () => {
    const payment = await authorizedPayment(t, merchant, { amount: 500 });
    const response = await post(t, merchant, `/v1/payments/${payment.id}/capture`, { amount: 501 });
    expect(response.statusCode).toBe(422);
    expect(expectProblem(response)).toMatchObject({
      code: 'amount_exceeds_capturable',
      capturable_amount: 500,
      currency: 'USD',
    });
    expect((await sandboxTotals(t, payment.id)).captureCalls).toBe(0);
  });

  it('validates capture and refund bodies with pointers', async () => {
    const payment = await authorizedPayment(t, merchant);
    for (const body of [{ amount: 0 }, { amount: 1.5 }, { amount: '10' }, { amount: 10, extra: true }]) {
      const response = await post(t, merchant, `/v1/payments/${payment.id}/capture`, body);
      expect(response.statusCode).toBe(422);
      const problem = expectProblem(response);
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors?.[0]?.pointer).toMatch(/^\/(amount|extra)$/);
    }
    const refund = await post(t, merchant, `/v1/payments/${payment.id}/refunds`, { amount: -5 });
    expect(refund.statusCode).toBe(422);
    expect(expectProblem(refund).errors?.[0]?.pointer).toBe('/amount');
  });

  it('cancels an authorization: payment and order CANCELED, payment.canceled with amounts, void at the sandbox', async () => {
    const payment = await authorizedPayment(t, merchant, { amount: 800 });
    const response = await post(t, merchant, `/v1/payments/${payment.id}/cancel`);
    expect(response.statusCode).toBe(200);
    expect(response.json<PaymentJson>()).toMatchObject({
      status: 'CANCELED',
      processing: false,
      captured_amount: 0,
    });
    expect((await order(payment.order_id)).status).toBe('CANCELED');
    expect((await sandboxTotals(t, payment.id)).voids).toBe(1);
    const events = await paymentEvents(t, payment.id);
    const canceled = events.find((event) => event.type === 'payment.canceled');
    expect(canceled?.data).toMatchObject({ status: 'CANCELED', amount: 800, currency: 'USD' });

    // Once canceled: no capture, no second cancel, no refund — each names the current and allowed statuses.
    const capture = await post(t, merchant, `/v1/payments/${payment.id}/capture`);
    expect(capture.statusCode).toBe(409);
    expect(expectProblem(capture)).toMatchObject({
      code: 'invalid_state_transition',
      current_status: 'CANCELED',
      allowed_statuses: ['AUTHORIZED', 'SUCCEEDED'],
    });
    const again = await post(t, merchant, `/v1/payments/${payment.id}/cancel`);
    expect(again.statusCode).toBe(409);
    expect(expectProblem(again)).toMatchObject({
      current_status: 'CANCELED',
      allowed_statuses: ['AUTHORIZED'],
    });
    const refund = await post(t, merchant, `/v1/payments/${payment.id}/refunds`, {});
    expect(refund.statusCode).toBe(409);
    expect(expectProblem(refund)).toMatchObject({
      current_status: 'CANCELED',
      allowed_statuses: ['SUCCEEDED'],
    });
  });

  it('refuses to cancel a captured payment (refund it instead)', async () => {
    const payment = await authorizedPayment(t, merchant, { capture: 'automatic' });
    expect(payment.status).toBe('SUCCEEDED');
    const response = await post(t, merchant, `/v1/payments/${payment.id}/cancel`);
    expect(response.statusCode).toBe(409);
    expect(expectProblem(response)).toMatchObject({
      code: 'invalid_state_transition',
      current_status: 'SUCCEEDED',
    });
    expect((await sandboxTotals(t, payment.id)).voids).toBe(0);
  });

  it('refunds in parts: PARTIALLY_REFUNDED, then REFUNDED; events carry the amounts; Σ refunds ≤ captured', async () => {
    const payment = await authorizedPayment(t, merchant, { amount: 1000, capture: 'automatic' });
    const first = await post(t, merchant, `/v1/payments/${payment.id}/refunds`, {
      amount: 400,
      reason: 'damaged box',
    });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      object: 'refund',
      amount: 400,
      currency: 'USD',
      status: 'SUCCEEDED',
      reason: 'damaged box',
      payment: { refunded_amount: 400, captured_amount: 1000, status: 'SUCCEEDED' },
    });
    expect(await order(payment.order_id)).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      refunded_amount: 400,
    });

    const second = await post(t, merchant, `/v1/payments/${payment.id}/refunds`, { amount: 100 });
    expect(second.statusCode).toBe(201);
    expect(await order(payment.order_id)).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      refunded_amount: 500,
    });

    const tooMuch = await post(t, merchant, `/v1/payments/${payment.id}/refunds`, { amount: 501 });
    expect(tooMuch.statusCode).toBe(422);
    expect(expectProblem(tooMuch)).toMatchObject({
      code: 'amount_exceeds_refundable',
      refundable_amount: 500,
    });

    const rest = await post(t, merchant, `/v1/payments/${payment.id}/refunds`);
    expect(rest.statusCode).toBe(201);
    expect(rest.json()).toMatchObject({ amount: 500, payment: { refunded_amount: 1000 } });
    expect(await order(payment.order_id)).toMatchObject({
      status: 'REFUNDED',
      refunded_amount: 1000,
      captured_amount: 1000,
    });

    const nothingLeft = await post(t, merchant, `/v1/payments/${payment.id}/refunds`);
    expect(nothingLeft.statusCode).toBe(422);
    expect(expectProblem(nothingLeft)).toMatchObject({
      code: 'amount_exceeds_refundable',
      refundable_amount: 0,
    });

    const list = await get(t, merchant, `/v1/payments/${payment.id}/refunds`);
    expect(list.json().data.map((r: { amount: number; status: string }) => [r.amount, r.status])).toEqual([
      [500, 'SUCCEEDED'],
      [100, 'SUCCEEDED'],
      [400, 'SUCCEEDED'],
    ]);
    const refundIds = list.json().data.map((r: { id: string }) => r.id);
    const paged = (
      await get(t, merchant, `/v1/payments/${payment.id}/refunds?limit=2&starting_after=${refundIds[0]}`)
    ).json();
    expect(paged).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    expect(paged.data.map((r: { id: string }) => r.id)).toEqual(refundIds.slice(1));
    const back = (
      await get(t, merchant, `/v1/payments/${payment.id}/refunds?limit=1&ending_before=${refundIds[2]}`)
    ).json();
    expect(back).toMatchObject({ has_more: true, next_cursor: refundIds[1] });
    expect(back.data.map((r: { id: string }) => r.id)).toEqual([refundIds[1]]);
    // Another payment's refund is not a cursor of this list.
    const other = await authorizedPayment(t, merchant, { amount: 300 });
    await post(t, merchant, `/v1/payments/${other.id}/capture`);
    const otherRefund = (await post(t, merchant, `/v1/payments/${other.id}/refunds`, { amount: 100 })).json();
    expect(otherRefund.id).toMatch(/^ref_/);
    expect(
      expectProblem(
        await get(t, merchant, `/v1/payments/${payment.id}/refunds?starting_after=${otherRefund.id}`),
      ),
    ).toMatchObject({ status: 400, code: 'invalid_cursor' });
    expect(await kassaTotals(t, payment.id)).toMatchObject({ captured: 1000, refunded: 1000 });
    expect(await sandboxTotals(t, payment.id)).toMatchObject({ refunded: 1000, refundCalls: 3 });

    const events = await paymentEvents(t, payment.id);
    const refunds = events.filter((event) => event.type === 'refund.succeeded');
    expect(refunds.map((event) => event.data.amount)).toEqual([400, 100, 500]);
    expect(refunds[0]?.data).toMatchObject({ currency: 'USD', payment: { refunded_amount: 400 } });
    const { rows: orderEvents } = await t.database.db.query<{
      data: { status: string; refunded_amount: number };
    }>(`SELECT data FROM events WHERE type = 'order.updated' AND object_id = $1 ORDER BY created_at, id`, [
      payment.order_id,
    ]);
    expect(orderEvents.map((event) => [event.data.status, event.data.refunded_amount]).slice(-3)).toEqual([
      ['PARTIALLY_REFUNDED', 400],
      ['PARTIALLY_REFUNDED', 500],
      ['REFUNDED', 1000],
    ]);
  });

  it('refunds only what was captured; a refund of a partial capture leaves the order PARTIALLY_REFUNDED', async () => {
    const payment = await authorizedPayment(t, merchant, { amount: 1000 });
    const beforeCapture = await post(t, merchant, `/v1/payments/${payment.id}/refunds`, { amount: 1 });
    expect(beforeCapture.statusCode).toBe(409);
    expect(expectProblem(beforeCapture)).toMatchObject({
      code: 'invalid_state_transition',
      current_status: 'AUTHORIZED',
    });

    await post(t, merchant, `/v1/payments/${payment.id}/capture`, { amount: 600 });
    const tooMuch = await post(t, merchant, `/v1/payments/${payment.id}/refunds`, { amount: 601 });
    expect(expectProblem(tooMuch)).toMatchObject({
      code: 'amount_exceeds_refundable',
      refundable_amount: 600,
    });
    const all = await post(t, merchant, `/v1/payments/${payment.id}/refunds`);
    expect(all.json()).toMatchObject({ amount: 600 });
    // 400 is still capturable, so the order is not fully refunded.
    expect(await order(payment.order_id)).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      captured_amount: 600,
      refunded_amount: 600,
    });
    const capture = await post(t, merchant, `/v1/payments/${payment.id}/capture`);
    expect(capture.json()).toMatchObject({
      amount: 400,
      payment: { captured_amount: 1000, refunded_amount: 600 },
    });
    expect(await order(payment.order_id)).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      captured_amount: 1000,
    });
  });

  it('maps a refusal by the processor to the same coded errors, records the row FAILED and emits refund.failed', async () => {
    const paid = await authorizedPayment(t, merchant, { amount: 1000, capture: 'automatic' });
    const [authorize] = await t.services.sandbox.listOperations({ paymentId: paid.id, kind: 'authorize' });
    // Someone refunds at the bank directly (out of band), so the bank and Kassa disagree on what is refundable.
    await t.services.sandbox.refund({
      idempotencyKey: `out-of-band-${paid.id}`,
      connectorReference: authorize!.paymentReference!,
      amount: 1000,
      currency: 'USD',
    });
    const refused = await post(t, merchant, `/v1/payments/${paid.id}/refunds`, { amount: 500 });
    expect(refused.statusCode).toBe(422);
    expect(expectProblem(refused)).toMatchObject({
      code: 'amount_exceeds_refundable',
      processor_message: expect.any(String),
    });
    const refunds = (await get(t, merchant, `/v1/payments/${paid.id}/refunds`)).json().data;
    expect(refunds).toMatchObject([{ amount: 500, status: 'FAILED' }]);
    expect((await get(t, merchant, `/v1/payments/${paid.id}`)).json().refunded_amount).toBe(0);
    const failed = (await paymentEvents(t, paid.id)).filter((event) => event.type === 'refund.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.data).toMatchObject({ amount: 500, currency: 'USD', status: 'FAILED' });

    const authorized = await authorizedPayment(t, merchant, { amount: 1000 });
    const [auth] = await t.services.sandbox.listOperations({ paymentId: authorized.id, kind: 'authorize' });
    await t.services.sandbox.void({
      idempotencyKey: `out-of-band-${authorized.id}`,
      connectorReference: auth!.paymentReference!,
    });
    const capture = await post(t, merchant, `/v1/payments/${authorized.id}/capture`, { amount: 100 });
    expect(capture.statusCode).toBe(409);
    expect(expectProblem(capture)).toMatchObject({
      code: 'invalid_state_transition',
      current_status: 'AUTHORIZED',
    });
    // The failed capture holds nothing: all 1000 are still capturable as far as Kassa's rows go.
    expect(await kassaTotals(t, authorized.id)).toMatchObject({ captured: 0, pendingCaptures: 0 });
  });

  it('lists the payments of an order and retrieves one; foreign and unknown ids are 404 alike', async () => {
    const payment = await authorizedPayment(t, merchant);
    const list = await get(t, merchant, `/v1/orders/${payment.order_id}/payments`);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({
      object: 'list',
      has_more: false,
      data: [{ id: payment.id, status: 'AUTHORIZED' }],
    });
    expect((await get(t, merchant, `/v1/payments/${payment.id}`)).json()).toMatchObject({
      id: payment.id,
      channel: 'api',
    });

    const stranger = await t.createMerchant({ name: 'Other Shop' });
    const unknown = 'pay_00000000000000000000000000000000';
    const attempts = [
      get(t, stranger, `/v1/payments/${payment.id}`),
      get(t, stranger, `/v1/payments/${payment.id}/refunds`),
      get(t, stranger, `/v1/payments/${payment.id}/captures`),
      get(t, stranger, `/v1/orders/${payment.order_id}/payments`),
      post(t, stranger, `/v1/payments/${payment.id}/capture`),
      post(t, stranger, `/v1/payments/${payment.id}/cancel`),
      post(t, stranger, `/v1/payments/${payment.id}/refunds`, {}),
      get(t, merchant, `/v1/payments/${unknown}`),
      post(t, merchant, `/v1/payments/${unknown}/capture`),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.statusCode).toBe(404);
      expect(expectProblem(response).code).toBe('not_found');
    }
    // The stranger's attempts changed nothing.
    expect((await get(t, merchant, `/v1/payments/${payment.id}`)).json()).toMatchObject({
      status: 'AUTHORIZED',
      captured_amount: 0,
    });
    const testModeKeyInLive = await t.createMerchant({ livemode: true, name: 'Live Shop' });
    const live = await get(t, testModeKeyInLive, `/v1/payments/${payment.id}`);
    expect(expectProblem(live).code).toBe('not_found');
  });

  it('requires authentication', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/v1/payments/pay_x/refunds', payload: {} });
    expect(response.statusCode).toBe(401);
    expectProblem(response);
  });

  it('replays a capture sent again with the same Idempotency-Key, and captures only once', async () => {
    const payment = await authorizedPayment(t, merchant, { amount: 1000 });
    const headers = { 'idempotency-key': `cap-${payment.id}` };
    const first = await post(t, merchant, `/v1/payments/${payment.id}/capture`, { amount: 250 }, headers);
    const second = await post(t, merchant, `/v1/payments/${payment.id}/capture`, { amount: 250 }, headers);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json().id).toBe(first.json().id);
    expect(await sandboxTotals(t, payment.id)).toMatchObject({ captured: 250, captureCalls: 1 });
    const reused = await post(t, merchant, `/v1/payments/${payment.id}/capture`, { amount: 300 }, headers);
    expect(reused.statusCode).toBe(422);
    expect(expectProblem(reused).code).toBe('idempotency_key_reused');
  });
});
