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
  it('holds the order’s events and every webhook attempt, newest first, paged by entry id', async () => {
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

    type Entry = {
      id: string;
      kind: string;
      at: string;
      event?: EventJson;
      event_id?: string;
      delivery_id?: string;
      attempt?: { status_code: number | null; attempt_number?: number };
    };
    type Page = { object: string; has_more: boolean; next_cursor: string | null; data: Entry[] };
    const timeline = async (query = '') => {
      const response = await get(merchant, `/v1/orders/${orderId}/timeline${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as Page;
    };
    await expect
      .poll(async () => (await timeline()).data.filter((e) => e.kind === 'webhook_attempt').length)
      .toBe(2);
    const body = await timeline();
    expect(body).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    const times = body.data.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const events = body.data.filter((e) => e.kind === 'event').map((e) => e.event!);
    expect(events.length).toBeGreaterThanOrEqual(2); // the checkout's own events, and the payment
    expect(events.every((e) => e.order_id === orderId)).toBe(true);
    expect(events[0]!.id).toBe(paid);
    const attempts = body.data.filter((e) => e.kind === 'webhook_attempt');
    expect(attempts.map((a) => [a.event_id, a.attempt!.status_code])).toEqual([
      [paid, 200],
      [paid, 500],
    ]);
    // Newest first: the attempts come before the event they deliver.
    const paidIndex = body.data.findIndex((e) => e.event?.id === paid);
    expect(body.data.findLastIndex((e) => e.kind === 'webhook_attempt')).toBeLessThan(paidIndex);
    // Every entry has an id, unique; an event's is the event id, an attempt's its delivery and number.
    expect(new Set(body.data.map((e) => e.id)).size).toBe(body.data.length);
    for (const entry of body.data) {
      if (entry.kind === 'event') expect(entry.id).toBe(entry.event!.id);
      if (entry.kind === 'webhook_attempt')
        expect(entry.id).toBe(`${entry.delivery_id}.${entry.attempt!.attempt_number}`);
    }

    // Paged one entry at a time, forward and back, it is the same list.
    const all = body.data.map((e) => e.id);
    const forward: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await timeline(`?limit=1${cursor ? `&starting_after=${cursor}` : ''}`);
      forward.push(...page.data.map((e) => e.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(forward).toEqual(all);
    const backward: string[] = [];
    cursor = all.at(-1)!;
    do {
      const page: Page = await timeline(`?limit=2&ending_before=${cursor}`);
      backward.unshift(...page.data.map((e) => e.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(backward).toEqual(all.slice(0, -1));

    // Date bounds on the entries' times (an attempt's time is the clock's, to the millisecond).
    const firstAttempt = attempts[1]!;
    const attemptIds = attempts.map((a) => a.id);
    const since = await timeline(`?created_gte=${encodeURIComponent(firstAttempt.at)}&limit=100`);
    expect(since.data.map((e) => e.id)).toEqual(attemptIds);
    const until = await timeline(`?created_lt=${encodeURIComponent(firstAttempt.at)}&limit=100`);
    expect(until.data.map((e) => e.id)).toEqual(all.filter((id) => !attemptIds.includes(id)));

    // A cursor that is not an entry of this order's timeline: 400.
    const other = await createCheckout(t, merchant);
    const otherEvents = (await get(merchant, `/v1/events?order_id=${other.order.order_id}`)).json() as {
      data: { id: string }[];
    };
    for (const bad of [
      'garbage',
      otherEvents.data[0]!.id,
      `${attempts[0]!.delivery_id}.9`,
      'cba_1',
      orderId,
    ]) {
      const problem = expectProblem(
        await get(merchant, `/v1/orders/${orderId}/timeline?starting_after=${bad}`),
      );
      expect(problem, bad).toMatchObject({ status: 400, code: 'invalid_cursor' });
    }
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
