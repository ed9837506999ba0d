import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadScaleHistory,
  scaleSizes,
  SCALE_MERCHANTS,
  type ScaleHistoryResult,
} from '../../bench/scale-history.ts';
import { createKeyring } from '../../src/lib/keyring.ts';
import { SECRET_PURPOSE } from '../../src/modules/webhooks/webhook-endpoint.service.ts';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.ts';

/**
 * The history of `npm run bench -- --scale` (bench/scale-history.ts), at a small size on the embedded
 * PostgreSQL: the rows it promises are there, and they hold together the way the gateway's own writes do —
 * what the schema's constraints cannot check (sums across tables, statuses that agree) is checked here, so
 * the generator cannot drift from the schema or the state machines unnoticed. Not timed.
 */

const SCALE = 0.004; // 500 closed orders, 200 open checkouts
const BENCH_MERCHANT = 'mer_scale_bench';
const NOW = new Date();

describe('scale history generator', () => {
  let database: TestDatabase;
  let client: pg.PoolClient;
  let loaded: ScaleHistoryResult;
  const keyring = createKeyring(randomBytes(32));

  const one = async <Row extends pg.QueryResultRow>(sql: string, values?: unknown[]) =>
    (await client.query<Row>(sql, values)).rows[0]!;
  const count = async (sql: string, values?: unknown[]) =>
    Number((await one<{ n: string }>(`SELECT count(*) AS n FROM (${sql}) AS q`, values)).n);

  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 2 });
    client = await database.pool.connect();
    await client.query(`INSERT INTO merchants (id, name, api_version) VALUES ($1, 'Bench', '2026-12-06')`, [
      BENCH_MERCHANT,
    ]);
    loaded = await loadScaleHistory(client, {
      scale: SCALE,
      benchMerchantId: BENCH_MERCHANT,
      webhookSecretEncrypted: keyring.encrypt(SECRET_PURPOSE, 'whsec_scale_history'),
      now: NOW,
    });
  }, 120_000);
  afterAll(async () => {
    client?.release();
    await database?.close();
  });

  it('writes the sizes it promises, spread over the merchants, the bench merchant among them', async () => {
    const { closedOrders, openCheckouts } = scaleSizes(SCALE);
    const { counts } = loaded;
    expect(counts.merchants).toBe(SCALE_MERCHANTS);
    expect(counts.orders).toBe(closedOrders + openCheckouts);
    expect(counts.checkouts).toBe(closedOrders + openCheckouts);
    expect(counts.open_checkouts).toBe(openCheckouts);
    // Per order ≈ 7.6 events (8 for a payment); every event went to its merchant's endpoint once.
    expect(counts.events).toBeGreaterThanOrEqual(7 * closedOrders + 2 * openCheckouts);
    expect(counts.webhook_deliveries).toBeGreaterThanOrEqual(counts.events!);
    expect(counts.payments).toBeGreaterThan(0.7 * closedOrders);
    expect(counts.captures).toBeGreaterThan(counts.payments! * 0.7);
    expect(counts.refunds).toBeGreaterThan(0);
    // The numbers the loader reports are the tables' own.
    expect(counts.events).toBe(await count('SELECT 1 FROM events'));
    const perMerchant = await client.query<{ merchant_id: string; n: string }>(
      'SELECT merchant_id, count(*) AS n FROM orders GROUP BY merchant_id',
    );
    expect(perMerchant.rows).toHaveLength(SCALE_MERCHANTS);
    const bench = perMerchant.rows.find((row) => row.merchant_id === BENCH_MERCHANT);
    expect(Number(bench?.n)).toBeGreaterThan(0.1 * counts.orders!);
  });

  it('has every status of the history, and a full-size run reaches the issue sizes', async () => {
    const statuses = async (table: string) =>
      (
        await client.query<{ status: string }>(`SELECT DISTINCT status FROM ${table} ORDER BY status`)
      ).rows.map((row) => row.status);
    expect(await statuses('checkouts')).toEqual(['CANCELED', 'COMPLETED', 'EXPIRED', 'OPEN']);
    expect(await statuses('orders')).toEqual([
      'AUTHORIZED',
      'CANCELED',
      'CREATED',
      'EXPIRED',
      'PAID',
      'PARTIALLY_REFUNDED',
      'REFUNDED',
    ]);
    expect(await statuses('payments')).toEqual(['AUTHORIZED', 'REJECTED', 'SUCCEEDED']);
    expect(await statuses('webhook_deliveries')).toEqual(['failed', 'succeeded']);
    const full = scaleSizes(1);
    expect(full.closedOrders + full.openCheckouts).toBeGreaterThanOrEqual(100_000);
    expect(full.openCheckouts).toBeGreaterThanOrEqual(50_000);
    // Events per order at this size, extrapolated: the full size writes ≥ 1,000,000 events and deliveries.
    const perOrder =
      (loaded.counts.events! - 2 * scaleSizes(SCALE).openCheckouts) / scaleSizes(SCALE).closedOrders;
    expect(perOrder * full.closedOrders * 0.97 + 2 * full.openCheckouts).toBeGreaterThanOrEqual(1_000_000);
  });

  it('keeps the money consistent: captures and refunds sum to the payment, the order agrees', async () => {
    expect(
      await count(`SELECT p.id FROM payments p
        LEFT JOIN (SELECT payment_id, sum(amount) AS s FROM captures WHERE status = 'SUCCEEDED' GROUP BY payment_id) c ON c.payment_id = p.id
        LEFT JOIN (SELECT payment_id, sum(amount) AS s FROM refunds WHERE status = 'SUCCEEDED' GROUP BY payment_id) r ON r.payment_id = p.id
        WHERE coalesce(c.s, 0) <> p.captured_amount OR coalesce(r.s, 0) <> p.refunded_amount
           OR p.captured_amount > p.amount OR p.amount <> (SELECT total_amount FROM orders o WHERE o.id = p.order_id)`),
    ).toBe(0);
    expect(
      await count(`SELECT o.id FROM orders o
        LEFT JOIN payments p ON p.order_id = o.id AND p.status IN ('AUTHORIZED', 'SUCCEEDED')
        WHERE o.captured_amount <> coalesce(p.captured_amount, 0) OR o.refunded_amount <> coalesce(p.refunded_amount, 0)
           OR o.authorized_amount <> coalesce(p.authorized_amount, 0)
           OR o.merchant_id <> (SELECT merchant_id FROM checkouts c WHERE c.id = o.checkout_id)`),
    ).toBe(0);
  });

  it('keeps the statuses in agreement across checkout, order and payment', async () => {
    const allowed = [
      // checkout, order, payment (none: no payment)
      'OPEN/CREATED/none',
      'OPEN/CREATED/REJECTED',
      'COMPLETED/PAID/SUCCEEDED',
      'COMPLETED/PARTIALLY_REFUNDED/SUCCEEDED',
      'COMPLETED/REFUNDED/SUCCEEDED',
      'COMPLETED/AUTHORIZED/AUTHORIZED',
      'EXPIRED/EXPIRED/none',
      'EXPIRED/EXPIRED/REJECTED',
      'CANCELED/CANCELED/none',
    ];
    const { rows } = await client.query<{ combination: string }>(
      `SELECT DISTINCT c.status || '/' || o.status || '/' || coalesce(p.status, 'none') AS combination
         FROM checkouts c JOIN orders o ON o.checkout_id = c.id LEFT JOIN payments p ON p.checkout_id = c.id`,
    );
    expect(rows.map((row) => row.combination).filter((c) => !allowed.includes(c))).toEqual([]);
    // Nothing for the gateway's workers to act on: open checkouts not yet due, no payment in flight.
    expect(
      await count(
        `SELECT 1 FROM checkouts WHERE status = 'OPEN' AND expires_at < $1::timestamptz + interval '1 hour'`,
        [NOW],
      ),
    ).toBe(0);
    expect(
      await count(`SELECT 1 FROM checkouts WHERE status <> 'OPEN' AND active_payment_id IS NOT NULL`),
    ).toBe(0);
    expect(
      await count(
        `SELECT 1 FROM checkouts WHERE payment_started <> EXISTS (SELECT 1 FROM payments p WHERE p.checkout_id = checkouts.id)`,
      ),
    ).toBe(0);
    expect(
      await count(`SELECT 1 FROM payments WHERE status IN ('PENDING', 'REQUIRES_ACTION') OR processing_since IS NOT NULL
                   OR (status = 'AUTHORIZED' AND capture_mode = 'automatic')`),
    ).toBe(0);
    expect(
      await count(`SELECT 1 FROM webhook_deliveries WHERE status = 'pending' OR completed_at IS NULL`),
    ).toBe(0);
    expect(await count(`SELECT 1 FROM events WHERE fanout_state <> 'done'`)).toBe(0);
    // The events trigger ran for every payment outcome and had nothing to queue (no notification callback).
    expect(loaded.counts.callback_notifications).toBe(0);
  });

  it('fans each event out exactly as the gateway would: one delivery per matching endpoint', async () => {
    expect(
      await count(`SELECT e.id FROM events e JOIN webhook_endpoints ep ON ep.merchant_id = e.merchant_id
        AND ep.created_at <= e.created_at AND (ep.deleted_at IS NULL OR ep.deleted_at > e.created_at)
        LEFT JOIN webhook_deliveries d ON d.event_id = e.id AND d.endpoint_id = ep.id AND d.origin = 'event'
        WHERE d.id IS NULL`),
    ).toBe(0);
    expect(
      await count(
        `SELECT 1 FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.merchant_id <> e.merchant_id OR d.created_at < e.created_at OR d.completed_at < d.created_at
           OR d.completed_at > $1::timestamptz`,
        [NOW],
      ),
    ).toBe(0);
    // The bench merchant's history endpoint is gone, so the bench's new events reach only its own endpoints.
    expect(
      await count(`SELECT 1 FROM webhook_endpoints WHERE merchant_id = $1 AND deleted_at IS NULL`, [
        BENCH_MERCHANT,
      ]),
    ).toBe(0);
    expect(
      await count(
        `SELECT 1 FROM events WHERE created_at > $1::timestamptz UNION ALL
         SELECT 1 FROM orders WHERE updated_at > $1::timestamptz UNION ALL
         SELECT 1 FROM payments WHERE updated_at > $1::timestamptz UNION ALL
         SELECT 1 FROM refunds WHERE updated_at > $1::timestamptz`,
        [NOW],
      ),
    ).toBe(0);
    // Events are numbered in time order, as when they are written live.
    expect(
      await count(
        `SELECT 1 FROM (SELECT created_at < lag(created_at) OVER (ORDER BY seq) AS back FROM events) q WHERE back`,
      ),
    ).toBe(0);
  });

  it('writes each event with the ids of its order, checkout and payment', async () => {
    expect(
      await count(`SELECT 1 FROM events e LEFT JOIN orders o ON o.id = e.order_id
        WHERE o.id IS NULL OR o.checkout_id <> e.checkout_id OR e.created_at < o.created_at OR e.merchant_id <> o.merchant_id
           OR (e.type LIKE 'payment.%' AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = e.payment_id AND p.order_id = o.id))
           OR (e.type LIKE 'refund.%' AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.id = e.object_id AND r.payment_id = e.payment_id))`),
    ).toBe(0);
    // The schema's CHECK constraints were enforced on the way in; a re-validation proves the same of the whole.
    const { rows } = await client.query<{ conname: string; table: string }>(
      `SELECT conname, conrelid::regclass::text AS table FROM pg_constraint
        WHERE contype IN ('c', 'f') AND conrelid::regclass::text IN
          ('merchants', 'customers', 'checkouts', 'orders', 'payments', 'captures', 'refunds', 'events', 'webhook_endpoints', 'webhook_deliveries')`,
    );
    expect(rows.length).toBeGreaterThan(20);
    for (const row of rows) {
      await client.query(
        `ALTER TABLE ${row.table} DROP CONSTRAINT ${row.conname}, ADD CONSTRAINT ${row.conname} ${
          (
            await one<{ def: string }>(
              'SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass',
              [row.conname, row.table],
            )
          ).def
        }`,
      );
    }
  });
});
