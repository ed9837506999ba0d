/**
 * Fault test: the merchant's webhook receiver is down (connection refused) while 50 events happen, and the
 * gateway restarts (a deploy: SIGTERM, start again) during the outage. Once the receiver is back, all 50 events
 * are delivered — with the `webhook-id` of their event, a valid Standard Webhooks signature — and every delivery
 * row says `succeeded` after failed attempts recorded while the receiver was down.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findFreePort } from '../../src/db/embedded.ts';
import { createMerchantWithCredentials } from '../../src/modules/merchants/merchant.service.ts';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.ts';
import { startGatewayProcess, type GatewayProcess } from '../fixtures/gateway-process.ts';
import { verifyWebhook } from '../e2e/webhooks/webhook-receiver.ts';
import { checkoutRequest, simpleOrder } from '../e2e/checkouts/checkout-fixtures.ts';
import { createKeyedClient, startReceiverOnPort, waitUntil } from './fault-fixtures.ts';

const EVENTS = 50;

let database: TestDatabase;
let dataDir: string;
let gateway: GatewayProcess | undefined;
let receiver: Awaited<ReturnType<typeof startReceiverOnPort>> | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-fault-webhooks-'));
});

afterAll(async () => {
  gateway?.child.kill('SIGKILL');
  await gateway?.exited;
  await receiver?.close();
  await database?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it(
  'receiver down while 50 events happen and the gateway restarts: all 50 are delivered later',
  { timeout: 90_000 },
  async () => {
    const env = {
      DATABASE_URL: database.connectionString,
      KASSA_ENV: 'test',
      KASSA_DATA_DIR: dataDir,
      // Retries every second or two for about half a minute: the outage below is shorter.
      KASSA_WEBHOOK_RETRY_SCHEDULE: '1,1,1,1,2,2,2,2,2,2,2,2,2,2,2,2,2',
    };
    const { merchant, credentials } = await database.db.transaction((tx) =>
      createMerchantWithCredentials(tx, { name: 'Offline Shop', livemode: false }),
    );
    // The receiver's address, with nothing listening on it yet: connections are refused.
    const receiverPort = await findFreePort();
    gateway = await startGatewayProcess(env, { timeoutMs: 60_000 });
    const client = createKeyedClient(gateway.baseUrl, credentials.apiKey);
    const endpoint = await client.send(
      'POST',
      '/v1/webhook-endpoints',
      { url: `http://127.0.0.1:${receiverPort}/kassa/webhooks`, enabled_events: ['*'] },
      'outage-endpoint',
    );
    expect(endpoint?.status).toBe(201);
    const { secret } = JSON.parse(endpoint!.body) as { secret: string };

    // 50 events: each checkout writes checkout.created and order.created.
    for (let i = 0; i < EVENTS / 2; i += 1) {
      const created = await client.send(
        'POST',
        '/v1/checkouts',
        checkoutRequest(simpleOrder('EUR', 'DE', 100 + i, `outage-${i}`)),
        `outage-${i}`,
      );
      expect(created?.status).toBe(201);
    }
    const eventIds = (
      await database.db.query<{ id: string }>(`SELECT id FROM events WHERE merchant_id = $1`, [merchant.id])
    ).rows.map((row) => row.id);
    expect(eventIds).toHaveLength(EVENTS);

    // Every delivery fails at least once while the receiver is down.
    const failedOnce = async () =>
      (
        await database.db.query<{ n: number }>(
          `SELECT count(DISTINCT d.id)::int AS n FROM webhook_deliveries d
           JOIN webhook_delivery_attempts a ON a.delivery_id = d.id
          WHERE d.endpoint_id = $1 AND a.result = 'failed'`,
          [JSON.parse(endpoint!.body).id],
        )
      ).rows[0]!.n;
    await waitUntil(
      async () => (await failedOnce()) === EVENTS,
      20_000,
      async () => `${await failedOnce()} failed`,
    );

    // A deploy during the outage: graceful stop (deliveries in flight are finished or given back), start again.
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    gateway = await startGatewayProcess(env, { timeoutMs: 60_000 });

    // The receiver comes back on its address.
    receiver = await startReceiverOnPort(receiverPort);
    const distinct = () =>
      new Set(receiver!.received.map((webhook) => String(webhook.headers['webhook-id']))).size;
    await waitUntil(
      async () => distinct() >= EVENTS,
      40_000,
      () => `${distinct()} of ${EVENTS} delivered`,
    );

    const delivered = new Map<string, number>();
    for (const webhook of receiver.received) {
      const payload = verifyWebhook(secret, webhook) as { type: string };
      expect(['checkout.created', 'order.created']).toContain(payload.type);
      const id = String(webhook.headers['webhook-id']);
      delivered.set(id, (delivered.get(id) ?? 0) + 1);
    }
    expect(new Set(delivered.keys())).toEqual(new Set(eventIds));
    const rows = async () =>
      (
        await database.db.query<{ status: string; attempts: number }>(
          `SELECT d.status, d.attempt_count AS attempts FROM webhook_deliveries d
          WHERE d.endpoint_id = $1`,
          [JSON.parse(endpoint!.body).id],
        )
      ).rows;
    await waitUntil(
      async () => (await rows()).every((row) => row.status === 'succeeded'),
      10_000,
      async () => JSON.stringify(await rows()),
    );
    const deliveries = await rows();
    expect(deliveries).toHaveLength(EVENTS);
    for (const row of deliveries) expect(row.attempts).toBeGreaterThanOrEqual(2);
    console.log(
      `webhook outage: ${EVENTS} events, ${receiver.received.length} deliveries after the receiver came back; ` +
        `attempts per delivery ${Math.min(...deliveries.map((row) => row.attempts))}–${Math.max(...deliveries.map((row) => row.attempts))}`,
    );
  },
);
