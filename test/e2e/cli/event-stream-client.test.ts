/**
 * The CLI's client of GET /v1/events/stream (src/cli/event-stream-client.ts) when the connection drops: a
 * loopback TCP proxy in front of the gateway cuts every connection after the first event; the client
 * reconnects with Last-Event-ID and gets each later event exactly once.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { followEventStream, type StreamedEvent } from '../../../src/cli/event-stream-client.ts';
import { connectGateway } from '../../../src/cli/gateway-client.ts';
import { CommandError } from '../../../src/cli/errors.ts';
import { emitEvent } from '../../../src/modules/events/event.repository.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

let t: TestApp;
let merchant: TestMerchant;
let proxy: Server;
let proxyUrl: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  t = await createTestApp({ listen: true });
  merchant = await t.createMerchant();
  const target = new URL(t.baseUrl);
  proxy = createServer((client) => {
    const upstream = connect(Number(target.port), '127.0.0.1');
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => proxy?.close(resolve));
  await t?.close();
});

async function emit(label: string) {
  return t.services.db.transaction((tx) =>
    emitEvent(tx, {
      merchantId: merchant.merchantId,
      livemode: false,
      type: 'merchant.updated',
      data: { label },
    }),
  );
}

it('reconnects after a dropped connection and resumes without losing or repeating an event', async () => {
  const gateway = connectGateway({ gateway: proxyUrl, 'api-key': merchant.apiKey });
  const received: StreamedEvent[] = [];
  const readies: string[] = [];
  const disconnects: string[] = [];
  const controller = new AbortController();
  const following = followEventStream(
    gateway,
    { signal: controller.signal },
    {
      onReady: (position) => readies.push(position),
      onDisconnect: (reason) => disconnects.push(reason),
      onEvent: (event) => {
        received.push(event);
        // Cut the connection right after the first event: the client must come back for the rest.
        if (received.length === 1) for (const socket of sockets) socket.destroy();
      },
    },
  );
  const waitFor = async (check: () => boolean) => {
    const deadline = Date.now() + 15_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out; received ${received.length}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await waitFor(() => readies.length === 1);
  const first = await emit('first');
  await waitFor(() => disconnects.length === 1);
  const second = await emit('second'); // written while the client is away
  await waitFor(() => readies.length === 2 && received.length === 2);
  const third = await emit('third');
  await waitFor(() => received.length === 3);
  await new Promise((resolve) => setTimeout(resolve, 600));
  controller.abort();
  await following;
  expect(received.map((event) => event.event.id)).toEqual([first.id, second.id, third.id]);
  expect(readies[1]).toBe(received[0]!.position); // resumed from the last event it had handled
});

it('reports a refused key in one line instead of retrying', async () => {
  const gateway = connectGateway({ gateway: t.baseUrl, 'api-key': 'sk_test_unknown' });
  const controller = new AbortController();
  await expect(
    followEventStream(gateway, { signal: controller.signal }, { onEvent: () => {} }),
  ).rejects.toThrow(CommandError);
});
