import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESSING_RECOVERY_MS } from '../../../src/modules/payments/payment-flow.service.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
import {
  authorizedPayment,
  createPaymentCheckout,
  get,
  kassaTotals,
  paymentEvents,
  payByApi,
  post,
  sandboxTotals,
  type MoneyOperationJson,
  type PaymentJson,
} from './payment-fixtures.ts';

/**
 * Lost processor answers: a capture, refund or void whose answer never arrives stays PENDING (202), keeps its
 * amount reserved, and is settled by recovery asking the processor again with the same idempotency key — which
 * never moves money twice. Time is moved by hand past the recovery delay; nothing sleeps.
 */
describe('recovery of captures, refunds and voids whose processor answer was lost', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  const clock = createManualClock(new Date());

  beforeAll(async () => {
    t = await createTestApp({ clock });
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The processor acts but its answer is lost (the sandbox commits, then times out). */
  const loseAnswers = () => t.services.sandbox.setFaults({ timeoutMs: 5 });
  const heal = () => t.services.sandbox.setFaults({});
  const recoverLater = async () => {
    clock.advance(PROCESSING_RECOVERY_MS / 1000 + 1);
    return t.services.payments.recover();
  };
  const payment = async (id: string) => (await get(t, merchant, `/v1/payments/${id}`)).json<PaymentJson>();
  const orderStatus = async (id: string) => (await get(t, merchant, `/v1/orders/${id}`)).json().status;

  it('a capture without an answer is 202 PENDING, reserves its amount, and is settled once by recovery', async () => {
    const authorized = await authorizedPayment(t, merchant, { amount: 1000 });
    loseAnswers();
    const response = await post(t, merchant, `/v1/payments/${authorized.id}/capture`, { amount: 600 });
    heal();
    expect(response.statusCode).toBe(202);
    const capture = response.json<MoneyOperationJson>();
    expect(capture).toMatchObject({
      status: 'PENDING',
      amount: 600,
      payment: { status: 'AUTHORIZED', captured_amount: 0 },
    });

    // The pending 600 counts: only 400 is left to capture meanwhile.
    const tooMuch = await post(t, merchant, `/v1/payments/${authorized.id}/capture`, { amount: 401 });
    expect(expectProblem(tooMuch)).toMatchObject({
      code: 'amount_exceeds_capturable',
      capturable_amount: 400,
    });
    // Nor can the authorization be voided under a pending capture.
    const cancel = await post(t, merchant, `/v1/payments/${authorized.id}/cancel`);
    expect(cancel.statusCode).toBe(409);
    expect(expectProblem(cancel).code).toBe('conflict');

    const result = await recoverLater();
    expect(result.captures).toBeGreaterThanOrEqual(1);
    expect(await payment(authorized.id)).toMatchObject({ status: 'SUCCEEDED', captured_amount: 600 });
    expect(await orderStatus(authorized.order_id)).toBe('PAID');
    const captures = (await get(t, merchant, `/v1/payments/${authorized.id}/captures`)).json().data;
    expect(captures).toMatchObject([{ id: capture.id, status: 'SUCCEEDED' }]);
    const operations = await t.services.sandbox.listOperations({ paymentId: authorized.id, kind: 'capture' });
    expect(operations.map((op) => op.idempotencyKey)).toEqual([capture.id]);
  });

  it('a refund without an answer is 202 PENDING and is settled by recovery with the same key (the refund id)', async () => {
    const paid = await authorizedPayment(t, merchant, { amount: 1000, capture: 'automatic' });
    loseAnswers();
    const response = await post(t, merchant, `/v1/payments/${paid.id}/refunds`, {
      amount: 700,
      reason: 'lost parcel',
    });
    heal();
    expect(response.statusCode).toBe(202);
    const refund = response.json<MoneyOperationJson>();
    expect(refund).toMatchObject({ status: 'PENDING', amount: 700, payment: { refunded_amount: 0 } });
    expect(await kassaTotals(t, paid.id)).toMatchObject({ pendingRefunds: 700, refunded: 0 });

    const rest = await post(t, merchant, `/v1/payments/${paid.id}/refunds`);
    expect(rest.json()).toMatchObject({ status: 'SUCCEEDED', amount: 300 });

    const result = await recoverLater();
    expect(result.refunds).toBeGreaterThanOrEqual(1);
    expect(await payment(paid.id)).toMatchObject({ refunded_amount: 1000 });
    expect(await orderStatus(paid.order_id)).toBe('REFUNDED');
    const refundOps = await t.services.sandbox.listOperations({ paymentId: paid.id, kind: 'refund' });
    expect(refundOps.map((op) => op.idempotencyKey).sort()).toEqual([refund.id, rest.json().id].sort());
    expect(await sandboxTotals(t, paid.id)).toMatchObject({ refunded: 1000, refundCalls: 2 });
    const succeeded = (await paymentEvents(t, paid.id)).filter((event) => event.type === 'refund.succeeded');
    expect(succeeded.map((event) => event.object_id).sort()).toEqual([refund.id, rest.json().id].sort());
  });

  it('a refund the processor never received (503) is retried by recovery and refunds once', async () => {
    const paid = await authorizedPayment(t, merchant, { amount: 500, capture: 'automatic' });
    t.services.sandbox.setFaults({ failEveryNth: 1 });
    const response = await post(t, merchant, `/v1/payments/${paid.id}/refunds`);
    heal();
    expect(response.statusCode).toBe(202);
    expect((await sandboxTotals(t, paid.id)).refundCalls).toBe(0);
    await recoverLater();
    expect(await sandboxTotals(t, paid.id)).toMatchObject({ refunded: 500, refundCalls: 1 });
    expect(await payment(paid.id)).toMatchObject({ refunded_amount: 500 });
  });

  it('a void without an answer leaves the payment processing (202); capture waits; recovery cancels it', async () => {
    const authorized = await authorizedPayment(t, merchant, { amount: 900 });
    loseAnswers();
    const response = await post(t, merchant, `/v1/payments/${authorized.id}/cancel`);
    heal();
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ status: 'AUTHORIZED', processing: true });

    const capture = await post(t, merchant, `/v1/payments/${authorized.id}/capture`);
    expect(capture.statusCode).toBe(409);
    expect(expectProblem(capture)).toMatchObject({ code: 'conflict', processing: true });
    const second = await post(t, merchant, `/v1/payments/${authorized.id}/cancel`);
    expect(expectProblem(second).code).toBe('conflict');

    await recoverLater();
    expect(await payment(authorized.id)).toMatchObject({
      status: 'CANCELED',
      processing: false,
      captured_amount: 0,
    });
    expect(await orderStatus(authorized.order_id)).toBe('CANCELED');
    expect((await sandboxTotals(t, authorized.id)).voids).toBe(1);
    expect((await paymentEvents(t, authorized.id)).map((event) => event.type)).toContain('payment.canceled');
  });

  it('a void the processor never received (503) is sent again by recovery: the cancel the merchant asked for happens once', async () => {
    const authorized = await authorizedPayment(t, merchant, { amount: 900 });
    t.services.sandbox.setFaults({ failEveryNth: 1 });
    const response = await post(t, merchant, `/v1/payments/${authorized.id}/cancel`);
    heal();
    expect(response.statusCode).toBe(202);
    expect((await sandboxTotals(t, authorized.id)).voids).toBe(0);
    await recoverLater();
    expect(await payment(authorized.id)).toMatchObject({ status: 'CANCELED', processing: false });
    expect(await orderStatus(authorized.order_id)).toBe('CANCELED');
    expect((await sandboxTotals(t, authorized.id)).voids).toBe(1);
    // Recovery again (a second process, a later round): nothing more happens.
    await recoverLater();
    expect((await sandboxTotals(t, authorized.id)).voids).toBe(1);
    const canceledEvents = (await paymentEvents(t, authorized.id)).filter(
      (event) => event.type === 'payment.canceled',
    );
    expect(canceledEvents).toHaveLength(1);
  });
  it('an automatic payment whose sale was answered too late is recorded captured by recovery, captured once', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic', amount: 1000 });
    loseAnswers();
    const response = await payByApi(t, merchant, checkout.checkout_id);
    heal();
    expect(response.statusCode).toBe(202);
    const interrupted = response.json<PaymentJson>();
    expect(interrupted).toMatchObject({ status: 'PENDING', processing: true });
    // The sandbox sold it: authorized and captured in one call, whose answer never came back.
    expect(await sandboxTotals(t, interrupted.id)).toMatchObject({ captured: 1000, captureCalls: 1 });

    await recoverLater();
    expect(await payment(interrupted.id)).toMatchObject({
      status: 'SUCCEEDED',
      authorized_amount: 1000,
      captured_amount: 1000,
      processing: false,
    });
    expect(await orderStatus(interrupted.order_id)).toBe('PAID');
    expect(await kassaTotals(t, interrupted.id)).toMatchObject({ captured: 1000, pendingCaptures: 0 });
    // Later recovery rounds find nothing left to capture: the bank still holds one capture.
    await recoverLater();
    expect(await sandboxTotals(t, interrupted.id)).toMatchObject({ captured: 1000, captureCalls: 1 });
    // The same events as a payment whose answer arrived.
    const direct = await authorizedPayment(t, merchant, { amount: 1000, capture: 'automatic' });
    const types = async (id: string) => (await paymentEvents(t, id)).map((event) => event.type);
    expect(await types(interrupted.id)).toEqual(await types(direct.id));
    expect(await types(direct.id)).toEqual(['payment.authorized', 'payment.captured', 'payment.succeeded']);
  });
});
