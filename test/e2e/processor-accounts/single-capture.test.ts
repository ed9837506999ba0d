/**
 * A connector that takes one capture per payment (`multipleCaptures: false`, as Stripe and Adyen by default):
 * a second capture is refused before the processor is asked, a PENDING first capture counts as taken, and a
 * FAILED one took nothing, so another capture may follow it. The sandbox (`multipleCaptures: true`) still takes
 * several. The processor is the test double of test/fixtures/fake-processor.ts (captures answer `pending`
 * until a signed webhook decides them), in the `stripe` slot of this app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeProcessor, type FakeWebhookEvent } from '../../fixtures/fake-processor.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { cardMethod, type PaymentJson } from '../payments/payment-fixtures.ts';

const fake = createFakeProcessor('stripe');
const WEBHOOK_SECRET = 'whsec_single_capture_0123456789';

let t: TestApp;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ processorModules: { stripe: fake.module } });
  merchant = await t.createMerchant();
});
afterAll(async () => {
  await t.close();
});

const call = (method: 'POST' | 'GET', url: string, payload?: object) =>
  t.app.inject({ method, url, headers: merchant.headers, ...(payload ? { payload } : {}) });

async function authorizedPayment(): Promise<PaymentJson> {
  const created = await call(
    'POST',
    '/v1/checkouts',
    checkoutRequest(simpleOrder('EUR', 'DE', 2000), { capture_mode: 'manual' }),
  );
  const paid = await call('POST', '/v1/payments', {
    checkout_id: created.json<{ checkout_id: string }>().checkout_id,
    payment_method: cardMethod(),
  });
  expect(paid.statusCode, paid.body).toBe(201);
  return paid.json<PaymentJson>();
}

async function captureRows(paymentId: string) {
  const { rows } = await t.database.db.query<{ status: string; connector_reference: string | null }>(
    'SELECT status, connector_reference FROM captures WHERE payment_id = $1 ORDER BY created_at',
    [paymentId],
  );
  return rows;
}

async function decideCapture(paymentId: string, status: 'succeeded' | 'failed') {
  const [payment, captures] = await Promise.all([
    t.database.db.query<{ connector_reference: string }>(
      'SELECT connector_reference FROM payments WHERE id = $1',
      [paymentId],
    ),
    captureRows(paymentId),
  ]);
  const pending = captures.find((row) => row.status === 'PENDING')!;
  const event: FakeWebhookEvent = {
    id: `evt_${pending.connector_reference}`,
    kind: 'capture',
    reference: payment.rows[0]!.connector_reference,
    operation_reference: pending.connector_reference!,
    status,
  };
  const accountId = (
    await t.database.db.query<{ connector_id: string }>('SELECT connector_id FROM payments WHERE id = $1', [
      paymentId,
    ])
  ).rows[0]!.connector_id;
  const signed = fake.signedWebhook(WEBHOOK_SECRET, [event]);
  const answer = await t.app.inject({
    method: 'POST',
    url: `/v1/processor-webhooks/${accountId}`,
    headers: signed.headers,
    payload: signed.body,
  });
  expect(answer.statusCode, answer.body).toBe(200);
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if ((await captureRows(paymentId)).every((row) => row.status !== 'PENDING')) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Capture calls the processor received for this payment (the double records them by its reference). */
async function captureCalls(paymentId: string): Promise<number> {
  const { rows } = await t.database.db.query<{ connector_reference: string }>(
    'SELECT connector_reference FROM payments WHERE id = $1',
    [paymentId],
  );
  const reference = rows[0]!.connector_reference;
  return fake.calls.filter((entry) => entry.operation === 'capture' && entry.reference === reference).length;
}

describe('one capture per payment', () => {
  it('the sandbox takes several partial captures', async () => {
    const payment = await authorizedPayment();
    expect((await call('POST', `/v1/payments/${payment.id}/capture`, { amount: 500 })).statusCode).toBe(201);
    expect((await call('POST', `/v1/payments/${payment.id}/capture`, { amount: 500 })).statusCode).toBe(201);
  });

  it('a processor with one capture: the second is refused before the processor, pending or succeeded', async () => {
    const connected = await call('POST', '/v1/processor-accounts', {
      processor: 'stripe',
      credentials: { api_key: 'fk_test_51SingleCapture01', webhook_secret: WEBHOOK_SECRET },
      payment_methods: ['card'],
    });
    expect(connected.statusCode, connected.body).toBe(201);
    const payment = await authorizedPayment();

    const first = await call('POST', `/v1/payments/${payment.id}/capture`, { amount: 500 });
    expect(first.statusCode, first.body).toBe(202);
    const calls = await captureCalls(payment.id);
    expect(calls).toBe(1);

    // While the first is PENDING, and after it succeeded: refused, and the processor is not asked.
    const whilePending = await call('POST', `/v1/payments/${payment.id}/capture`, { amount: 500 });
    expect(expectProblem(whilePending)).toMatchObject({ status: 422, code: 'amount_exceeds_capturable' });
    expect(whilePending.json()).toMatchObject({ capturable_amount: 0, currency: 'EUR' });
    await decideCapture(payment.id, 'succeeded');
    const afterSuccess = await call('POST', `/v1/payments/${payment.id}/capture`);
    expect(expectProblem(afterSuccess).detail).toContain('one capture per payment');
    expect(await captureCalls(payment.id)).toBe(calls);
  });

  it('a capture that failed took nothing: another may follow it', async () => {
    const payment = await authorizedPayment();
    expect((await call('POST', `/v1/payments/${payment.id}/capture`, { amount: 800 })).statusCode).toBe(202);
    await decideCapture(payment.id, 'failed');
    expect((await captureRows(payment.id)).map((row) => row.status)).toEqual(['FAILED']);
    const retried = await call('POST', `/v1/payments/${payment.id}/capture`, { amount: 2000 });
    expect(retried.statusCode, retried.body).toBe(202);
    expect(await captureCalls(payment.id)).toBe(2);
  });
});
