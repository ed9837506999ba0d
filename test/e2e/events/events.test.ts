/**
 * GET /v1/events (filters, pagination, scoping), GET /v1/events/{id}, GET /v1/events/{id}/deliveries and
 * POST /v1/events/{id}/redeliver — with the real outbox worker delivering to a receiver on 127.0.0.1.
 * The order timeline's tests are in test/e2e/orders/order-timeline.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../../../src/modules/events/event.repository.ts';
import type { NewEvent } from '../../../src/modules/events/event.types.ts';
import { startWorkers } from '../../../src/workers/workers.ts';
import { createCheckout } from '../checkouts/checkout-fixtures.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';

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

type EventJson = {
  id: string;
  type: string;
  order_id: string | null;
  checkout_id: string | null;
  created_at: string;
  pending_webhooks: number;
  data: Record<string, unknown>;
};
type DeliveryJson = {
  id: string;
  origin: string;
  status: string;
  webhook_endpoint_id: string;
  attempts: {
    attempt_number: number;
    status_code: number | null;
    url: string;
    latency_ms: number;
    attempted_at: string;
    response_excerpt: string | null;
  }[];
};

async function emit(merchant: TestMerchant, event: Partial<NewEvent> & { type: NewEvent['type'] }) {
  const { id } = await t.services.db.transaction((tx) =>
    emitEvent(tx, { merchantId: merchant.merchantId, livemode: merchant.livemode, data: { n: 1 }, ...event }),
  );
  t.services.outbox.notify();
  return id;
}

const get = (merchant: TestMerchant, url: string) =>
  t.app.inject({ method: 'GET', url, headers: merchant.headers });
const post = (merchant: TestMerchant, url: string, payload?: object) =>
  t.app.inject({ method: 'POST', url, headers: merchant.headers, ...(payload ? { payload } : {}) });

async function createEndpoint(merchant: TestMerchant, path: string, events: string[] = ['*']) {
  const response = await post(merchant, '/v1/webhook-endpoints', {
    url: `${receiver.url}${path}`,
    enabled_events: events,
  });
  expect(response.statusCode).toBe(201);
  return response.json() as { id: string; secret: string };
}

describe('GET /v1/events', () => {
  let merchant: TestMerchant;
  const ids: Record<string, string> = {};
  let middle: Date;

  beforeAll(async () => {
    merchant = await t.createMerchant();
    ids.a = await emit(merchant, { type: 'checkout.created', checkoutId: 'chk_a', orderId: 'ord_a' });
    ids.b = await emit(merchant, {
      type: 'payment.succeeded',
      orderId: 'ord_a',
      paymentId: 'pay_b',
      data: { amount: 500, currency: 'EUR' },
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    middle = new Date();
    await new Promise((resolve) => setTimeout(resolve, 30));
    ids.c = await emit(merchant, { type: 'checkout.created', checkoutId: 'chk_c', orderId: 'ord_c' });
    ids.d = await emit(merchant, { type: 'refund.succeeded', orderId: 'ord_c' });
    const stranger = await t.createMerchant();
    await emit(stranger, { type: 'checkout.created', orderId: 'ord_a' });
    const live = await t.createMerchant({ livemode: true });
    await emit(live, { type: 'checkout.created', orderId: 'ord_a' });
  });

  const list = async (query: string) => {
    const response = await get(merchant, `/v1/events${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { data: EventJson[]; has_more: boolean; next_cursor: string | null };
  };

  it('lists the merchant’s events of this mode, newest first', async () => {
    const page = await list('');
    expect(page.data.map((e) => e.id)).toEqual([ids.d, ids.c, ids.b, ids.a]);
    expect(page.data[2]).toMatchObject({
      object: 'event',
      type: 'payment.succeeded',
      livemode: false,
      order_id: 'ord_a',
      payment_id: 'pay_b',
      data: { amount: 500, currency: 'EUR' },
    });
  });

  it('filters by type, order, checkout and creation time', async () => {
    expect((await list('?type=checkout.created')).data.map((e) => e.id)).toEqual([ids.c, ids.a]);
    expect((await list('?order_id=ord_a')).data.map((e) => e.id)).toEqual([ids.b, ids.a]);
    expect((await list('?checkout_id=chk_c')).data.map((e) => e.id)).toEqual([ids.c]);
    expect((await list('?order_id=ord_c&type=refund.succeeded')).data.map((e) => e.id)).toEqual([ids.d]);
    const iso = encodeURIComponent(middle.toISOString());
    expect((await list(`?created_gte=${iso}`)).data.map((e) => e.id)).toEqual([ids.d, ids.c]);
    expect((await list(`?created_gt=${iso}`)).data.map((e) => e.id)).toEqual([ids.d, ids.c]);
    expect((await list(`?created_lte=${iso}`)).data.map((e) => e.id)).toEqual([ids.b, ids.a]);
    expect((await list(`?created_lt=${iso}`)).data.map((e) => e.id)).toEqual([ids.b, ids.a]);
    expect((await list(`?order_id=ord_none`)).data).toEqual([]);
  });

  it('refuses the old spellings of the filters (created[gte], created_after, order, checkout)', async () => {
    const iso = encodeURIComponent(middle.toISOString());
    for (const [query, name] of [
      [`?created[gte]=${iso}`, 'created[gte]'],
      [`?created[lte]=${iso}`, 'created[lte]'],
      [`?created_after=${iso}`, 'created_after'],
      [`?created_before=${iso}`, 'created_before'],
      ['?order=ord_a', 'order'],
      ['?checkout=chk_c', 'checkout'],
    ] as const) {
      const problem = expectProblem(await get(merchant, `/v1/events${query}`));
      expect(problem, query).toMatchObject({ status: 422, code: 'validation_failed' });
      expect(problem.errors?.[0], query).toMatchObject({ pointer: `/query/${name}`, code: 'unknown_field' });
    }
  });

  it('paginates with starting_after, and back with ending_before', async () => {
    const first = await list('?limit=3');
    expect(first).toMatchObject({ object: 'list', has_more: true, next_cursor: ids.b });
    expect(first.data.map((e) => e.id)).toEqual([ids.d, ids.c, ids.b]);
    const second = await list(`?limit=3&starting_after=${first.next_cursor}`);
    expect(second).toMatchObject({
      object: 'list',
      data: [expect.objectContaining({ id: ids.a })],
      has_more: false,
      next_cursor: null,
    });
    const back = await list(`?limit=2&ending_before=${ids.a}`);
    expect(back).toMatchObject({ object: 'list', has_more: true, next_cursor: ids.c });
    expect(back.data.map((e) => e.id)).toEqual([ids.c, ids.b]);
    const front = await list(`?limit=2&ending_before=${back.next_cursor}`);
    expect(front).toMatchObject({ has_more: false, next_cursor: null });
    expect(front.data.map((e) => e.id)).toEqual([ids.d]);
  });

  it('refuses a cursor that is not an event of this list with 400 invalid_cursor', async () => {
    const stranger = await t.createMerchant();
    const foreign = await emit(stranger, { type: 'checkout.created' });
    for (const cursor of ['garbage', 'evt_00000000000000000000000000000000', foreign, 'ord_a']) {
      for (const name of ['starting_after', 'ending_before']) {
        const problem = expectProblem(await get(merchant, `/v1/events?${name}=${cursor}`));
        expect(problem, `${name}=${cursor}`).toMatchObject({ status: 400, code: 'invalid_cursor' });
      }
    }
    // A filter does not judge the cursor: an event outside the filter still places the page.
    expect((await list(`?type=checkout.created&starting_after=${ids.b}`)).data.map((e) => e.id)).toEqual([
      ids.a,
    ]);
  });

  it('lists the events of one transaction in the order they were written, across pages too', async () => {
    // checkout.created then order.created share one created_at (one transaction); 8 sessions, so random
    // ids in the tie-break would show up.
    const other = await t.createMerchant({ name: 'Ordered' });
    for (let index = 0; index < 8; index += 1) await createCheckout(t, other);
    const types = async (query: string) =>
      ((await get(other, `/v1/events${query}`)).json() as { data: EventJson[] }).data.map((e) => e.type);
    const all = await types('?limit=100');
    expect(all).toEqual(Array.from({ length: 8 }, () => ['order.created', 'checkout.created']).flat());
    let cursor: string | null = null;
    const paged: string[] = [];
    do {
      const response = await get(other, `/v1/events?limit=1${cursor ? `&starting_after=${cursor}` : ''}`);
      const page = response.json() as { data: EventJson[]; next_cursor: string | null };
      paged.push(...page.data.map((e) => e.type));
      cursor = page.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all);
  });

  it('refuses bad filters with problem documents', async () => {
    for (const query of [
      '?type=payment.exploded',
      '?created_gte=yesterday',
      '?created_lt=2025-13-01T00:00:00Z',
      '?limit=101',
    ]) {
      const problem = expectProblem(await get(merchant, `/v1/events${query}`));
      expect(problem, query).toMatchObject({ status: 422, code: 'validation_failed' });
      expect(problem.errors?.[0]?.pointer, query).toMatch(/^\/query\//);
    }
  });

  it('GET /v1/events/{id} answers 404 for other merchants and the other mode', async () => {
    const own = await get(merchant, `/v1/events/${ids.b}`);
    expect(own.json()).toMatchObject({ id: ids.b, type: 'payment.succeeded' });
    const stranger = await t.createMerchant();
    for (const url of [
      `/v1/events/${ids.b}`,
      `/v1/events/${ids.b}/deliveries`,
      '/v1/events/evt_00000000000000000000000000000000',
    ]) {
      expect(expectProblem(await get(stranger, url))).toMatchObject({ status: 404, code: 'not_found' });
    }
    expect(expectProblem(await post(stranger, `/v1/events/${ids.b}/redeliver`))).toMatchObject({
      status: 404,
    });
  });
});

describe('deliveries and redelivery', () => {
  it('shows every attempt, and redelivers with the same webhook-id', async () => {
    const merchant = await t.createMerchant();
    const endpoint = await createEndpoint(merchant, '/replay');
    replies.set('/replay', (index) =>
      index === 0 ? { status: 503, body: 'maintenance' } : { status: 200, body: 'thanks' },
    );
    const eventId = await emit(merchant, { type: 'payment.succeeded' });
    await receiver.waitFor((r) => r.filter((w) => w.path === '/replay').length === 2);

    const listed = async () => {
      const response = await get(merchant, `/v1/events/${eventId}/deliveries`);
      return (response.json() as { data: DeliveryJson[] }).data;
    };
    await expect.poll(async () => (await listed())[0]?.status).toBe('SUCCEEDED');
    const [delivery] = await listed();
    expect(delivery).toMatchObject({
      object: 'webhook_delivery',
      origin: 'event',
      webhook_endpoint_id: endpoint.id,
      attempt_count: 2,
    });
    expect(delivery!.attempts).toEqual([
      expect.objectContaining({
        attempt_number: 1,
        status_code: 503,
        result: 'failed',
        response_excerpt: 'maintenance',
        url: `${receiver.url}/replay`,
        next_attempt_at: expect.any(String),
      }),
      expect.objectContaining({
        attempt_number: 2,
        status_code: 200,
        result: 'succeeded',
        response_excerpt: 'thanks',
        next_attempt_at: null,
      }),
    ]);
    expect(delivery!.attempts[0]!.latency_ms).toBeGreaterThanOrEqual(0);

    const redelivered = await post(merchant, `/v1/events/${eventId}/redeliver`);
    expect(redelivered.statusCode).toBe(202);
    expect(redelivered.json()).toEqual({
      object: 'list',
      data: [
        expect.objectContaining({
          object: 'webhook_delivery',
          event_id: eventId,
          origin: 'redelivery',
          status: 'PENDING',
          webhook_endpoint_id: endpoint.id,
        }),
      ],
      has_more: false,
      next_cursor: null,
    });
    await receiver.waitFor((r) => r.filter((w) => w.path === '/replay').length === 3);
    const replay = receiver.received.filter((w) => w.path === '/replay')[2]!;
    expect(replay.headers['webhook-id']).toBe(eventId);
    verifyWebhook(endpoint.secret, replay);
    await expect
      .poll(async () => (await listed()).map((d) => `${d.origin}:${d.status}`))
      .toEqual(['redelivery:SUCCEEDED', 'event:SUCCEEDED']);
  });

  it('redelivers to one named endpoint, even one created after the event', async () => {
    const merchant = await t.createMerchant();
    const eventId = await emit(merchant, { type: 'refund.failed' });
    const late = await createEndpoint(merchant, '/late', ['checkout.completed']);
    const response = await post(merchant, `/v1/events/${eventId}/redeliver`, {
      webhook_endpoint_id: late.id,
    });
    expect(response.statusCode).toBe(202);
    await receiver.waitFor((r) => r.some((w) => w.path === '/late'));
    expect(receiver.received.find((w) => w.path === '/late')!.headers['webhook-id']).toBe(eventId);
  });

  it('refuses unknown or disabled endpoints and events nobody subscribes to', async () => {
    const merchant = await t.createMerchant();
    const eventId = await emit(merchant, { type: 'payment.canceled' });
    const none = await post(merchant, `/v1/events/${eventId}/redeliver`);
    expect(expectProblem(none)).toMatchObject({ status: 409, code: 'conflict' });
    const unknown = await post(merchant, `/v1/events/${eventId}/redeliver`, {
      webhook_endpoint_id: 'whe_00000000000000000000000000000000',
    });
    expect(expectProblem(unknown)).toMatchObject({ status: 404, code: 'not_found' });
    const endpoint = await createEndpoint(merchant, '/off');
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/webhook-endpoints/${endpoint.id}`,
      headers: merchant.headers,
      payload: { status: 'DISABLED' },
    });
    const disabled = await post(merchant, `/v1/events/${eventId}/redeliver`, {
      webhook_endpoint_id: endpoint.id,
    });
    expect(expectProblem(disabled)).toMatchObject({
      status: 409,
      code: 'invalid_state_transition',
      current_status: 'DISABLED',
      allowed_statuses: ['ENABLED'],
    });
    const foreign = await createEndpoint(await t.createMerchant(), '/foreign');
    const notMine = await post(merchant, `/v1/events/${eventId}/redeliver`, {
      webhook_endpoint_id: foreign.id,
    });
    expect(expectProblem(notMine)).toMatchObject({ status: 404 });
    // The old name is an unknown field now, refused by name rather than ignored (which redelivered to all).
    const oldName = await post(merchant, `/v1/events/${eventId}/redeliver`, { endpoint_id: endpoint.id });
    expect(expectProblem(oldName).errors).toEqual([
      expect.objectContaining({ pointer: '/endpoint_id', code: 'unknown_field' }),
    ]);
  });
});
