/**
 * GET /v1/events/stream over real HTTP on 127.0.0.1: two gateway processes over one database (events written
 * through one reach a stream served by the other), resuming from Last-Event-ID / `after`, the ordering under
 * transactions that commit out of sequence order, filters and scoping, heartbeats, and a shutdown that ends
 * open streams instead of waiting for them.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pumpEventStream } from '../../../src/http/routes/v1/event-stream.routes.ts';
import { currentStreamPosition } from '../../../src/modules/events/event-stream.repository.ts';
import { emitEvent } from '../../../src/modules/events/event.repository.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

let writer: TestApp;
let reader: TestApp;
let merchant: TestMerchant;
let other: TestMerchant;

beforeAll(async () => {
  writer = await createTestApp({ listen: true });
  reader = await createTestApp({ listen: true, shareWith: writer });
  merchant = await writer.createMerchant();
  other = await writer.createMerchant({ name: 'Other Shop' });
});
afterAll(async () => {
  await reader?.close();
  await writer?.close();
});

type Stream = {
  messages: EventSourceMessage[];
  status: number;
  /** Resolves once `count` messages other than `ready` arrived (or rejects after `ms`). */
  waitForEvents(count: number, ms?: number): Promise<EventSourceMessage[]>;
  ended: Promise<void>;
  close(): void;
};

