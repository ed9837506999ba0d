/**
 * A live-mode journey on a development gateway against the fake Stripe (test/fakes/stripe/, a real HTTP
 * server on loopback): a live processor account → a live checkout → a payment → capture → partial refund,
 * with Stripe's signed webhooks coming back to the account's webhook URL over real HTTP. Nothing leaves
 * the machine.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../../src/connectors/stripe/index.ts';
import { startFakeStripe, STRIPE_TEST_CARDS, type FakeStripe } from '../../fakes/stripe/fake-stripe.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { cardMethod, paymentEvents, type PaymentJson } from '../payments/payment-fixtures.ts';

const WEBHOOK_SECRET = 'whsec_liveJourneySecret0123456789';

let t: TestApp;
let stripe: FakeStripe;
let live: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ listen: true, env: { KASSA_ENV: 'development' } });
  stripe = await startFakeStripe({
    apiVersion: STRIPE_API_VERSION,
    secretKey: `sk_live_${randomBytes(12).toString('hex')}`,
  });
  live = await t.createMerchant({ livemode: true, name: 'Live journey shop' });
});
afterAll(async () => {
  await stripe?.close();
  await t?.close();
});

async function call(method: 'POST' | 'GET' | 'PATCH', path: string, body?: object) {
  const response = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: { ...live.headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers),
    body: text,
    json: <T>() => JSON.parse(text) as T,
  };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; attempt < 150; attempt += 1) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return read();
}

describe('live mode through Stripe (fake, on loopback)', () => {
  it('a live checkout is refused until a live Stripe account is connected; then pays, captures and refunds', async () => {
    const refused = await call('POST', '/v1/checkouts', checkoutRequest(simpleOrder('EUR', 'DE', 4200)));
    expect(expectProblem(refused)).toMatchObject({ status: 422, code: 'no_processor' });

    const testKey = await call('POST', '/v1/processor-accounts', {
      processor: 'stripe',
      credentials: { secret_key: `sk_test_${randomBytes(12).toString('hex')}` },
      payment_methods: ['card'],
    });
    expect(expectProblem(testKey).errors?.[0]).toMatchObject({ pointer: '/credentials/secret_key' });

    const connected = await call('POST', '/v1/processor-accounts', {
      processor: 'stripe',
      credentials: { secret_key: stripe.secretKey },
      payment_methods: ['card'],
      api_base_url: stripe.url,
    });
    expect(connected.statusCode, connected.body).toBe(201);
    const account = connected.json<{
      id: string;
      webhook_url: string;
      credentials: Record<string, string>;
    }>();
    expect(account.credentials).toEqual({ secret_key: `sk_live_…${stripe.secretKey.slice(-4)}` });
    expect(account.webhook_url).toBe(`${t.baseUrl}/v1/processor-webhooks/${account.id}`);
    // The merchant registers the webhook URL at Stripe, which then shows the signing secret.
    stripe.setWebhookEndpoint(account.webhook_url, WEBHOOK_SECRET);
    const secretSet = await call('PATCH', `/v1/processor-accounts/${account.id}`, {
      credentials: { webhook_secret: WEBHOOK_SECRET },
    });
    expect(secretSet.json()).toMatchObject({ webhook_secret_set: true });

    const created = await call(
      'POST',
      '/v1/checkouts',
      checkoutRequest(simpleOrder('EUR', 'DE', 4200), { capture_mode: 'manual' }),
    );
    expect(created.statusCode, created.body).toBe(201);
    const checkoutId = created.json<{ checkout_id: string; livemode: boolean }>().checkout_id;

    const paid = await call('POST', '/v1/payments', {
      checkout_id: checkoutId,
      payment_method: cardMethod(STRIPE_TEST_CARDS.visa),
    });
    expect(paid.statusCode, paid.body).toBe(201);
    const payment = paid.json<PaymentJson>();
    expect(payment).toMatchObject({ status: 'AUTHORIZED', livemode: true, amount: 4200 });
    const { rows } = await t.database.db.query<{ connector_id: string; connector_reference: string }>(
      'SELECT connector_id, connector_reference FROM payments WHERE id = $1',
      [payment.id],
    );
    expect(rows[0]!.connector_id).toBe(account.id);
    const intent = stripe.intent(rows[0]!.connector_reference);
    expect(intent).toMatchObject({
      status: 'requires_capture',
      livemode: true,
      amount: 4200,
      currency: 'eur',
    });

    const captured = await call('POST', `/v1/payments/${payment.id}/capture`, { amount: 4200 });
    expect(captured.statusCode, captured.body).toBe(201);
    expect(captured.json()).toMatchObject({ status: 'SUCCEEDED', payment: { status: 'SUCCEEDED' } });

    const refund = await call('POST', `/v1/payments/${payment.id}/refunds`, { amount: 1200 });
    expect(refund.statusCode, refund.body).toBe(201);
    expect(refund.json()).toMatchObject({ status: 'SUCCEEDED', amount: 1200 });
    expect(stripe.intent(rows[0]!.connector_reference)).toMatchObject({ status: 'succeeded' });

    // Stripe's webhooks about the same payment arrive signed at the account's URL: stored once each,
    // acknowledged, and they change nothing Kassa already recorded.
    await stripe.flushWebhooks();
    expect(stripe.deliveries.length).toBeGreaterThan(0);
    expect(stripe.deliveries.every((delivery) => delivery.status === 200)).toBe(true);
    const stored = await until(
      async () =>
        (
          await t.database.db.query<{ event_id: string; applied_at: Date | null }>(
            'SELECT event_id, applied_at FROM processor_notifications WHERE processor_account_id = $1',
            [account.id],
          )
        ).rows,
      (notifications) => notifications.length > 0 && notifications.every((row) => row.applied_at !== null),
    );
    expect(stored.length).toBeGreaterThan(0);
    const redelivered = await stripe.deliver(stored[0]!.event_id);
    expect(redelivered).toBe(200);
    const forged = await stripe.deliver(stored[0]!.event_id, { secret: 'whsec_forgedForgedForged0000' });
    expect(forged).toBe(401);
    const after = await call('GET', `/v1/payments/${payment.id}`);
    expect(after.json()).toMatchObject({
      status: 'SUCCEEDED',
      captured_amount: 4200,
      refunded_amount: 1200,
    });
    const types = (await paymentEvents(t, payment.id)).map((row) => row.type);
    expect(types.filter((type) => type === 'payment.captured')).toHaveLength(1);
    expect(types.filter((type) => type === 'refund.succeeded')).toHaveLength(1);
    expect(stripe.violations).toEqual([]);
  });
});
