import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  createPaymentCheckout,
  payByApi,
  paymentEvents,
  post,
  type PaymentJson,
} from './payment-fixtures.ts';

/**
 * `POST /v1/sandbox/payments/{id}/resolve` stores its answer by Idempotency-Key like every other POST
 * (docs/api-conventions.md §11): a repeat replays the first answer byte for byte, even after the payment has
 * moved on; another body under the key is refused; parallel repeats resolve the payment once.
 */

let t: TestApp;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ listen: true });
  merchant = await t.createMerchant({ name: 'Resolve Shop' });
});

afterAll(async () => {
  await t?.close();
});

/** A fresh invoice payment, PENDING until the sandbox acquirer resolves it; captured at once when it does. */
async function pendingInvoice(): Promise<PaymentJson> {
  const checkout = await createPaymentCheckout(t, merchant, { currency: 'EUR', capture: 'automatic' });
  const response = await payByApi(t, merchant, checkout.checkout_id, { type: 'invoice' });
  expect(response.statusCode, response.body).toBe(201);
  const payment = response.json<PaymentJson>();
  expect(payment.status).toBe('PENDING');
  return payment;
}

const resolve = (paymentId: string, outcome: string, key?: string) =>
  post(
    t,
    merchant,
    `/v1/sandbox/payments/${paymentId}/resolve`,
    { outcome },
    key ? { 'idempotency-key': key } : {},
  );

/** The events the resolution wrote: one `payment.succeeded` or `payment.rejected` per resolution. */
async function resolutions(paymentId: string): Promise<number> {
  const events = await paymentEvents(t, paymentId);
  return events.filter((event) => event.type === 'payment.succeeded' || event.type === 'payment.rejected')
    .length;
}

describe('sandbox resolve with an Idempotency-Key', () => {
  it('replays the stored answer to the same key and body, even after the payment moved on', async () => {
    const payment = await pendingInvoice();
    const first = await resolve(payment.id, 'SUCCEEDED', `resolve-${payment.id}`);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(first.json()).toMatchObject({ id: payment.id, status: 'SUCCEEDED', refunded_amount: 0 });

    // The payment changes after the resolution: a refund.
    const refund = await post(t, merchant, `/v1/payments/${payment.id}/refunds`, { amount: 100 });
    expect(refund.statusCode, refund.body).toBe(201);

    const again = await resolve(payment.id, 'SUCCEEDED', `resolve-${payment.id}`);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    // The stored answer, byte for byte: the payment as the resolution left it, not as it is now.
    expect(again.body).toBe(first.body);
    // Without the key the route answers with the payment as it is now, and resolves nothing again.
    const unkeyed = await resolve(payment.id, 'SUCCEEDED');
    expect(unkeyed.statusCode).toBe(200);
    expect(unkeyed.json()).toMatchObject({ status: 'SUCCEEDED', refunded_amount: 100 });
    expect(await resolutions(payment.id)).toBe(1);
  });

  it('refuses the key with another body or another payment: 422 idempotency_key_reused', async () => {
    const payment = await pendingInvoice();
    const other = await pendingInvoice();
    const key = `resolve-reused-${payment.id}`;
    expect((await resolve(payment.id, 'REJECTED', key)).json()).toMatchObject({ status: 'REJECTED' });

    const otherOutcome = await resolve(payment.id, 'SUCCEEDED', key);
    expect(otherOutcome.statusCode).toBe(422);
    expect(otherOutcome.json()).toMatchObject({ code: 'idempotency_key_reused' });
    const otherPayment = await resolve(other.id, 'REJECTED', key);
    expect(otherPayment.statusCode).toBe(422);
    expect(otherPayment.json()).toMatchObject({ code: 'idempotency_key_reused' });

    // Neither refused request did anything: the other payment is still pending.
    const still = await t.app.inject({ url: `/v1/payments/${other.id}`, headers: merchant.headers });
    expect(still.json()).toMatchObject({ status: 'PENDING' });
    expect(await resolutions(payment.id)).toBe(1);
    expect(await resolutions(other.id)).toBe(0);
  });

  it('a refused resolution stores nothing: the key works once the request is right', async () => {
    const payment = await pendingInvoice();
    const key = `resolve-after-refusal-${payment.id}`;
    const unknown = await resolve(`pay_${'0'.repeat(32)}`, 'SUCCEEDED', key);
    expect(unknown.statusCode).toBe(404);
    const bad = await resolve(payment.id, 'MAYBE', key);
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ code: 'validation_failed' });
    const resolved = await resolve(payment.id, 'SUCCEEDED', key);
    expect(resolved.statusCode).toBe(200);
    expect(resolved.headers['idempotent-replayed']).toBeUndefined();
  });

  it('parallel requests with one key over HTTP: one resolution, the others replay it or wait', async () => {
    const payment = await pendingInvoice();
    const key = `resolve-parallel-${payment.id}`;
    const send = () =>
      fetch(`${t.baseUrl}/v1/sandbox/payments/${payment.id}/resolve`, {
        method: 'POST',
        headers: { ...merchant.headers, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ outcome: 'SUCCEEDED' }),
      }).then(async (response) => ({
        status: response.status,
        replayed: response.headers.get('idempotent-replayed') === 'true',
        body: await response.text(),
      }));
    const answers = await Promise.all(Array.from({ length: 8 }, send));

    for (const answer of answers) {
      if (answer.status === 409)
        expect(JSON.parse(answer.body)).toMatchObject({ code: 'idempotency_key_in_use' });
      else expect(answer.status, answer.body).toBe(200);
    }
    const executed = answers.filter((answer) => answer.status === 200 && !answer.replayed);
    expect(executed).toHaveLength(1);
    for (const answer of answers.filter((candidate) => candidate.replayed))
      expect(answer.body).toBe(executed[0]!.body);
    // Once the first has finished, a retry of any of them gets its answer.
    const retry = await send();
    expect(retry).toEqual({ status: 200, replayed: true, body: executed[0]!.body });
    expect(await resolutions(payment.id)).toBe(1);
  });
});
