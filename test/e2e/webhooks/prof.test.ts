/**
 * Throughput of the webhook outbox: N events for one endpoint, fanned out and delivered by one worker to a
 * fast receiver on loopback (its own thread). Prints deliveries/s; asserts a conservative floor so a
 * regression that serialises the pipeline (per-delivery round trips, one send at a time) fails.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWebhookDeliveryWorker } from '../../../src/outbox/webhook-delivery.worker.ts';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';
import { startFastReceiver, type FastReceiver } from './fast-receiver.ts';

const EVENTS = Number(process.env.KASSA_THROUGHPUT_EVENTS ?? 20_000);
let t: TestApp;
let receiver: FastReceiver;

beforeAll(async () => {
  t = await createTestApp({ poolMax: 10 });
  receiver = await startFastReceiver();
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

it(`delivers ${EVENTS} webhooks quickly`, { timeout: 120_000 }, async () => {
  const merchant = await t.createMerchant();
  const created = await t.app.inject({
    method: 'POST',
    url: '/v1/webhook-endpoints',
    headers: merchant.headers,
    payload: { url: `${receiver.url}/hook`, enabled_events: ['*'] },
  });
  expect(created.statusCode).toBe(201);
  // Write the events in bulk (what many business transactions would have written), created after the endpoint.
  await t.services.db.query(
    `INSERT INTO events (id, merchant_id, livemode, type, object_id, data)
     SELECT 'evt_' || lpad(to_hex(g), 32, '0'), $1, false, 'payment.succeeded', 'pay_x',
            jsonb_build_object('object', 'payment', 'amount', g, 'currency', 'EUR', 'version', 1)
       FROM generate_series(1, $2) AS g`,
    [merchant.merchantId, EVENTS],
  );
  const stats = new Map<string, { n: number; ms: number; rows: number }>();
  const base = t.services.db;
  const timed = async (text: string, run: () => Promise<any>) => { const s = performance.now(); const r = await run(); const k = text.replace(/\s+/g, " ").slice(0, 50); const e = stats.get(k) ?? { n: 0, ms: 0, rows: 0 }; e.n++; e.ms += performance.now() - s; e.rows += r?.rowCount ?? 0; stats.set(k, e); return r; };
  const db = { ...base, query: (text: string, values?: unknown[]) => timed(text, () => base.query(text, values)), transaction: (work: any) => timed("TX", () => base.transaction((tx) => work({ query: (text: string, values?: unknown[]) => timed("tx:" + text, () => tx.query(text, values)) }))) } as any;
  const worker = createWebhookDeliveryWorker({
    db,
    egress: t.services.egress,
    keyring: t.services.keyring,
    clock: t.services.clock,
    logger: t.app.log,
    retrySchedule: [1],
    leaseSeconds: 60,
  });
  const started = performance.now();
  worker.start();
  let done = 0;
  while (done < EVENTS && performance.now() - started < 110_000) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { rows } = await t.services.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'succeeded'`,
    );
    done = rows[0]!.n;
  }
  const seconds = (performance.now() - started) / 1000;
  await worker.stop();
  const { count, unique } = await receiver.counts();
  console.log([...stats].map(([k, v]) => `${v.n}\t${v.ms.toFixed(0)}ms\t${v.rows}\t${k}`).join("\n"));
  console.log(`webhook throughput: ${EVENTS} deliveries in ${seconds.toFixed(2)} s = ${Math.round(EVENTS / seconds)}/s (received ${count}, unique ${unique})`);
  expect(done).toBe(EVENTS);
  expect(unique).toBe(EVENTS);
  expect(EVENTS / seconds).toBeGreaterThan(500);
});
