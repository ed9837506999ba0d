/**
 * Crash safety of webhook delivery with the real gateway process (`node bin/kassa.js serve`): SIGKILL it
 * while deliveries are in flight, start it again, and every event still reaches the receiver — at least
 * once, always with its own `webhook-id` and a signature the `standardwebhooks` library accepts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { emitEvent } from '../../../src/modules/events/event.repository.ts';
import { createMerchantWithCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';
import { startGatewayProcess, type GatewayProcess } from '../../fixtures/gateway-process.ts';
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from './webhook-receiver.ts';

const EVENTS = 300;
let database: TestDatabase;
let receiver: WebhookReceiver;
let dataDir: string;
let gateway: GatewayProcess | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-webhook-crash-'));
  // Slow enough answers that many deliveries are in flight when the gateway dies.
  receiver = await startWebhookReceiver(() => ({ status: 200, delayMs: 40 }));
});

afterAll(async () => {
  gateway?.child.kill('SIGKILL');
  await gateway?.exited;
  await receiver.close();
  await database.close();
  await rm(dataDir, { recursive: true, force: true });
});

it('delivers every event after a SIGKILL mid-delivery and a restart', { timeout: 150_000 }, async () => {
  const env = {
    DATABASE_URL: database.connectionString,
    KASSA_ENV: 'test',
    KASSA_DATA_DIR: dataDir,
    KASSA_WEBHOOK_RETRY_SCHEDULE: '0.2,0.5,1,1,1,1,1,1',
    // Short leases so the dead process's claims come back within the test; the receiver answers in 40 ms.
    KASSA_WEBHOOK_LEASE_SECONDS: '2',
  };
  const { credentials } = await database.db.transaction((tx) =>
    createMerchantWithCredentials(tx, { name: 'Crash Shop', livemode: false }),
  );
  gateway = await startGatewayProcess(env, { timeoutMs: 60_000 });
  const created = await fetch(`${gateway.baseUrl}/v1/webhook-endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credentials.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${receiver.url}/crash`, enabled_events: ['*'] }),
  });
  expect(created.status).toBe(201);
  const { secret } = (await created.json()) as { secret: string };

  const eventIds = await database.db.transaction(async (tx) => {
    const ids: string[] = [];
    for (let n = 0; n < EVENTS; n += 1) {
      const { id } = await emitEvent(tx, {
        merchantId: credentials.merchantId,
        livemode: false,
        type: 'payment.succeeded',
        data: { object: 'payment', n, amount: 100 + n, currency: 'EUR' },
      });
      ids.push(id);
    }
    return ids;
  });

  await receiver.waitFor((received) => received.length >= 150, 30_000);
  gateway.child.kill('SIGKILL');
  await gateway.exited;
  const { rows: unfinished } = await database.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
      WHERE e.merchant_id = $1 AND d.status <> 'succeeded'`,
    [credentials.merchantId],
  );
  const { rows: notFannedOut } = await database.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM events WHERE merchant_id = $1 AND fanout_state = 'pending'`,
    [credentials.merchantId],
  );
  // The kill really happened mid-way: work was left unfinished.
  expect(unfinished[0]!.n + notFannedOut[0]!.n).toBeGreaterThan(0);
  const receivedBeforeRestart = receiver.received.length;
  expect(receivedBeforeRestart).toBeLessThan(EVENTS);

  gateway = await startGatewayProcess(env, { timeoutMs: 60_000 });
  await receiver.waitFor(
    (received) => new Set(received.map((r) => String(r.headers['webhook-id']))).size >= EVENTS,
    60_000,
  );

  const received = new Map<string, number>();
  for (const webhook of receiver.received) {
    const payload = verifyWebhook(secret, webhook) as { type: string; data: { n: number } };
    const id = String(webhook.headers['webhook-id']);
    expect(eventIds[payload.data.n]).toBe(id); // the same webhook-id for the same event, before and after
    received.set(id, (received.get(id) ?? 0) + 1);
  }
  expect(new Set(received.keys())).toEqual(new Set(eventIds));
  await expect
    .poll(
      async () =>
        (
          await database.db.query<{ status: string; n: number }>(
            `SELECT d.status, count(*)::int AS n FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
              WHERE e.merchant_id = $1 GROUP BY d.status`,
            [credentials.merchantId],
          )
        ).rows,
      { timeout: 10_000 },
    )
    .toEqual([{ status: 'succeeded', n: EVENTS }]);
  const duplicates = [...received.values()].filter((count) => count > 1).length;
  console.log(
    `crash recovery: ${receivedBeforeRestart} received before SIGKILL, ${receiver.received.length} in all, ` +
      `${duplicates} events delivered more than once (at-least-once)`,
  );
});
