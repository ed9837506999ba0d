/**
 * A `verify_order` refusal always wins over an idempotent retry of `POST /v1/payments` (docs/security.md,
 * "Money moves only on what the merchant saw and allowed"): the Idempotency-Key's lease is derived from the
 * configured callback and processor timeouts (src/http/idempotency.ts `pipelineLeaseSeconds`,
 * `PaymentFlow.attemptBoundMs`), so it outlives the verification and every retry while the first request runs
 * is 409 `idempotency_key_in_use`; the first request's refusal is then what every retry gets back.
 * Real parallel HTTP requests on loopback against a slow verify_order receiver on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineLeaseSeconds } from '../../../src/http/idempotency-pipeline.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  createCallbackCheckout,
  paymentsOfCheckout,
  RECEIVER_ALLOW_LIST_ENV,
  startCallbackReceiver,
  type CallbackReceiver,
} from '../callbacks/callback-fixtures.ts';
import { countAuthorizations } from '../hosted-page/hosted-fixtures.ts';

type Answer = { status: number; code?: string; paymentStatus?: string; replayed: boolean; at: number };

async function pay(t: TestApp, merchant: TestMerchant, checkoutId: string, key: string): Promise<Answer> {
  const response = await fetch(`${t.baseUrl}/v1/payments`, {
    method: 'POST',
    headers: { ...merchant.headers, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({
      checkout_id: checkoutId,
      payment_method: {
        type: 'card',
        card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123', holder_name: 'Ada' },
      },
    }),
  });
  const body = (await response.json()) as { code?: string; status?: string };
  return {
    status: response.status,
    code: body.code,
    paymentStatus: body.status,
    replayed: response.headers.get('idempotent-replayed') === 'true',
    at: Date.now(),
  };
}

/** Retries the same request, several in parallel every `everyMs`, until `first` has answered. */
async function retryUntilAnswered(
  t: TestApp,
  merchant: TestMerchant,
  checkoutId: string,
  key: string,
  first: Promise<Answer>,
  everyMs: number,
): Promise<Answer[]> {
  let done = false;
  void first.finally(() => {
    done = true;
  });
  const retries: Promise<Answer>[] = [];
  while (!done) {
    for (let i = 0; i < 2; i += 1) retries.push(pay(t, merchant, checkoutId, key));
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return Promise.all(retries);
}

/** Every retry either waited (the lease holds) or got the refusal; none paid, none took the attempt over. */
function expectWaitOrRefusal(retries: Answer[]) {
  for (const retry of retries) {
    if (retry.status === 409) expect(retry.code).toBe('idempotency_key_in_use');
    else expect(retry).toMatchObject({ status: 201, paymentStatus: 'REJECTED', replayed: true });
  }
  expect(retries.filter((retry) => retry.status === 409).length).toBeGreaterThan(0);
}

async function leaseLeftSeconds(t: TestApp, key: string): Promise<number> {
  const { rows } = await t.database.db.query<{ left: number }>(
    `SELECT extract(epoch FROM locked_until - now())::float8 AS "left" FROM idempotency_keys
      WHERE idempotency_key = $1 AND state = 'in_progress'`,
    [key],
  );
  expect(rows).toHaveLength(1);
  return rows[0]!.left;
}

async function expectRefusedAndNothingAuthorized(t: TestApp, checkoutId: string) {
  const payments = await paymentsOfCheckout(t, checkoutId);
  expect(payments).toMatchObject([{ status: 'REJECTED', decline_code: 'order_verification_failed' }]);
  expect(
    await countAuthorizations(
      t,
      payments.map((payment) => payment.id),
    ),
  ).toBe(0);
}

describe('the lease of POST /v1/payments is derived from the configured timeouts', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let receiver: CallbackReceiver;
  beforeAll(async () => {
    t = await createTestApp({
      listen: true,
      // The largest verify_order deadline one may configure.
      env: {
        KASSA_CALLBACK_CONNECT_TIMEOUT_MS: '500',
        KASSA_CALLBACK_RESPONSE_TIMEOUT_MS: '120000',
        ...RECEIVER_ALLOW_LIST_ENV,
      },
    });
    merchant = await t.createMerchant({ name: 'Slow Verifier' });
    receiver = await startCallbackReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await t?.close();
  });

  it('with a 120 s verify_order deadline the lease outlives it; parallel retries get 409 and then the refusal', async () => {
    const path = '/verify-refuses-late';
    receiver.on(path, { status: 200, body: 'REFUSED: out of stock', delayMs: 2500 });
    const checkout = await createCallbackCheckout(t, merchant, { verify_order: `${receiver.url}${path}` });
    const key = 'lease-outlives-120s-verification';

    const first = pay(t, merchant, checkout.checkoutId, key);
    await receiver.waitFor(() => receiver.receivedAt(path).length === 1);
    // Connect (0.5 s) + response (120 s) + 5 s for the verification alone; the processor calls come on top.
    const left = await leaseLeftSeconds(t, key);
    expect(left).toBeGreaterThan(125.5);
    expect(t.app.pipelineLeaseSeconds).toBe(pipelineLeaseSeconds(t.services.payments.attemptBoundMs));
    expect(t.app.pipelineLeaseSeconds).toBeGreaterThanOrEqual(Math.floor(left));

    const retries = await retryUntilAnswered(t, merchant, checkout.checkoutId, key, first, 300);
    const answered = await first;
    expect(answered).toMatchObject({ status: 201, paymentStatus: 'REJECTED' });
    expect(retries.length).toBeGreaterThan(6);
    expectWaitOrRefusal(retries);
    expect(receiver.receivedAt(path)).toHaveLength(1);
    // Every later retry is the stored refusal.
    expect(await pay(t, merchant, checkout.checkoutId, key)).toMatchObject({
      status: 201,
      paymentStatus: 'REJECTED',
      replayed: true,
    });
    await expectRefusedAndNothingAuthorized(t, checkout.checkoutId);
  });

  it('a retry that takes over a lapsed lease (a stalled process) and is told to wait leaves the record to the first request', async () => {
    const path = '/verify-refuses-after-stall';
    receiver.on(path, { status: 200, body: 'REFUSED', delayMs: 1500 });
    const checkout = await createCallbackCheckout(t, merchant, { verify_order: `${receiver.url}${path}` });
    const key = 'lease-lapsed-during-verification';

    const first = pay(t, merchant, checkout.checkoutId, key);
    await receiver.waitFor(() => receiver.receivedAt(path).length === 1);
    // As if the first process had stalled past its lease.
    await t.database.db.query(
      `UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE idempotency_key = $1`,
      [key],
    );
    const takeover = await pay(t, merchant, checkout.checkoutId, key);
    expect(takeover).toMatchObject({ status: 409, code: 'payment_in_progress' });
    // The key is not free: the next retry waits for the lease the takeover holds.
    expect(await pay(t, merchant, checkout.checkoutId, key)).toMatchObject({
      status: 409,
      code: 'idempotency_key_in_use',
    });

    expect(await first).toMatchObject({ status: 201, paymentStatus: 'REJECTED' });
    // The first request's refusal is the key's stored answer.
    expect(await pay(t, merchant, checkout.checkoutId, key)).toMatchObject({
      status: 201,
      paymentStatus: 'REJECTED',
      replayed: true,
    });
    await expectRefusedAndNothingAuthorized(t, checkout.checkoutId);
  });
});

