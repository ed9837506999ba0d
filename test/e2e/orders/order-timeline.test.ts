/**
 * GET /v1/orders/{id}/timeline — the order's events and every webhook attempt about them, with the real outbox
 * worker delivering to a receiver on 127.0.0.1. (Callback attempts on the timeline: test/e2e/callbacks/.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../../../src/modules/events/event.repository.ts';
import type { NewEvent } from '../../../src/modules/events/event.types.ts';
import { startWorkers } from '../../../src/workers/workers.ts';
import { createCheckout } from '../checkouts/checkout-fixtures.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';

let t: TestApp;
let receiver: WebhookReceiver;
let workers: { stop(): Promise<void> };
const replies = new Map<string, (index: number) => { status: number; body?: string }>();

beforeAll(async () => {
  t = await createTestApp({ env: { KASSA_WEBHOOK_RETRY_SCHEDULE: '0.2,0.4' } });
  receiver = await startWebhookReceiver((request) => {
    const seen = receiver.received.filter((r) => r.path === request.path).length - 1;
    return replies.get(request.path)?.(seen) ?? { status: 200 };
  });
  workers = startWorkers(t.services, t.app.log);
});
afterAll(async () => {
  await workers.stop();
  await receiver.close();
  await t.close();
});

type EventJson = { id: string; order_id: string | null };

async function emit(merchant: TestMerchant, event: Partial<NewEvent> & { type: NewEvent['type'] }) {
  const { id } = await t.services.db.transaction((tx) =>
    emitEvent(tx, { merchantId: merchant.merchantId, livemode: merchant.livemode, data: { n: 1 }, ...event }),
  );
  t.services.outbox.notify();
  return id;
}

const get = (merchant: TestMerchant, url: string) =>
  t.app.inject({ method: 'GET', url, headers: merchant.headers });

async function createEndpoint(merchant: TestMerchant, path: string, events: string[]) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/webhook-endpoints',
    headers: merchant.headers,
    payload: { url: `${receiver.url}${path}`, enabled_events: events },
  });
  expect(response.statusCode).toBe(201);
}

describe('GET /v1/orders/{id}/timeline', () => {
  it('holds the order’s events and every webhook attempt, in time order', async () => {
    const merchant = await t.createMerchant();
    await createEndpoint(merchant, '/timeline', ['payment.succeeded']);
    replies.set('/timeline', (index) => (index === 0 ? { status: 500 } : { status: 200 }));
    const checkout = await createCheckout(t, merchant);
    const orderId = checkout.order.order_id;
    const paid = await emit(merchant, {
      type: 'payment.succeeded',
      orderId,
      checkoutId: checkout.checkout_id,
      data: { amount: 990, currency: 'MXN' },
    });
    await receiver.waitFor((r) => r.filter((w) => w.path === '/timeline').length === 2);

    const timeline = async () => {
      const response = await get(merchant, `/v1/orders/${orderId}/timeline`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as {
        object: string;
        order_id: string;
        has_more: boolean;
        data: {
          kind: string;
          at: string;
          event?: EventJson;
          event_id?: string;
          attempt?: { status_code: number | null };
        }[];
      };
    };
    await expect
      .poll(async () => (await timeline()).data.filter((e) => e.kind === 'webhook_attempt').length)
      .toBe(2);
    const body = await timeline();
    expect(body).toMatchObject({ object: 'order_timeline', order_id: orderId, has_more: false });
    const times = body.data.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const events = body.data.filter((e) => e.kind === 'event').map((e) => e.event!);
    expect(events.length).toBeGreaterThanOrEqual(2); // the checkout's own events, and the payment
    expect(events.every((e) => e.order_id === orderId)).toBe(true);
    expect(events.at(-1)!.id).toBe(paid);
    const attempts = body.data.filter((e) => e.kind === 'webhook_attempt');
    expect(attempts.map((a) => [a.event_id, a.attempt!.status_code])).toEqual([
      [paid, 500],
      [paid, 200],
    ]);
    const paidIndex = body.data.findIndex((e) => e.event?.id === paid);
    expect(body.data.findIndex((e) => e.kind === 'webhook_attempt')).toBeGreaterThan(paidIndex);
  });

  it('answers 404 for an unknown order, another merchant’s, and the other mode’s', async () => {
    const merchant = await t.createMerchant();
    const checkout = await createCheckout(t, merchant);
    const orderId = checkout.order.order_id;
    expect((await get(merchant, `/v1/orders/${orderId}/timeline`)).statusCode).toBe(200);
    for (const who of [await t.createMerchant(), await t.createMerchant({ livemode: true })]) {
      expect(expectProblem(await get(who, `/v1/orders/${orderId}/timeline`))).toMatchObject({
        status: 404,
        code: 'not_found',
      });
    }
    expect(
      expectProblem(await get(merchant, '/v1/orders/ord_00000000000000000000000000000000/timeline')).status,
    ).toBe(404);
  });
});
