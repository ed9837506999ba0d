import { afterAll, beforeAll, expect, it } from 'vitest';
import { runRetention } from '../../../src/workers/retention.worker.ts';
import { createTestClock, type TestClock } from '../../fixtures/clock.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createCheckout, checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import {
  authorizedPayment,
  cardMethod,
  createPaymentCheckout,
  get,
  payByApi,
  post,
  TEST_CARDS,
} from '../payments/payment-fixtures.ts';

/**
 * The retention worker (docs/operations.md, "Retention") prunes what is due — checkouts that expired with no
 * payment attempt (with their orders, events and deliveries), old webhook response bodies and delivery
 * history, idempotency records, spent throttling rows — in small batches, and leaves money alone: every
 * payment, capture and refund, and every event naming a payment, is byte-for-byte what it was.
 */

const DAY = 86_400_000;
let clock: TestClock;
let t: TestApp;
let merchant: TestMerchant;

beforeAll(async () => {
  clock = createTestClock(new Date(Date.now() - 400 * DAY));
  t = await createTestApp({ clock, env: { KASSA_RETENTION_BATCH_SIZE: '10' } });
  merchant = await t.createMerchant();
});

afterAll(async () => {
  await t?.close();
});

async function expireUnpaid(count: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const checkout = await createCheckout(
      t,
      merchant,
      checkoutRequest(simpleOrder('EUR', 'DE', 100 + i, `${prefix}-${i}`)),
    );
    const expired = await post(t, merchant, `/v1/checkouts/${checkout.checkout_id}/expire`);
    expect(expired.statusCode, expired.body).toBe(200);
    ids.push(checkout.checkout_id);
  }
  return ids;
}

/** Every money row, and every event that names a payment, as JSON: what must never change. */
async function moneySnapshot() {
  const q = (sql: string) => t.database.pool.query(sql).then((result) => JSON.stringify(result.rows));
  return {
    payments: await q('SELECT * FROM payments ORDER BY id'),
    captures: await q('SELECT * FROM captures ORDER BY id'),
    refunds: await q('SELECT * FROM refunds ORDER BY id'),
    events: await q(
      'SELECT id, type, payment_id, data, created_at FROM events WHERE payment_id IS NOT NULL ORDER BY id',
    ),
    paymentCheckouts: await q(
      'SELECT c.* FROM checkouts c WHERE EXISTS (SELECT 1 FROM payments p WHERE p.checkout_id = c.id) ORDER BY id',
    ),
  };
}

