/**
 * W3C trace context on every outgoing request (docs/operations.md#tracing), received by real HTTP servers on
 * loopback: a webhook sent later by the delivery worker carries the trace of the request that caused its event
 * (stored with the event), a redelivery the trace of the request that asked for it, a callback notification
 * (sent by its worker) the trace of the request that finalised the payment, and a call to a processor (the fake
 * Stripe) the trace of the payment request that made it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../../src/connectors/stripe/index.ts';
import { createWorkers, startWorkers } from '../../../src/workers/workers.ts';
import { currentTraceparent, parseTraceparent } from '../../../src/metrics/index.ts';
import { startFakeStripe, STRIPE_TEST_CARDS, type FakeStripe } from '../../fakes/stripe/fake-stripe.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { cardMethod } from '../payments/payment-fixtures.ts';
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';
import {
  FAST_CALLBACK_ENV,
  createCallbackCheckout,
  paymentsOfCheckout,
  startCallbackReceiver,
} from '../callbacks/callback-fixtures.ts';
import { CARDS, cardForm, csrfOf, getPage, postForm } from '../hosted-page/hosted-fixtures.ts';

let t: TestApp;
let receiver: WebhookReceiver;
let workers: { stop(): Promise<void> } | undefined;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ env: { KASSA_ENV: 'development', KASSA_DEMO: 'false' } });
  receiver = await startWebhookReceiver();
  merchant = await t.createMerchant({ name: 'Traced Shop' });
});

afterAll(async () => {
  await workers?.stop();
  await receiver.close();
  await t.close();
});

const newTraceId = () => randomBytes(16).toString('hex');
const traceparentOf = (traceId: string) => `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

/** The span id Kassa gave the request (its `traceresponse`): what it sends on as the parent. */
function kassaSpanOf(response: { headers: Record<string, unknown> }, traceId: string): string {
  const match = new RegExp(`^00-${traceId}-([0-9a-f]{16})-01$`).exec(String(response.headers.traceresponse));
  if (!match) throw new Error(`traceresponse ${String(response.headers.traceresponse)} is not in ${traceId}`);
  return match[1]!;
}

describe('webhooks sent later by the delivery worker', () => {
  it('carry the trace of the request whose change emitted the event, and a redelivery that of its own request', async () => {
    const endpoint = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: merchant.headers,
      payload: { url: `${receiver.url}/hooks`, enabled_events: ['checkout.created'] },
    });
    expect(endpoint.statusCode).toBe(201);
    const { secret } = endpoint.json<{ secret: string }>();

    const creating = newTraceId();
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: { ...merchant.headers, traceparent: traceparentOf(creating) },
      payload: checkoutRequest(simpleOrder('EUR', 'DE', 4200)),
    });
    expect(created.statusCode, created.body).toBe(201);
    const requestSpan = kassaSpanOf(created, creating);

    // Nothing is sent during the request: the worker, started afterwards in its own context, sends it.
    expect(receiver.received).toHaveLength(0);
    workers = startWorkers(t.services, t.app.log);
    await receiver.waitFor((received) => received.length >= 1);
    const [webhook] = receiver.received;
    expect(verifyWebhook(secret, webhook!)).toMatchObject({ type: 'checkout.created' });
    expect(webhook!.headers.traceparent).toBe(`00-${creating}-${requestSpan}-01`);

    const redelivering = newTraceId();
    const redelivered = await t.app.inject({
      method: 'POST',
      url: `/v1/events/${String(webhook!.headers['webhook-id'])}/redeliver`,
      headers: {
        ...merchant.headers,
        traceparent: traceparentOf(redelivering),
        'idempotency-key': randomBytes(8).toString('hex'),
      },
    });
    expect(redelivered.statusCode, redelivered.body).toBe(202);
    const redeliverySpan = kassaSpanOf(redelivered, redelivering);
    t.services.outbox.notify();
    await receiver.waitFor((received) => received.length >= 2);
    const again = receiver.received[1]!;
    expect(again.headers['webhook-id']).toBe(webhook!.headers['webhook-id']);
    expect(again.headers.traceparent).toBe(`00-${redelivering}-${redeliverySpan}-01`);

    // The trace is stored with the event: a second process delivering it would send the same.
    const { rows } = await t.database.db.query<{ traceparent: string }>(
      'SELECT traceparent FROM events WHERE id = $1',
      [webhook!.headers['webhook-id']],
    );
    expect(rows[0]!.traceparent).toBe(`00-${creating}-${requestSpan}-01`);
  });
});