describe('the reported case: verify_order refuses at 23 s, retries keep coming past 20 s', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let receiver: CallbackReceiver;
  beforeAll(async () => {
    // The default timeouts (7 s to connect, 28 s for the exchange).
    t = await createTestApp({ listen: true, env: RECEIVER_ALLOW_LIST_ENV });
    merchant = await t.createMerchant({ name: 'Slower Verifier' });
    receiver = await startCallbackReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await t?.close();
  });

  it('no retry authorizes: each is 409 idempotency_key_in_use until the refusal, then the refusal', async () => {
    const path = '/verify-refuses-at-23s';
    receiver.on(path, { status: 200, body: 'REFUSED: price changed', delayMs: 23_000 });
    const checkout = await createCallbackCheckout(t, merchant, { verify_order: `${receiver.url}${path}` });
    const key = 'retry-past-20s';

    const started = Date.now();
    const first = pay(t, merchant, checkout.checkoutId, key);
    await receiver.waitFor(() => receiver.receivedAt(path).length === 1);
    const retries = await retryUntilAnswered(t, merchant, checkout.checkoutId, key, first, 1_000);
    const answered = await first;
    expect(answered).toMatchObject({ status: 201, paymentStatus: 'REJECTED' });
    // Retries came after the old fixed 20 s lease, while the merchant was still answering.
    expect(
      retries.some((retry) => retry.at - started > 21_000 && retry.code === 'idempotency_key_in_use'),
    ).toBe(true);
    expectWaitOrRefusal(retries);
    expect(receiver.receivedAt(path)).toHaveLength(1);
    await expectRefusedAndNothingAuthorized(t, checkout.checkoutId);
  }, 60_000);
});
