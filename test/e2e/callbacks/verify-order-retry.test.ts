/**
 * A `verify_order` refusal always wins over an idempotent retry of `POST /v1/payments`. The retry comes after
 * the Idempotency-Key's lease has run out (here: the lease is made to run out, as 20 s would) while the
 * merchant is still answering: it must not authorize on its own. While the first request can still be waiting
 * for the answer, the retry waits (409); once it cannot, the retry asks `verify_order` itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
import { countAuthorizations } from '../hosted-page/hosted-fixtures.ts';
import {
  createCallbackCheckout,
  paymentsOfCheckout,
  RECEIVER_ALLOW_LIST_ENV,
  startCallbackReceiver,
  type CallbackReceiver,
} from './callback-fixtures.ts';

const clock = createManualClock(new Date());
let t: TestApp;
let receiver: CallbackReceiver;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({
    clock,
    env: {
      KASSA_CALLBACK_CONNECT_TIMEOUT_MS: '500',
      KASSA_CALLBACK_RESPONSE_TIMEOUT_MS: '5000',
      ...RECEIVER_ALLOW_LIST_ENV,
    },
  });
  receiver = await startCallbackReceiver();
  merchant = await t.createMerchant({ name: 'Verifying Shop' });
});

afterAll(async () => {
  await receiver.close();
  await t.close();
});

function pay(checkoutId: string, key: string) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: { ...merchant.headers, 'idempotency-key': key },
    payload: {
      checkout_id: checkoutId,
      payment_method: {
        type: 'card',
        card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123', holder_name: 'Ada' },
      },
    },
  });
}

/** The Idempotency-Key's lease runs out now (what 20 s of a slow verify_order did before). */
async function expireLease(key: string) {
  const { rowCount } = await t.services.db.query(
    `UPDATE idempotency_keys SET locked_until = now() - interval '1 second'
      WHERE idempotency_key = $1 AND state = 'in_progress'`,
    [key],
  );
  expect(rowCount).toBe(1);
}

describe('verify_order against a retry with the same Idempotency-Key', () => {
  it('a retry while the merchant is still answering waits (409); the refusal wins, nothing is authorized', async () => {
    const path = '/verify-slow-refusal';
    receiver.on(path, { status: 200, body: 'REFUSED: out of stock', delayMs: 1500 });
    const checkout = await createCallbackCheckout(t, merchant, { verify_order: `${receiver.url}${path}` });
    const key = 'retry-during-verification';

    const first = pay(checkout.checkoutId, key);
    await receiver.waitFor(() => receiver.receivedAt(path).length === 1);
    await expireLease(key);
    const retry = await pay(checkout.checkoutId, key);
    expect(retry.statusCode).toBe(409);
    expect(retry.json()).toMatchObject({ code: 'payment_in_progress' });
    expect(Number(retry.headers['retry-after'])).toBeGreaterThan(0);

    const answered = await first;
    expect(answered.statusCode).toBe(201);
    expect(answered.json()).toMatchObject({ status: 'REJECTED', decline_code: 'order_verification_failed' });
    const again = await pay(checkout.checkoutId, key);
    expect(again.json()).toMatchObject({ status: 'REJECTED' });

    const payments = await paymentsOfCheckout(t, checkout.checkoutId);
    expect(payments).toMatchObject([{ status: 'REJECTED', decline_code: 'order_verification_failed' }]);
    expect(
      await countAuthorizations(
        t,
        payments.map((payment) => payment.id),
      ),
    ).toBe(0);
  });

  it('a retry after the verification could have answered asks verify_order again: refused, nothing is authorized', async () => {
    const path = '/verify-ask-again';
    // The first request's verification hangs (its process is as good as gone); the second ask is refused.
    receiver.on(path, (_request, index) =>
      index === 0 ? { status: 200, body: 'OKAY', delayMs: 2500 } : { status: 200, body: 'REFUSED' },
    );
    const checkout = await createCallbackCheckout(t, merchant, { verify_order: `${receiver.url}${path}` });
    const key = 'retry-after-verifier-gone';

    const first = pay(checkout.checkoutId, key);
    await receiver.waitFor(() => receiver.receivedAt(path).length === 1);
    await expireLease(key);
    clock.advance(60);
    const retry = await pay(checkout.checkoutId, key);
    expect(receiver.receivedAt(path)).toHaveLength(2);
    expect(retry.statusCode).toBe(201);
    expect(retry.json()).toMatchObject({ status: 'REJECTED', decline_code: 'order_verification_failed' });

    // The first verification's late OKAY changes nothing: the payment was refused.
    await first;
    const payments = await paymentsOfCheckout(t, checkout.checkoutId);
    expect(payments).toMatchObject([{ status: 'REJECTED' }]);
    expect(
      await countAuthorizations(
        t,
        payments.map((payment) => payment.id),
      ),
    ).toBe(0);
  });
});
