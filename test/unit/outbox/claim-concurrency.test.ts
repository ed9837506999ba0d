/**
 * The outbox under concurrency, on a real PostgreSQL database shared by two connection pools (two gateway
 * processes): fan-out and claims never hand one row to both, leases expire and come back, a stale lease
 * holder cannot overwrite the new holder, and two complete workers never deliver one (event, endpoint) twice.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, isUniqueViolation, type Database } from '../../../src/db/client.ts';
import { compileEgressPolicy, createEgressClient } from '../../../src/egress/index.ts';
import { systemClock } from '../../../src/lib/clock.ts';
import { newId, newSecret } from '../../../src/lib/ids.ts';
import { createKeyring } from '../../../src/lib/keyring.ts';
import { createMerchantWithCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import { insertWebhookEndpoint } from '../../../src/modules/webhooks/webhook-endpoint.repository.ts';
import { fanOutPendingEvents } from '../../../src/outbox/fan-out.repository.ts';
import {
  claimDueDeliveries,
  recordAttemptResults,
  type ClaimedDelivery,
} from '../../../src/outbox/webhook-delivery.repository.ts';
import { createWebhookDeliveryWorker } from '../../../src/outbox/webhook-delivery.worker.ts';
import { generateWebhookSecret } from '../../../src/outbox/webhook-signer.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';
import { startWebhookReceiver, verifyWebhook } from '../../e2e/webhooks/webhook-receiver.ts';

let database: TestDatabase;
let poolA: Database;
let poolB: Database;
const keyring = createKeyring(randomBytes(32));
const silent = { warn: () => {}, error: (object: object, message: string) => console.error(message, object) };

beforeAll(async () => {
  database = await createTestDatabase();
  poolA = database.db;
  poolB = createDatabase({ connectionString: database.connectionString, max: 10 });
});
afterAll(async () => {
  await poolB.close();
  await database.close();
});

async function merchantWithEndpoints(urls: string[]) {
  const { merchant } = await poolA.transaction((tx) =>
    createMerchantWithCredentials(tx, { name: 'Shop', livemode: false }),
  );
  const scope = { merchantId: merchant.id, livemode: false };
  const endpoints = [];
  for (const url of urls) {
    const secret = generateWebhookSecret();
    const endpoint = await insertWebhookEndpoint(poolA, {
      id: newId('whe'),
      scope,
      url,
      description: null,
      enabledEvents: ['*'],
      status: 'enabled',
      secretEncrypted: keyring.encrypt('webhook-secret-encryption', secret),
    });
    endpoints.push({ ...endpoint, secret });
  }
  return { scope, endpoints };
}

async function insertEvents(merchantId: string, count: number): Promise<string[]> {
  const { rows } = await poolA.query<{ id: string }>(
    `INSERT INTO events (id, merchant_id, livemode, type, object_id, data)
     SELECT 'evt_' || md5(random()::text || g), $1, false, 'payment.succeeded', 'pay_x', jsonb_build_object('n', g)
       FROM generate_series(1, $2) AS g RETURNING id`,
    [merchantId, count],
  );
  return rows.map((row) => row.id);
}

async function drainFanOut(db: Database) {
  let events = 0;
  let deliveries = 0;
  for (;;) {
    const result = await fanOutPendingEvents(db, 50);
    if (result.events === 0) return { events, deliveries };
    events += result.events;
    deliveries += result.deliveries;
  }
}

describe('fan-out', () => {
  it('two pools fanning out at once split the events and write each (event, endpoint) once', async () => {
    const { scope, endpoints } = await merchantWithEndpoints([
      'http://127.0.0.1:9/a',
      'http://127.0.0.1:9/b',
      'http://127.0.0.1:9/c',
    ]);
    const events = await insertEvents(scope.merchantId, 600);
    const [a, b] = await Promise.all([drainFanOut(poolA), drainFanOut(poolB)]);
    expect(a.events + b.events).toBe(600);
    expect(a.deliveries + b.deliveries).toBe(1800);
    expect(a.events).toBeGreaterThan(0);
    expect(b.events).toBeGreaterThan(0);
    const { rows } = await poolA.query<{ pairs: number; rows: number }>(
      `SELECT count(DISTINCT (event_id, endpoint_id))::int AS pairs, count(*)::int AS rows
         FROM webhook_deliveries WHERE event_id = ANY ($1)`,
      [events],
    );
    expect(rows[0]).toEqual({ pairs: 1800, rows: 1800 });
    expect(new Set(endpoints.map((e) => e.id)).size).toBe(3);
  });

  it('is idempotent: fanning an event out again writes nothing (unique (event_id, endpoint_id))', async () => {
    const { scope, endpoints } = await merchantWithEndpoints(['http://127.0.0.1:9/x']);
    const [eventId] = await insertEvents(scope.merchantId, 1);
    expect((await drainFanOut(poolA)).deliveries).toBe(1);
    await poolA.query(`UPDATE events SET fanout_state = 'pending' WHERE id = $1`, [eventId]); // as if it never finished
    expect(await drainFanOut(poolB)).toEqual({ events: 1, deliveries: 0 });
    const duplicate = poolA.query(
      `INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin) VALUES ($1, $2, $3, $4, false, 'event')`,
      [newId('del'), eventId, endpoints[0]!.id, scope.merchantId],
    );
    await expect(duplicate).rejects.toSatisfy((error) =>
      isUniqueViolation(error, 'webhook_deliveries_fanout_key'),
    );
  });

  it('sends an event only to endpoints of its merchant and mode that existed when it happened', async () => {
    const { scope } = await merchantWithEndpoints(['http://127.0.0.1:9/mine']);
    const other = await merchantWithEndpoints(['http://127.0.0.1:9/theirs']);
    const [eventId] = await insertEvents(scope.merchantId, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await insertWebhookEndpoint(poolA, {
      id: newId('whe'),
      scope,
      url: 'http://127.0.0.1:9/later',
      description: null,
      enabledEvents: ['*'],
      status: 'enabled',
      secretEncrypted: keyring.encrypt('webhook-secret-encryption', generateWebhookSecret()),
    });
    await drainFanOut(poolA);
    const { rows } = await poolA.query<{ url: string }>(
      `SELECT ep.url FROM webhook_deliveries d JOIN webhook_endpoints ep ON ep.id = d.endpoint_id WHERE d.event_id = $1`,
      [eventId],
    );
    expect(rows.map((r) => r.url)).toEqual(['http://127.0.0.1:9/mine']);
    expect(other.endpoints).toHaveLength(1);
  });
});

describe('claims and leases', () => {
  async function pendingDeliveries(count: number) {
    const { scope } = await merchantWithEndpoints(['http://127.0.0.1:9/claims']);
    await insertEvents(scope.merchantId, count);
    await drainFanOut(poolA);
    return scope;
  }

  it('two pools claiming at once get disjoint sets that cover every due delivery', async () => {
    await poolA.query(`UPDATE webhook_deliveries SET status = 'canceled' WHERE status = 'pending'`);
    await pendingDeliveries(500);
    const claimAll = async (db: Database) => {
      const ids: string[] = [];
      for (;;) {
        const claimed = await claimDueDeliveries(db, {
          limit: 25,
          leaseSeconds: 60,
          leaseToken: newSecret(12), // the worker's token size
        });
        if (claimed.length === 0) return ids;
        ids.push(...claimed.map((c) => c.id));
      }
    };
    const [a, b] = await Promise.all([claimAll(poolA), claimAll(poolB)]);
    expect(a.length + b.length).toBe(500);
    expect(new Set([...a, ...b]).size).toBe(500);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
  });

  it('leases a whole page of deliveries in place: every row of the claim is a HOT update', async () => {
    await poolA.query(`UPDATE webhook_deliveries SET status = 'canceled' WHERE status = 'pending'`);
    await pendingDeliveries(64);
    const pages = async () => {
      const { rows } = await poolA.query<{ id: string; page: string }>(
        `SELECT id, (ctid::text::point)[0]::text AS page FROM webhook_deliveries WHERE status = 'pending'`,
      );
      return new Map(rows.map((row) => [row.id, row.page]));
    };
    const before = await pages();
    expect(before.size).toBe(64);
    const claimed = await claimDueDeliveries(poolA, {
      limit: 64,
      leaseSeconds: 60,
      leaseToken: newSecret(12), // the worker's token size
    });
    expect(claimed).toHaveLength(64);
    // The claim changes no indexed column, so a row that stays on its page needs no new index entry. A page
    // too full for a second copy of all its rows (the lease is written to every one at once) moves some.
    expect(await pages()).toEqual(before);
    expect(new Set(before.values()).size).toBeGreaterThan(1); // the claim spans several full pages
  });

  it('reclaims expired leases, and fences the stale holder out', async () => {
    await poolA.query(`UPDATE webhook_deliveries SET status = 'canceled' WHERE status = 'pending'`);
    await pendingDeliveries(5);
    const first = await claimDueDeliveries(poolA, { limit: 10, leaseSeconds: 0.4, leaseToken: 'lease-a' });
    expect(first).toHaveLength(5);
    expect(first.every((c) => c.attemptNumber === 1)).toBe(true);
    expect(
      await claimDueDeliveries(poolB, { limit: 10, leaseSeconds: 60, leaseToken: 'lease-b' }),
    ).toHaveLength(0);

    await new Promise((resolve) => setTimeout(resolve, 500)); // holder A "crashed": its lease runs out
    const second = await claimDueDeliveries(poolB, { limit: 10, leaseSeconds: 60, leaseToken: 'lease-b' });
    expect(second.map((c) => c.id).sort()).toEqual(first.map((c) => c.id).sort());
    expect(second.every((c) => c.attemptNumber === 2)).toBe(true);

    const succeeded = (claimed: ClaimedDelivery) => ({
      deliveryId: claimed.id,
      leaseToken: claimed.leaseToken,
      outcome: 'succeeded' as const,
      retryInSeconds: null,
      error: null,
      attempt: {
        number: claimed.attemptNumber,
        attemptedAt: new Date(),
        url: claimed.url,
        statusCode: 200,
        latencyMs: 3,
        responseExcerpt: null,
        responseTruncated: false,
      },
    });
    // A comes back late: its attempts are recorded (they happened) but it cannot change the deliveries.
    expect((await recordAttemptResults(poolA, first.map(succeeded))).size).toBe(0);
    expect((await recordAttemptResults(poolB, second.map(succeeded))).size).toBe(5);
    const { rows } = await poolA.query<{ status: string; attempts: number; lease_token: string | null }>(
      `SELECT d.status, d.lease_token, (SELECT count(*)::int FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id) AS attempts
         FROM webhook_deliveries d WHERE d.id = ANY ($1)`,
      [first.map((c) => c.id)],
    );
    expect(rows.every((r) => r.status === 'succeeded' && r.attempts === 2 && r.lease_token === null)).toBe(
      true,
    );
  });
});

describe('two workers (two processes)', () => {
  it('deliver every (event, endpoint) exactly once between them', { timeout: 30_000 }, async () => {
    const receiver = await startWebhookReceiver(() => ({ status: 200, delayMs: 2 }));
    const { scope, endpoints } = await merchantWithEndpoints([`${receiver.url}/one`, `${receiver.url}/two`]);
    const makeWorker = (db: Database) =>
      createWebhookDeliveryWorker({
        db,
        egress: createEgressClient({ policy: compileEgressPolicy({ mode: 'development', allowList: [] }) }),
        keyring,
        clock: systemClock,
        logger: silent,
        retrySchedule: [0.2],
        leaseSeconds: 30,
        concurrency: 16,
        claimBatchSize: 40,
        fanOutBatchSize: 25,
      });
    const workers = [makeWorker(poolA), makeWorker(poolB)];
    workers.forEach((worker) => worker.start());
    const events = await insertEvents(scope.merchantId, 400);
    workers.forEach((worker) => worker.wake());
    try {
      await receiver.waitFor((received) => received.length >= 800, 25_000);
      await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would arrive now
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
      await receiver.close();
    }
    const keys = receiver.received.map((r) => `${r.path} ${String(r.headers['webhook-id'])}`);
    expect(keys).toHaveLength(800);
    expect(new Set(keys).size).toBe(800);
    const byPath = new Map(endpoints.map((e) => [new URL(e.url).pathname, e.secret]));
    for (const webhook of receiver.received) verifyWebhook(byPath.get(webhook.path)!, webhook);
    expect(new Set(receiver.received.map((r) => String(r.headers['webhook-id'])))).toEqual(new Set(events));
    const { rows } = await poolA.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE event_id = ANY ($1) GROUP BY status`,
      [events],
    );
    expect(rows).toEqual([{ status: 'succeeded', n: 800 }]);
  });

  it(
    'stop() records what was sent and gives back the leases of what was not',
    { timeout: 20_000 },
    async () => {
      const receiver = await startWebhookReceiver(() => ({ status: 200, delayMs: 300 }));
      const { scope } = await merchantWithEndpoints([`${receiver.url}/slow`]);
      const worker = createWebhookDeliveryWorker({
        db: poolA,
        egress: createEgressClient({ policy: compileEgressPolicy({ mode: 'development', allowList: [] }) }),
        keyring,
        clock: systemClock,
        logger: silent,
        retrySchedule: [0.2],
        leaseSeconds: 60,
        concurrency: 2,
      });
      const events = await insertEvents(scope.merchantId, 10);
      worker.start();
      await receiver.waitFor((received) => received.length >= 1);
      await worker.stop();
      await receiver.close();
      const { rows } = await poolA.query<{
        status: string;
        attempt_count: number;
        lease_token: string | null;
      }>(`SELECT status, attempt_count, lease_token FROM webhook_deliveries WHERE event_id = ANY ($1)`, [
        events,
      ]);
      expect(rows).toHaveLength(10);
      expect(rows.every((r) => r.lease_token === null)).toBe(true);
      const sent = rows.filter((r) => r.status === 'succeeded');
      expect(sent.length).toBe(receiver.received.length);
      expect(rows.filter((r) => r.status === 'pending').every((r) => r.attempt_count === 0)).toBe(true);
      expect(sent.length).toBeLessThan(10);
    },
  );

  it('never sends unsigned: a secret that does not decrypt is a failed attempt until the schedule runs out', async () => {
    const receiver = await startWebhookReceiver();
    const { scope } = await merchantWithEndpoints([`${receiver.url}/unsigned`]);
    const errors: string[] = [];
    const worker = createWebhookDeliveryWorker({
      db: poolA,
      egress: createEgressClient({ policy: compileEgressPolicy({ mode: 'development', allowList: [] }) }),
      keyring: createKeyring(randomBytes(32)), // another master key than the one that encrypted the secret
      clock: systemClock,
      logger: { warn: () => {}, error: (_object, message) => errors.push(message) },
      retrySchedule: [0.1],
      leaseSeconds: 60,
    });
    const [eventId] = await insertEvents(scope.merchantId, 1);
    worker.start();
    const deliveryOf = async () =>
      (
        await poolA.query<{ id: string; status: string }>(
          'SELECT id, status FROM webhook_deliveries WHERE event_id = $1',
          [eventId],
        )
      ).rows[0];
    try {
      await expect.poll(async () => (await deliveryOf())?.status, { timeout: 5_000 }).toBe('failed');
    } finally {
      await worker.stop();
      await receiver.close();
    }
    expect(receiver.received).toHaveLength(0);
    const { rows } = await poolA.query<{ error: string; status_code: number | null }>(
      'SELECT error, status_code FROM webhook_delivery_attempts WHERE delivery_id = $1 ORDER BY attempt_number',
      [(await deliveryOf())!.id],
    );
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.error.startsWith('signing_failed') && r.status_code === null)).toBe(true);
    expect(errors).toContain('cannot sign a webhook: the endpoint secret does not decrypt');
  });
});