describe('processor requests', () => {
  let stripe: FakeStripe;
  afterAll(async () => {
    await stripe?.close();
  });

  it('carry the trace of the payment request that made them', async () => {
    stripe = await startFakeStripe({
      apiVersion: STRIPE_API_VERSION,
      secretKey: `sk_live_${randomBytes(12).toString('hex')}`,
    });
    const live = await t.createMerchant({ livemode: true, name: 'Traced live shop' });
    const connected = await t.app.inject({
      method: 'POST',
      url: '/v1/processor-accounts',
      headers: live.headers,
      payload: {
        processor: 'stripe',
        credentials: { secret_key: stripe.secretKey },
        payment_methods: ['card'],
        api_base_url: stripe.url,
      },
    });
    expect(connected.statusCode, connected.body).toBe(201);
    const checkout = await t.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: live.headers,
      payload: checkoutRequest(simpleOrder('EUR', 'DE', 4200)),
    });
    expect(checkout.statusCode, checkout.body).toBe(201);
    expect(stripe.requests).toHaveLength(0);

    const paying = newTraceId();
    const paid = await t.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: { ...live.headers, traceparent: traceparentOf(paying) },
      payload: {
        checkout_id: checkout.json<{ checkout_id: string }>().checkout_id,
        payment_method: cardMethod(STRIPE_TEST_CARDS.visa),
      },
    });
    expect(paid.statusCode, paid.body).toBe(201);
    const paymentSpan = kassaSpanOf(paid, paying);
    expect(stripe.requests.length).toBeGreaterThan(0);
    for (const request of stripe.requests) {
      expect(request.headers.traceparent, request.path).toBe(`00-${paying}-${paymentSpan}-01`);
    }
  });
});

describe('callback notifications sent later by their worker', () => {
  it('carry the trace of the request that finalised the payment', async () => {
    const app = await createTestApp({ env: FAST_CALLBACK_ENV });
    const callbacks = await startCallbackReceiver();
    try {
      const shop = await app.createMerchant({ name: 'Notified traced shop' });
      callbacks.on('/notify', { status: 200, body: 'thanks' });
      const checkout = await createCallbackCheckout(app, shop, { notification: `${callbacks.url}/notify` });
      const page = await getPage(app, checkout.path);
      await postForm(app, checkout.path, cardForm(csrfOf(page.html), CARDS.pending));
      const [payment] = await paymentsOfCheckout(app, checkout.checkoutId);
      expect(payment!.status).toBe('PENDING');

      const resolving = newTraceId();
      const resolved = await app.app.inject({
        method: 'POST',
        url: `/v1/sandbox/payments/${payment!.id}/resolve`,
        headers: { ...shop.headers, traceparent: traceparentOf(resolving) },
        payload: { outcome: 'SUCCEEDED' },
      });
      expect(resolved.statusCode, resolved.body).toBe(200);
      const resolveSpan = kassaSpanOf(resolved, resolving);

      const worker = createWorkers(app.services).find((w) => w.name === 'callback-notifications')!;
      for (let round = 0; round < 50 && callbacks.receivedAt('/notify').length === 0; round += 1) {
        await worker.run();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const [notification] = callbacks.receivedAt('/notify');
      expect(notification!.headers.traceparent).toBe(`00-${resolving}-${resolveSpan}-01`);
    } finally {
      await callbacks.close();
      await app.close();
    }
  });
});

describe('background work no request caused', () => {
  it('runs each worker run in a trace of its own, which its outgoing requests carry', async () => {
    const seen: (string | undefined)[] = [];
    const running = startWorkers(t.services, t.app.log, [
      {
        name: 'probe',
        intervalMs: 20,
        run: async () => {
          seen.push(currentTraceparent());
        },
      },
    ]);
    try {
      for (let waited = 0; seen.length < 2 && waited < 5_000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await running.stop();
    }
    const traces = seen.map((header) => parseTraceparent(header)?.traceId);
    expect(traces.length).toBeGreaterThanOrEqual(2);
    expect(traces.every((traceId) => traceId !== undefined)).toBe(true);
    expect(new Set(traces).size).toBe(traces.length);
  });
});