async function count(sql: string, values: unknown[] = []) {
  const { rows } = await t.database.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (${sql}) s`,
    values,
  );
  return rows[0]!.n;
}

it('prunes what is due in batches and leaves payments, captures, refunds and their events alone', async () => {
  // Money, 400 days ago: a manual payment captured in part and refunded in part, an automatic one, a declined
  // attempt on a checkout that then expired (a payment attempt is money: that checkout stays too).
  const manual = await authorizedPayment(t, merchant, { capture: 'manual', amount: 5_000 });
  const captured = await post(t, merchant, `/v1/payments/${manual.id}/capture`, { amount: 3_000 });
  expect(captured.statusCode, captured.body).toBeLessThan(300);
  const refunded = await post(t, merchant, `/v1/payments/${manual.id}/refunds`, { amount: 1_000 });
  expect(refunded.statusCode, refunded.body).toBeLessThan(300);
  const automatic = await authorizedPayment(t, merchant, { capture: 'automatic', amount: 2_500 });
  expect(automatic.status).toBe('SUCCEEDED');
  const declinedCheckout = await createPaymentCheckout(t, merchant, { amount: 700 });
  const declined = await payByApi(t, merchant, declinedCheckout.checkout_id, cardMethod(TEST_CARDS.declined));
  expect(declined.statusCode, declined.body).toBeLessThan(500);
  expect(
    (await post(t, merchant, `/v1/checkouts/${declinedCheckout.checkout_id}/expire`)).statusCode,
  ).toBeLessThan(500);

  // 25 checkouts that expired unpaid long ago (three batches of 10), then, 380 days later, 3 that just did.
  const oldUnpaid = await expireUnpaid(25, 'old');
  clock.advance(380 * DAY);
  const recentUnpaid = await expireUnpaid(3, 'recent');

  // Webhook history for every event: a delivered attempt with a body, at the event's time; one delivery still
  // pending (its body stays however old), and the recent events' attempts (their bodies stay).
  const endpoint = await post(t, merchant, '/v1/webhook-endpoints', {
    url: 'https://merchant.example/hooks',
    enabled_events: ['*'],
  });
  expect(endpoint.statusCode, endpoint.body).toBe(201);
  const endpointId = (endpoint.json() as { id: string }).id;
  // (events carry the database's time; the history is dated by the test clock: 380 days ago, or now)
  await t.database.pool.query(
    `INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin, status, attempt_count,
                                     created_at, completed_at)
     SELECT 'whd_' || seq, id, $1, merchant_id, livemode, 'event',
            CASE WHEN type = 'payment.succeeded' THEN 'pending' ELSE 'succeeded' END, 1,
            CASE WHEN checkout_id = ANY($2) THEN $3::timestamptz ELSE $4::timestamptz END,
            CASE WHEN checkout_id = ANY($2) THEN $3::timestamptz ELSE $4::timestamptz END
       FROM events`,
    [endpointId, recentUnpaid, clock.now(), new Date(clock.now().getTime() - 380 * DAY)],
  );
  await t.database.pool.query(
    `INSERT INTO webhook_delivery_attempts (delivery_id, attempt_number, attempted_at, url, status_code, latency_ms,
                                            result, response_excerpt)
     SELECT id, 1, created_at, 'https://merchant.example/hooks', 200, 12, 'succeeded', 'thanks' FROM webhook_deliveries`,
  );
  // Idempotency records: the API wrote some 380 days ago and just now; throttling rows spent and live.
  await t.database.pool.query(
    `INSERT INTO auth_failures (key, points, expire) VALUES ('spent', 3, $1), ('live', 2, $2)`,
    [clock.now().getTime() - 60_000, clock.now().getTime() + 60_000],
  );
  await t.database.pool.query(
    `INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
                                   request_fingerprint, state, locked_until, created_at)
     VALUES ($1, false, 'old-done', 'POST', '/v1/checkouts', 'f', 'completed', NULL, $2),
            ($1, false, 'old-abandoned', 'POST', '/v1/payments', 'f', 'in_progress', $2, $2),
            ($1, false, 'old-still-running', 'POST', '/v1/payments', 'f', 'in_progress', $4, $2),
            ($1, false, 'recent', 'POST', '/v1/checkouts', 'f', 'completed', NULL, $3)`,
    [
      merchant.merchantId,
      new Date(clock.now().getTime() - 2 * DAY),
      new Date(clock.now().getTime() - 60_000),
      new Date(clock.now().getTime() + 60_000),
    ],
  );
  const idempotencyBefore = await count('SELECT 1 FROM idempotency_keys');
  const recentIdempotency = await count('SELECT 1 FROM idempotency_keys WHERE created_at > $1', [
    new Date(clock.now().getTime() - DAY),
  ]);
  expect(idempotencyBefore).toBeGreaterThan(recentIdempotency);

  const moneyEventId = (
    await t.database.pool.query<{ id: string }>(
      `SELECT id FROM events WHERE payment_id = $1 AND type <> 'payment.succeeded' ORDER BY seq LIMIT 1`,
      [manual.id],
    )
  ).rows[0]!.id;
  const before = await moneySnapshot();
  expect(JSON.parse(before.captures)).toHaveLength(2); // the manual capture, the automatic one
  expect(JSON.parse(before.refunds)).toHaveLength(1);
  const pendingDeliveries = await count("SELECT 1 FROM webhook_deliveries WHERE status = 'pending'");
  expect(pendingDeliveries).toBeGreaterThan(0);

  const counts = await runRetention({ db: t.database.db, config: t.config, now: clock.now() });

  // Money: untouched.
  expect(await moneySnapshot()).toEqual(before);
  // Expired unpaid checkouts past 90 days: gone with their orders, events and deliveries; recent ones stay.
  expect(counts.expiredCheckouts).toBe(25);
  expect(await count('SELECT 1 FROM checkouts WHERE id = ANY($1)', [oldUnpaid])).toBe(0);
  expect(await count('SELECT 1 FROM orders WHERE checkout_id = ANY($1)', [oldUnpaid])).toBe(0);
  expect(await count('SELECT 1 FROM events WHERE checkout_id = ANY($1)', [oldUnpaid])).toBe(0);
  expect(await count('SELECT 1 FROM checkouts WHERE id = ANY($1)', [recentUnpaid])).toBe(3);
  expect(await count('SELECT 1 FROM events WHERE checkout_id = ANY($1)', [recentUnpaid])).toBeGreaterThan(0);
  expect(await count('SELECT 1 FROM checkouts WHERE id = $1', [declinedCheckout.checkout_id])).toBe(1);
  expect((await get(t, merchant, `/v1/checkouts/${oldUnpaid[0]}`)).statusCode).toBe(404);
  // Webhook history: deliveries over 365 days old and finished are gone (their events stay); bodies of
  // finished attempts over 30 days old are null; pending deliveries and recent attempts keep theirs.
  expect(counts.webhookHistory).toBeGreaterThan(0);
  expect(await count("SELECT 1 FROM webhook_deliveries WHERE status = 'pending'")).toBe(pendingDeliveries);
  expect(
    await count(
      `SELECT 1 FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
        WHERE d.status = 'pending' AND a.response_excerpt = 'thanks'`,
    ),
  ).toBe(pendingDeliveries);
  expect(
    await count(
      `SELECT 1 FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
        WHERE d.status <> 'pending' AND a.response_excerpt IS NOT NULL AND a.attempted_at < $1`,
      [new Date(clock.now().getTime() - 30 * DAY)],
    ),
  ).toBe(0);
  const recentBodies = await count(
    `SELECT 1 FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
      JOIN events e ON e.id = d.event_id WHERE e.checkout_id = ANY($1) AND a.response_excerpt = 'thanks'`,
    [recentUnpaid],
  );
  expect(recentBodies).toBeGreaterThan(0);
  const deliveries = await get(t, merchant, `/v1/events/${moneyEventId}/deliveries`);
  expect(deliveries.statusCode, deliveries.body).toBe(200);
  expect((deliveries.json() as { data: unknown[] }).data).toEqual([]);
  expect((await get(t, merchant, `/v1/events/${moneyEventId}`)).statusCode).toBe(200);
  // Idempotency records over 24 hours old, and spent throttling rows.
  // (a record of a request still running, however old, stays until its lease ends)
  expect(counts.idempotencyRecords).toBe(idempotencyBefore - recentIdempotency - 1);
  expect(await count('SELECT 1 FROM idempotency_keys')).toBe(recentIdempotency + 1);
  expect(await count("SELECT 1 FROM idempotency_keys WHERE idempotency_key = 'old-still-running'")).toBe(1);
  expect(counts.throttlingRows).toBe(1);
  expect(await count("SELECT 1 FROM auth_failures WHERE key = 'live'")).toBe(1);

  // Nothing more is due: a second run removes nothing.
  expect(await runRetention({ db: t.database.db, config: t.config, now: clock.now() })).toEqual({
    expiredCheckouts: 0,
    webhookBodies: 0,
    webhookHistory: 0,
    idempotencyRecords: 0,
    throttlingRows: 0,
  });
}, 120_000);

it('prunes response bodies of attempts between 30 and 365 days old while keeping the attempts', async () => {
  const payment = await authorizedPayment(t, merchant, { capture: 'automatic', amount: 900 });
  const { rows } = await t.database.pool.query<{ id: string }>(
    'SELECT id FROM events WHERE payment_id = $1 ORDER BY seq LIMIT 1',
    [payment.id],
  );
  const eventId = rows[0]!.id;
  const endpointId = (await t.database.pool.query<{ id: string }>('SELECT id FROM webhook_endpoints LIMIT 1'))
    .rows[0]!.id;
  const attemptedAt = new Date(clock.now().getTime() - 40 * DAY);
  await t.database.pool.query(
    `INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin, status, attempt_count, created_at, completed_at)
     VALUES ('whd_body', $1, $2, $3, false, 'redelivery', 'succeeded', 2, $4, $4)`,
    [eventId, endpointId, merchant.merchantId, attemptedAt],
  );
  await t.database.pool.query(
    `INSERT INTO webhook_delivery_attempts (delivery_id, attempt_number, attempted_at, url, status_code, latency_ms, result, error, response_excerpt)
     VALUES ('whd_body', 1, $1, 'https://merchant.example/hooks', 500, 40, 'failed', 'HTTP 500', 'oops'),
            ('whd_body', 2, $1, 'https://merchant.example/hooks', 200, 10, 'succeeded', NULL, 'thanks')`,
    [attemptedAt],
  );
  const counts = await runRetention({ db: t.database.db, config: t.config, now: clock.now() });
  expect(counts.webhookBodies).toBe(2);
  const deliveries = await get(t, merchant, `/v1/events/${eventId}/deliveries`);
  const delivery = (
    deliveries.json() as { data: { id: string; attempts: Record<string, unknown>[] }[] }
  ).data.find((candidate) => candidate.id === 'whd_body');
  expect(delivery!.attempts).toHaveLength(2);
  for (const attempt of delivery!.attempts) expect(attempt.response_excerpt).toBeNull();
  expect(delivery!.attempts.map((attempt) => attempt.status_code).sort()).toEqual([200, 500]);
});
