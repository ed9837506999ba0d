import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SaleRequest, SaleResult } from '../../../src/connectors/connector.ts';
import {
  ACTION_TIMEOUT_MS,
  PROCESSING_RECOVERY_MS,
  releaseIdempotencyKey,
} from '../../../src/modules/payments/payment-flow.service.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
import {
  cardMethod,
  createPaymentCheckout,
  get,
  payByApi,
  paymentEvents,
  sandboxTotals,
  TEST_CARDS,
  type PaymentJson,
} from './payment-fixtures.ts';

/**
 * The processor approves a payment after Kassa gave it up: its `authorize`/`sale` stalled past the recovery
 * window, recovery found nothing at the processor and REJECTED it (or the shopper's 3-D Secure was abandoned
 * and CANCELED) — then the call or the challenge went through. The payment stays failed, its order and
 * session are not moved, and the processor's money is released exactly once: the authorization voided, a
 * sale's capture refunded, however often and however concurrently the late answer arrives, and by recovery
 * when the release itself fails. Checked against the sandbox acquirer's own ledger; time moves by hand.
 */
describe('a processor approval that arrives after Kassa gave the payment up', () => {
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

  const heal = () => t.services.sandbox.setFaults({});
  const recoverLater = async () => {
    clock.advance(PROCESSING_RECOVERY_MS / 1000 + 1);
    return t.services.payments.recover();
  };
  const payment = async (id: string) => (await get(t, merchant, `/v1/payments/${id}`)).json<PaymentJson>();
  const orderStatus = async (id: string) =>
    (await get(t, merchant, `/v1/orders/${id}`)).json<{ status: string }>().status;
  const checkoutStatus = async (id: string) =>
    (await get(t, merchant, `/v1/checkouts/${id}`)).json<{ status: string }>().status;
  const eventTypes = async (id: string) => (await paymentEvents(t, id)).map((event) => event.type);
  const lateNotification = (paymentId: string, connectorReference: string, n: number) =>
    t.services.payments.applyStatusUpdate({
      notificationId: `late_${paymentId}_${n}`,
      connectorId: t.services.sandbox.id,
      connectorReference,
      paymentId,
      status: 'authorized',
      occurredAt: clock.now(),
    });

  /**
   * Holds the next `authorize` or `sale` before it reaches the sandbox (a stalled processor call), so the test
   * decides when it arrives: `reached` gives the payment id once the call is in flight; `release` lets it go.
   */
  function stallNext(kind: 'authorize' | 'sale') {
    // Both calls take the same request (a sale adds the capture key) and answer a subset of SaleResult.
    type Call = (request: SaleRequest) => Promise<SaleResult>;
    const sandbox = t.services.sandbox as unknown as Record<typeof kind, Call>;
    const original = sandbox[kind];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reach!: (paymentId: string) => void;
    const reached = new Promise<string>((resolve) => (reach = resolve));
    sandbox[kind] = async (request) => {
      sandbox[kind] = original;
      reach(request.paymentId);
      await released;
      return original(request);
    };
    return { reached, release };
  }

  /**
   * Pays `checkout` with its `kind` call stalled until recovery has REJECTED the payment, then lets the call
   * through: the processor approves a payment Kassa gave up. Answers with the late request's answer.
   */
  async function approvedAfterRecoveryRejected(kind: 'authorize' | 'sale', checkoutId: string) {
    const stall = stallNext(kind);
    const request = payByApi(t, merchant, checkoutId);
    const paymentId = await stall.reached;
    // The processor has heard nothing of it yet: recovery gives it up.
    await recoverLater();
    expect(await payment(paymentId)).toMatchObject({ status: 'REJECTED', processing: false });
    stall.release();
    return { paymentId, answered: (await request).json<PaymentJson>() };
  }

  /** A 3-D Secure payment (manual capture) whose challenge recovery gave up: CANCELED; its sandbox reference. */
  async function abandonedChallenge(amount: number) {
    const checkout = await createPaymentCheckout(t, merchant, { amount });
    const orderBefore = await orderStatus(checkout.order.order_id);
    expect(orderBefore).toMatch(/^[A-Z_]+$/);
    const response = await payByApi(t, merchant, checkout.checkout_id, cardMethod(TEST_CARDS.threeDSecure));
    const started = response.json<PaymentJson>();
    expect(started.status).toBe('REQUIRES_ACTION');
    clock.advance(ACTION_TIMEOUT_MS / 1000 + 1);
    await t.services.payments.recover();
    expect(await payment(started.id)).toMatchObject({ status: 'CANCELED', processing: false });
    const reference = started.next_action!.url.split('/').pop()!;
    return { checkout, orderBefore, paymentId: started.id, reference };
  }

  it('a sale that reaches the processor after recovery rejected the payment is refunded in full, once', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic', amount: 1000 });
    const orderBefore = await orderStatus(checkout.order.order_id);
    expect(orderBefore).toMatch(/^[A-Z_]+$/);
    // The stalled sale goes through after recovery: the bank authorizes and captures 1000.
    const { paymentId, answered } = await approvedAfterRecoveryRejected('sale', checkout.checkout_id);
    expect(answered).toMatchObject({
      id: paymentId,
      status: 'REJECTED',
      processing: false,
      authorized_amount: 0,
      captured_amount: 0,
      refunded_amount: 0,
    });
    expect(answered.failure_message).toContain('the 1000 captured was refunded');
    expect(await sandboxTotals(t, paymentId)).toMatchObject({
      captured: 1000,
      refunded: 1000,
      refundCalls: 1,
    });
    const refunds = await t.services.sandbox.listOperations({ paymentId, kind: 'refund' });
    expect(refunds.map((op) => op.idempotencyKey)).toEqual([releaseIdempotencyKey(paymentId, 'refund')]);

    // The same approval again, several at once, with a recovery round: nothing more moves.
    const reference = (await t.services.sandbox.lookupPayment({ paymentId }))!.connectorReference;
    await Promise.all([
      lateNotification(paymentId, reference, 1),
      lateNotification(paymentId, reference, 2),
      lateNotification(paymentId, reference, 2),
      recoverLater(),
    ]);
    expect(await sandboxTotals(t, paymentId)).toMatchObject({
      captured: 1000,
      refunded: 1000,
      refundCalls: 1,
    });
    expect(await payment(paymentId)).toMatchObject({
      status: 'REJECTED',
      processing: false,
      captured_amount: 0,
    });

    // Neither the order nor the session was charged or closed: the shopper may still pay the checkout.
    expect(await orderStatus(checkout.order.order_id)).toBe(orderBefore);
    expect(await checkoutStatus(checkout.checkout_id)).toBe('OPEN');
    expect(await eventTypes(paymentId)).toEqual(['payment.rejected']);
  });

  it('an authorization that reaches the processor after recovery rejected the payment is voided, once', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { amount: 800 });
    const orderBefore = await orderStatus(checkout.order.order_id);
    expect(orderBefore).toMatch(/^[A-Z_]+$/);
    const { paymentId, answered } = await approvedAfterRecoveryRejected('authorize', checkout.checkout_id);
    expect(answered).toMatchObject({ status: 'REJECTED', processing: false, authorized_amount: 0 });
    expect(answered.failure_message).toContain('the authorization was voided');
    const sandboxPayment = (await t.services.sandbox.lookupPayment({ paymentId }))!;
    expect(sandboxPayment).toMatchObject({ status: 'voided', capturedAmount: 0 });

    // Late duplicates (the same request retried, notifications) find the authorization already voided.
    await Promise.all([
      lateNotification(paymentId, sandboxPayment.connectorReference, 1),
      lateNotification(paymentId, sandboxPayment.connectorReference, 2),
      recoverLater(),
    ]);
    const voids = await t.services.sandbox.listOperations({ paymentId, kind: 'void' });
    expect(voids.map((op) => [op.idempotencyKey, op.outcome])).toEqual([
      [releaseIdempotencyKey(paymentId, 'void'), 'succeeded'],
    ]);
    expect(await sandboxTotals(t, paymentId)).toMatchObject({ captured: 0, captureCalls: 0 });
    expect(await orderStatus(checkout.order.order_id)).toBe(orderBefore);
    expect(await checkoutStatus(checkout.checkout_id)).toBe('OPEN');
    expect(await eventTypes(paymentId)).toEqual(['payment.rejected']);
  });

  it('a 3-D Secure challenge passed after it was abandoned: the approval, delivered twice and concurrently, voids once', async () => {
    const { checkout, orderBefore, paymentId, reference } = await abandonedChallenge(700);
    // The shopper passes the challenge late; the sandbox notifies twice, and more copies arrive at once.
    t.services.sandbox.setFaults({ duplicateNotifications: true });
    await t.services.sandbox.completeChallenge(reference, 'pass');
    heal();
    await Promise.all([1, 2, 3].map((n) => lateNotification(paymentId, reference, n)));

    const voids = await t.services.sandbox.listOperations({ paymentId, kind: 'void' });
    expect(voids.map((op) => [op.idempotencyKey, op.outcome])).toEqual([
      [releaseIdempotencyKey(paymentId, 'void'), 'succeeded'],
    ]);
    expect(await t.services.sandbox.findPayment(reference)).toMatchObject({ status: 'voided' });
    const stored = await payment(paymentId);
    expect(stored).toMatchObject({ status: 'CANCELED', processing: false, authorized_amount: 0 });
    expect(stored.failure_message).toContain('the authorization was voided');
    expect(await orderStatus(checkout.order.order_id)).toBe(orderBefore);
    expect(await checkoutStatus(checkout.checkout_id)).not.toBe('COMPLETED');
    expect(await eventTypes(paymentId)).not.toContain('payment.authorized');
  });

  it('a release the processor refused like a 5xx stays owed and is done once by recovery', async () => {
    const { paymentId, reference } = await abandonedChallenge(600);
    t.services.sandbox.setFaults({ failEveryNth: 1 });
    await t.services.sandbox.completeChallenge(reference, 'pass');
    heal();
    // Nothing was voided; the payment stays CANCELED and marks the release as owed.
    expect(await sandboxTotals(t, paymentId)).toMatchObject({ voids: 0 });
    expect(await t.services.sandbox.findPayment(reference)).toMatchObject({ status: 'authorized' });
    expect(await payment(paymentId)).toMatchObject({ status: 'CANCELED', processing: true });

    // Two recovery rounds at once (two gateway processes), then a later one.
    await Promise.all([recoverLater(), t.services.payments.recover()]);
    await recoverLater();
    const voids = await t.services.sandbox.listOperations({ paymentId, kind: 'void' });
    expect(voids.map((op) => [op.idempotencyKey, op.outcome])).toEqual([
      [releaseIdempotencyKey(paymentId, 'void'), 'succeeded'],
    ]);
    const stored = await payment(paymentId);
    expect(stored).toMatchObject({ status: 'CANCELED', processing: false });
    expect(stored.failure_message).toContain('the authorization was voided');
  });

  it('a release whose answer was lost (it happened) is recognised by recovery and not sent again', async () => {
    const { paymentId, reference } = await abandonedChallenge(500);
    t.services.sandbox.setFaults({ timeoutMs: 5 });
    await t.services.sandbox.completeChallenge(reference, 'pass');
    heal();
    expect(await sandboxTotals(t, paymentId)).toMatchObject({ voids: 1 });
    expect(await payment(paymentId)).toMatchObject({ status: 'CANCELED', processing: true });

    await recoverLater();
    expect(await sandboxTotals(t, paymentId)).toMatchObject({ voids: 1 });
    expect(await t.services.sandbox.countOperations({ paymentId, kind: 'void' })).toBe(1);
    const stored = await payment(paymentId);
    expect(stored).toMatchObject({ status: 'CANCELED', processing: false });
    expect(stored.failure_message).toContain('the authorization was voided');
  });
});
