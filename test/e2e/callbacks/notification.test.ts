/**
 * `callbacks.notification` (the callbacks flow): a payment that was PENDING and is finalised later (here by the sandbox
 * acquirer's resolve control, i.e. a processor notification) is POSTed to the notification URL, signed, by the
 * `callback-notifications` worker — retried on the webhook schedule (KASSA_WEBHOOK_RETRY_SCHEDULE=0.2,0.2 →
 * at most 3 attempts) until a 2xx. The delivery is enqueued in the transaction that finalises the payment and
 * carries the payment's latest state (an automatic capture: SUCCEEDED, order PAID); a later capture of a
 * manual payment is notified again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkers, type Worker } from '../../../src/workers/workers.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { CARDS, cardForm, csrfOf, getPage, postForm } from '../hosted-page/hosted-fixtures.ts';
import {
  FAST_CALLBACK_ENV,
  callbackAttemptsOf,
  callbackSecret,
  createCallbackCheckout,
  paymentsOfCheckout,
  startCallbackReceiver,
  verifyCallback,
  type CallbackReceiver,
} from './callback-fixtures.ts';

let t: TestApp;
let receiver: CallbackReceiver;
let merchant: TestMerchant;
let worker: Worker;

beforeAll(async () => {
  t = await createTestApp({ env: { ...FAST_CALLBACK_ENV, KASSA_WEBHOOK_RETRY_SCHEDULE: '0.2,0.2' } });
  receiver = await startCallbackReceiver();
  merchant = await t.createMerchant({ name: 'Notified Shop' });
  worker = createWorkers(t.services).find((candidate) => candidate.name === 'callback-notifications')!;
});

afterAll(async () => {
  await receiver.close();
  await t.close();
});

/** Runs the worker (as the scheduler would) until `done` holds. */
async function runWorkerUntil(done: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('worker: condition not met in time');
    await worker.run();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function notificationsOf(paymentId: string) {
  const { rows } = await t.services.db.query<{ status: string; attempt_count: number; event_id: string }>(
    'SELECT status, attempt_count, event_id FROM callback_notifications WHERE payment_id = $1',
    [paymentId],
  );
  return rows;
}

/** A checkout paid with the pending test card on the hosted page: the payment is PENDING. */
async function pendingPayment(callbacks: Record<string, string>, capture: 'automatic' | 'manual' = 'manual') {
  const checkout = await createCallbackCheckout(t, merchant, callbacks, {
    capture,
    metadata: { basket: 'b-1' },
  });
  const page = await getPage(t, checkout.path);
  await postForm(t, checkout.path, cardForm(csrfOf(page.html), CARDS.pending));
  const [payment] = await paymentsOfCheckout(t, checkout.checkoutId);
  expect(payment!.status).toBe('PENDING');
  return { checkout, paymentId: payment!.id };
}

async function eventTypeOf(eventId: string): Promise<string | undefined> {
  const { rows } = await t.services.db.query<{ type: string }>('SELECT type FROM events WHERE id = $1', [
    eventId,
  ]);
  return rows[0]?.type;
}

/** The merchant captures a manual payment in full through the API. */
async function capture(paymentId: string) {
  const response = await t.app.inject({
    method: 'POST',
    url: `/v1/payments/${paymentId}/capture`,
    headers: { ...merchant.headers, 'idempotency-key': `capture-${paymentId}` },
    payload: { amount: 2500 },
  });
  expect(response.statusCode, response.body).toBe(201);
}

async function resolve(paymentId: string, outcome: 'SUCCEEDED' | 'REJECTED') {
  const response = await t.app.inject({
    method: 'POST',
    url: `/v1/sandbox/payments/${paymentId}/resolve`,
    headers: merchant.headers,
    payload: { outcome },
  });
  expect(response.statusCode).toBe(200);
}

describe('notification', () => {
  it('posts the final state of a pending payment once, signed, with the event id as webhook-id', async () => {
    receiver.on('/notify-ok', { status: 200, body: 'thanks' });
    receiver.on('/open', { status: 200, headers: { 'content-type': 'text/html' }, body: '<p>pending</p>' });
    const { checkout, paymentId } = await pendingPayment(
      { open: `${receiver.url}/open`, notification: `${receiver.url}/notify-ok` },
      'automatic',
    );
    // Nothing is due while the payment is pending.
    await worker.run();
    expect(receiver.receivedAt('/notify-ok')).toHaveLength(0);

    await resolve(paymentId, 'SUCCEEDED');
    await runWorkerUntil(() => receiver.receivedAt('/notify-ok').length === 1);
    // Authorized and captured before the worker came round: one notification, with the final state.
    for (let round = 0; round < 3; round += 1) await worker.run();
    expect(receiver.receivedAt('/notify-ok')).toHaveLength(1);

    const [request] = receiver.receivedAt('/notify-ok');
    const secret = await callbackSecret(t, merchant);
    expect(() => verifyCallback(secret, request!)).not.toThrow();
    const [notification] = await notificationsOf(paymentId);
    expect(notification).toMatchObject({ status: 'succeeded', attempt_count: 1 });
    expect(request!.headers['webhook-id']).toBe(notification!.event_id);
    expect(await eventTypeOf(notification!.event_id)).toBe('payment.succeeded');
    expect(Object.fromEntries(request!.form)).toMatchObject({
      callback: 'notification',
      checkout_id: checkout.checkoutId,
      order_id: checkout.orderId,
      payment_id: paymentId,
      status: 'SUCCEEDED',
      order_status: 'PAID',
      amount: '2500',
      currency: 'USD',
      card_last4: '0259',
      'metadata[basket]': 'b-1',
    });
    const attempts = await callbackAttemptsOf(t, checkout.orderId);
    expect(attempts.map((a) => [a.kind, a.result])).toEqual([
      ['open', 'html'],
      ['notification', 'delivered'],
    ]);
  });

  it('a manual payment: AUTHORIZED when finalised, then SUCCEEDED and PAID again when captured later', async () => {
    receiver.on('/notify-manual', { status: 200 });
    const { paymentId } = await pendingPayment({ notification: `${receiver.url}/notify-manual` }, 'manual');
    await resolve(paymentId, 'SUCCEEDED');
    await runWorkerUntil(() => receiver.receivedAt('/notify-manual').length === 1);
    await runWorkerUntil(async () => (await notificationsOf(paymentId))[0]?.status === 'succeeded');
    const authorized = receiver.receivedAt('/notify-manual')[0]!;
    expect(authorized.form.get('status')).toBe('AUTHORIZED');
    expect(authorized.form.get('order_status')).toBe('AUTHORIZED');

    await capture(paymentId);
    await runWorkerUntil(() => receiver.receivedAt('/notify-manual').length === 2);
    const secret = await callbackSecret(t, merchant);
    const captured = receiver.receivedAt('/notify-manual')[1]!;
    expect(Object.fromEntries(captured.form)).toMatchObject({
      callback: 'notification',
      payment_id: paymentId,
      status: 'SUCCEEDED',
      order_status: 'PAID',
    });
    // A new state, a new webhook-id (the capture's event), signed the same way.
    expect(captured.headers['webhook-id']).not.toBe(authorized.headers['webhook-id']);
    expect(await eventTypeOf(String(captured.headers['webhook-id']))).toBe('payment.succeeded');
    expect(() => verifyCallback(secret, captured)).not.toThrow();
    await runWorkerUntil(async () => (await notificationsOf(paymentId))[0]?.status === 'succeeded');
    for (let round = 0; round < 3; round += 1) await worker.run();
    expect(receiver.receivedAt('/notify-manual')).toHaveLength(2);
  });

  it('a capture while the AUTHORIZED notification is in flight is sent after it, not lost', async () => {
    receiver.on('/notify-inflight', (_request, index) =>
      index === 0 ? { status: 200, delayMs: 400 } : { status: 200 },
    );
    const { paymentId } = await pendingPayment({ notification: `${receiver.url}/notify-inflight` }, 'manual');
    await resolve(paymentId, 'SUCCEEDED');
    // The first attempt is on the wire (the receiver holds its answer) when the merchant captures.
    const firstRound = worker.run();
    await receiver.waitFor(() => receiver.receivedAt('/notify-inflight').length === 1);
    await capture(paymentId);
    await firstRound;
    expect((await notificationsOf(paymentId))[0]).toMatchObject({ status: 'pending' });
    await runWorkerUntil(() => receiver.receivedAt('/notify-inflight').length === 2);
    const statuses = receiver.receivedAt('/notify-inflight').map((request) => request.form.get('status'));
    expect(statuses).toEqual(['AUTHORIZED', 'SUCCEEDED']);
    await runWorkerUntil(async () => (await notificationsOf(paymentId))[0]?.status === 'succeeded');
  });

  it('a rejection is notified too', async () => {
    receiver.on('/notify-rejected', { status: 204 });
    const { paymentId } = await pendingPayment({ notification: `${receiver.url}/notify-rejected` });
    await resolve(paymentId, 'REJECTED');
    await runWorkerUntil(() => receiver.receivedAt('/notify-rejected').length === 1);
    expect(receiver.receivedAt('/notify-rejected')[0]!.form.get('status')).toBe('REJECTED');
  });

  it('retries a failed delivery with the same webhook-id until it succeeds', async () => {
    receiver.on('/notify-flaky', (_request, index) =>
      index === 0 ? { status: 500, body: 'try later' } : { status: 200 },
    );
    const { checkout, paymentId } = await pendingPayment({ notification: `${receiver.url}/notify-flaky` });
    await resolve(paymentId, 'SUCCEEDED');
    await runWorkerUntil(async () => (await notificationsOf(paymentId))[0]?.status === 'succeeded');
    const requests = receiver.receivedAt('/notify-flaky');
    expect(requests).toHaveLength(2);
    expect(requests[0]!.headers['webhook-id']).toBe(requests[1]!.headers['webhook-id']);
    const attempts = (await callbackAttemptsOf(t, checkout.orderId)).filter((a) => a.kind === 'notification');
    expect(attempts.map((a) => [a.attempt_number, a.result, a.status_code])).toEqual([
      [1, 'failed', 500],
      [2, 'delivered', 200],
    ]);
  });

  it('gives up when the attempts of the schedule are used up', async () => {
    receiver.on('/notify-down', { status: 503 });
    const { paymentId } = await pendingPayment({ notification: `${receiver.url}/notify-down` });
    await resolve(paymentId, 'SUCCEEDED');
    await runWorkerUntil(async () => (await notificationsOf(paymentId))[0]?.status === 'failed');
    expect(receiver.receivedAt('/notify-down')).toHaveLength(3);
    expect((await notificationsOf(paymentId))[0]!.attempt_count).toBe(3);
  });

  it('sends nothing for a payment that was never pending', async () => {
    receiver.on('/notify-never', { status: 200 });
    const checkout = await createCallbackCheckout(t, merchant, {
      notification: `${receiver.url}/notify-never`,
    });
    const page = await getPage(t, checkout.path);
    await postForm(t, checkout.path, cardForm(csrfOf(page.html), CARDS.approved));
    const [payment] = await paymentsOfCheckout(t, checkout.checkoutId);
    expect(payment!.status).toBe('SUCCEEDED');
    await worker.run();
    expect(await notificationsOf(payment!.id)).toHaveLength(0);
    expect(receiver.receivedAt('/notify-never')).toHaveLength(0);
  });

  it('concurrent workers (several gateway processes) send each delivery once', async () => {
    receiver.on('/notify-once', { status: 200, delayMs: 150 });
    const { paymentId } = await pendingPayment({ notification: `${receiver.url}/notify-once` });
    await resolve(paymentId, 'SUCCEEDED');
    const others = [createWorkers(t.services), createWorkers(t.services), createWorkers(t.services)].map(
      (workers) => workers.find((candidate) => candidate.name === 'callback-notifications')!,
    );
    await Promise.all([worker.run(), ...others.map((other) => other.run())]);
    await runWorkerUntil(async () => (await notificationsOf(paymentId))[0]?.status === 'succeeded');
    expect(receiver.receivedAt('/notify-once')).toHaveLength(1);
  });
});