async function openStream(
  app: TestApp,
  who: TestMerchant,
  options: { query?: string; lastEventId?: string } = {},
): Promise<Stream> {
  const controller = new AbortController();
  const response = await fetch(`${app.baseUrl}/v1/events/stream${options.query ?? ''}`, {
    headers: {
      ...who.headers,
      accept: 'text/event-stream',
      ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
    },
    signal: controller.signal,
  });
  const messages: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => messages.push(message) });
  const ended = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body!) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // aborted by close()
    }
  })();
  const events = () => messages.filter((message) => message.event !== 'ready');
  return {
    messages,
    status: response.status,
    ended,
    close: () => controller.abort(),
    async waitForEvents(count, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (events().length < count) {
        if (Date.now() > deadline)
          throw new Error(
            `expected ${count} events, got ${events()
              .map((m) => m.event)
              .join(', ')}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return events();
    },
  };
}

async function createCheckout(app: TestApp, who: TestMerchant, orderId: string) {
  const response = await app.app.inject({
    method: 'POST',
    url: '/v1/checkouts',
    headers: who.headers,
    payload: checkoutRequest(simpleOrder('EUR', 'DE', 1500, orderId)),
  });
  expect(response.statusCode).toBe(201);
  return response.json() as { checkout_id: string };
}

describe('GET /v1/events/stream', () => {
  it('refuses a client that does not ask for an event stream, and bad positions', async () => {
    const plain = await reader.app.inject({ url: '/v1/events/stream', headers: merchant.headers });
    expect(plain.statusCode).toBe(406);
    expect(expectProblem(plain).code).toBe('not_acceptable');

    const badAfter = await reader.app.inject({
      url: '/v1/events/stream?after=evt_123',
      headers: { ...merchant.headers, accept: 'text/event-stream' },
    });
    expect(expectProblem(badAfter).errors?.[0]?.pointer).toBe('/query/after');

    const badHeader = await reader.app.inject({
      url: '/v1/events/stream',
      headers: { ...merchant.headers, accept: 'text/event-stream', 'last-event-id': 'evt_1' },
    });
    expect(expectProblem(badHeader).errors?.[0]?.pointer).toBe('/header/last-event-id');

    const badType = await reader.app.inject({
      url: '/v1/events/stream?types=payment.succeeded,nope',
      headers: { ...merchant.headers, accept: 'text/event-stream' },
    });
    expect(badType.statusCode).toBe(422);

    const anonymous = await reader.app.inject({
      url: '/v1/events/stream',
      headers: { accept: 'text/event-stream' },
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it("streams events written by another gateway process, only the merchant's, and resumes from a position", async () => {
    const stream = await openStream(reader, merchant);
    expect(stream.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ready = stream.messages[0]!;
    expect(ready.event).toBe('ready');
    expect(ready.id).toMatch(/^\d+\.\d+$/);

    await createCheckout(writer, other, 'other-1'); // another merchant's events never show
    const { checkout_id: checkoutId } = await createCheckout(writer, merchant, 'stream-1');
    await createCheckout(writer, merchant, 'stream-2');
    // Each checkout writes two events (checkout.created, order.created): all four, whichever polls bring them.
    const received = await stream.waitForEvents(4);
    await new Promise((resolve) => setTimeout(resolve, 700)); // nothing else arrives
    stream.close();
    await stream.ended;

    const events = stream.messages.filter((message) => message.event !== 'ready');
    expect(events).toHaveLength(received.length);
    const bodies = events.map((message) => JSON.parse(message.data) as Record<string, unknown>);
    expect(bodies.every((body) => body.object === 'event' && typeof body.api_version === 'string')).toBe(
      true,
    );
    expect(bodies.map((body) => body.type)).toContain('checkout.created');
    expect(bodies[0]!.checkout_id).toBe(checkoutId);
    expect(events.map((message) => message.event)).toEqual(bodies.map((body) => body.type));
    // Positions are ordered, and every event is the merchant's.
    const positions = events.map((message) => message.id!.split('.').map(BigInt) as [bigint, bigint]);
    for (let index = 1; index < positions.length; index += 1) {
      const [a, b] = [positions[index - 1]!, positions[index]!];
      expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])).toBe(true);
    }
    const listed = await reader.app.inject({ url: '/v1/events?limit=100', headers: merchant.headers });
    const listedIds = (listed.json() as { data: { id: string }[] }).data.map((event) => event.id);
    expect(listedIds.sort()).toEqual(bodies.map((body) => body.id as string).sort());

    // Resuming after the first event sends exactly the ones after it, through either process.
    const resumed = await openStream(writer, merchant, { lastEventId: events[0]!.id });
    const again = await resumed.waitForEvents(events.length - 1);
    resumed.close();
    expect(again.map((message) => message.id)).toEqual(events.slice(1).map((message) => message.id));
    const viaQuery = await openStream(reader, merchant, { query: `?after=${events[0]!.id}` });
    expect((await viaQuery.waitForEvents(events.length - 1)).map((message) => message.id)).toEqual(
      events.slice(1).map((message) => message.id),
    );
    viaQuery.close();

    // A type filter.
    const filtered = await openStream(reader, merchant, {
      query: `?types=order.created&after=${ready.id}`,
    });
    const orders = await filtered.waitForEvents(2);
    await new Promise((resolve) => setTimeout(resolve, 700));
    filtered.close();
    expect(new Set(filtered.messages.slice(1).map((message) => message.event))).toEqual(
      new Set(['order.created']),
    );
    expect(orders).toHaveLength(2);
  });

  it('never skips an event whose transaction commits after a later one', async () => {
    const stream = await openStream(reader, merchant);
    await new Promise((resolve) => setTimeout(resolve, 100));
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstWritten!: () => void;
    const firstIsWritten = new Promise<void>((resolve) => (firstWritten = resolve));
    const emit = (label: string) => (tx: Parameters<typeof emitEvent>[0]) =>
      emitEvent(tx, {
        merchantId: merchant.merchantId,
        livemode: false,
        type: 'merchant.updated',
        data: { label },
      });
    // The first transaction takes its sequence value and stays open while the second one commits.
    const first = writer.services.db.transaction(async (tx) => {
      const event = await emit('first')(tx);
      firstWritten();
      await firstHeld;
      return event;
    });
    await firstIsWritten;
    const second = await writer.services.db.transaction((tx) => emit('second')(tx));
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    // Not sent yet: sending it now would move the reader past the first event's position.
    expect(stream.messages.filter((message) => message.event !== 'ready')).toEqual([]);
    releaseFirst();
    const firstEvent = await first;
    const received = await stream.waitForEvents(2);
    stream.close();
    expect(received.map((message) => JSON.parse(message.data).id)).toEqual([firstEvent.id, second.id]);
  });

  it('sends a heartbeat comment while nothing happens', async () => {
    const written: string[] = [];
    const controller = new AbortController();
    const pumping = pumpEventStream({
      db: reader.services.db,
      scope: { merchantId: other.merchantId, livemode: false },
      from: await currentStreamPosition(reader.services.db),
      apiVersion: '2026-01-01',
      sink: { write: async (text) => void written.push(text) },
      signal: controller.signal,
      timing: { pollMs: 20, heartbeatMs: 100, batch: 10 },
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    controller.abort();
    await pumping;
    expect(written[0]).toMatch(/^retry: \d+\nid: \d+\.0\nevent: ready\n/);
    expect(written.filter((text) => text.startsWith(': heartbeat')).length).toBeGreaterThanOrEqual(2);
  });

  it('ends open streams when the server shuts down, without waiting for them', async () => {
    const process3 = await createTestApp({ listen: true, shareWith: writer });
    const stream = await openStream(process3, merchant);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await process3.close();
    await stream.ended;
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
