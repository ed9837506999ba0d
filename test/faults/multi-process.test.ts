/**
 * Several processes, for real (docs/operations.md, "Scaling"): three `kassa serve` processes on one database,
 * keyed "create a checkout, then pay it" traffic spread over them as a round-robin load balancer would, and
 * one of them SIGKILLed mid-burst; its clients fail over to the others with the same Idempotency-Keys. Then:
 *
 * - every payment happened exactly once: one checkout per key, at most one authorization per checkout at the
 *   sandbox acquirer, Kassa's payments and the acquirer's ledger agree to the unit, no duplicate captures;
 * - every webhook was delivered per the attempt policy: each event reaches the receiver, and no event more
 *   often than its delivery's claimed attempts (a second receipt exists only where the dead process had
 *   claimed the delivery, and its lease expired before another process sent it again);
 * - no work stays on the dead process's leases beyond their expiry: no payment processing, no pending
 *   capture, no pending fan-out, no pending webhook delivery once lease and recovery times have passed.
 *
 * Short leases (2 s webhook lease, 3 s payment recovery) keep the run well under a minute. It runs in the
 * normal suite, so CI runs it on both databases (the embedded server and the machine's PostgreSQL).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMerchantWithCredentials } from '../../src/modules/merchants/merchant.service.ts';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.ts';
import { startGatewayProcess, type GatewayProcess } from '../fixtures/gateway-process.ts';
import {
  startWebhookReceiver,
  verifyWebhook,
  type WebhookReceiver,
} from '../e2e/webhooks/webhook-receiver.ts';
import { cardMethod, TEST_CARDS } from '../e2e/payments/payment-fixtures.ts';
import { checkoutRequest, simpleOrder } from '../e2e/checkouts/checkout-fixtures.ts';
import {
  compareWithSandbox,
  findInconsistencies,
  runPool,
  sleep,
  waitUntil,
  WITHOUT_CARD_TESTING_LIMITS,
} from './fault-fixtures.ts';

const OPERATIONS = 150;
const CONCURRENCY = 12;
const KILL_AFTER_PAYMENTS = 50;
const RECOVERY_MS = 3_000;
const LEASE_SECONDS = 2;

let database: TestDatabase;
let receiver: WebhookReceiver;
let scratch: string;
const gateways: GatewayProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  scratch = await mkdtemp(path.join(tmpdir(), 'kassa-multi-process-'));
  receiver = await startWebhookReceiver(() => ({ status: 204 }));
});

afterAll(async () => {
  for (const gateway of gateways) gateway.child.kill('SIGKILL');
  await Promise.all(gateways.map((gateway) => gateway.exited));
  await receiver?.close();
  await database?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

type Answer = { status: number; body: string };

/** A client behind a round-robin balancer: request n goes to gateway n mod 3; a failure retries on the next. */
function balancedClient(apiKey: string) {
  let transientFailures = 0;
  let counter = 0;
  return {
    get transientFailures() {
      return transientFailures;
    },
    async send(method: string, url: string, body: unknown, key: string): Promise<Answer> {
      const started = Date.now();
      for (let attempt = 0; ; attempt += 1) {
        if (Date.now() - started > 60_000) throw new Error(`${method} ${url} [${key}]: no answer in 60 s`);
        const gateway = gateways[(counter += 1) % gateways.length]!;
        try {
          const response = await fetch(`${gateway.baseUrl}${url}`, {
            method,
            headers: {
              authorization: `Bearer ${apiKey}`,
              'content-type': 'application/json',
              'idempotency-key': key,
            },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(20_000),
          });
          const text = await response.text();
          // 409 in progress: the same key is still running (possibly on the dead process, until its lease ends).
          if (response.status >= 500 || response.status === 409) {
            transientFailures += 1;
            await sleep(Math.min(100 * 2 ** attempt, 500));
            continue;
          }
          return { status: response.status, body: text };
        } catch {
          transientFailures += 1;
          await sleep(50);
        }
      }
    },
  };
}

function operation(i: number) {
  const methods = [
    cardMethod(),
    cardMethod(),
    cardMethod(TEST_CARDS.declined),
    cardMethod(),
    { type: 'invoice' },
  ];
  return {
    checkout: checkoutRequest(simpleOrder('EUR', 'DE', 1_000 + i, `mp-order-${i}`), {
      capture_mode: i % 2 ? 'manual' : 'automatic',
    }),
    method: methods[i % methods.length],
  };
}

it(
  'three processes on one database, one SIGKILLed mid-burst: payments once, webhooks per policy, no stuck leases',
  { timeout: 120_000 },
  async () => {
    const env = {
      DATABASE_URL: database.connectionString,
      KASSA_ENV: 'test',
      // A short payment lease (src/http/idempotency.ts pipelineLeaseSeconds follows these timeouts): keys held by
      // the killed process become free within the test's retry deadline.
      KASSA_PROCESSOR_TIMEOUT_MS: '2000',
      KASSA_CALLBACK_CONNECT_TIMEOUT_MS: '500',
      KASSA_CALLBACK_RESPONSE_TIMEOUT_MS: '1000',
      ...WITHOUT_CARD_TESTING_LIMITS,
      KASSA_MASTER_KEY: randomBytes(32).toString('base64'),
      KASSA_DEMO: 'false',
      KASSA_PAYMENT_RECOVERY_MS: String(RECOVERY_MS),
      KASSA_SANDBOX_FAULTS: JSON.stringify({ latencyMs: 20, responseDelayMs: 20 }),
      KASSA_WEBHOOK_LEASE_SECONDS: String(LEASE_SECONDS),
      KASSA_WEBHOOK_RETRY_SCHEDULE: '0.5,1,1,1,2,2',
      KASSA_DB_POOL_MAX: '5',
    };
    const { merchant, credentials } = await database.db.transaction((tx) =>
      // It pays through the Processor API (raw card data), which a merchant must be allowed.
      createMerchantWithCredentials(tx, {
        name: 'Three Process Shop',
        livemode: false,
        cardDataPermitted: true,
      }),
    );
    // Each process has a data folder of its own (the demo merchant's credentials file; no database in it). It
    // exists beforehand: a start that creates the demo merchant writes there without creating the folder.
    const started = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const dataDir = path.join(scratch, `data-${n}`);
        await mkdir(dataDir);
        const gateway = await startGatewayProcess({ ...env, KASSA_DATA_DIR: dataDir });
        gateways.push(gateway); // at once: if another fails to start, afterAll still stops this one
        return gateway;
      }),
    );
    gateways.splice(0, gateways.length, ...started); // in start order: the victim is the third
    const victim = gateways[2]!;
    const client = balancedClient(credentials.apiKey);

    const endpoint = await client.send(
      'POST',
      '/v1/webhook-endpoints',
      { url: `${receiver.url}/kassa`, enabled_events: ['*'] },
      'mp-endpoint',
    );
    expect(endpoint.status, endpoint.body).toBe(201);
    const { secret } = JSON.parse(endpoint.body) as { secret: string };

    let paymentsAnswered = 0;
    let killedAt = 0;
    const burstStarted = Date.now();
    await runPool(
      Array.from({ length: OPERATIONS }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        const op = operation(i);
        const created = await client.send('POST', '/v1/checkouts', op.checkout, `mp-${i}-checkout`);
        expect(created.status, created.body).toBe(201);
        const checkoutId = (JSON.parse(created.body) as { checkout_id: string }).checkout_id;
        const paid = await client.send(
          'POST',
          '/v1/payments',
          { checkout_id: checkoutId, payment_method: op.method },
          `mp-${i}-pay`,
        );
        expect([201, 202], paid.body).toContain(paid.status);
        paymentsAnswered += 1;
        if (paymentsAnswered === KILL_AFTER_PAYMENTS) {
          victim.child.kill('SIGKILL');
          killedAt = Date.now();
          gateways.splice(gateways.indexOf(victim), 1); // the balancer's health check takes it out
        }
      },
    );
    const burstSeconds = (Date.now() - burstStarted) / 1000;
    expect(await victim.exited).toBe('SIGKILL');
    expect(killedAt).toBeGreaterThan(0);

    // No work stuck on the dead process's leases beyond their expiry (plus the workers' periods).
    const stuck = async () =>
      (
        await database.db.query<{ what: string; n: number }>(
          `SELECT 'payments processing' AS what, count(*)::int AS n FROM payments WHERE merchant_id = $1 AND processing_since IS NOT NULL
         UNION ALL SELECT 'automatic payments not captured', count(*)::int FROM payments
                    WHERE merchant_id = $1 AND status = 'AUTHORIZED' AND capture_mode = 'automatic'
         UNION ALL SELECT 'captures pending', count(*)::int FROM captures c JOIN payments p ON p.id = c.payment_id
                    WHERE p.merchant_id = $1 AND c.status = 'PENDING'
         UNION ALL SELECT 'events not fanned out', count(*)::int FROM events WHERE merchant_id = $1 AND fanout_state = 'pending'
         UNION ALL SELECT 'webhook deliveries pending', count(*)::int FROM webhook_deliveries WHERE merchant_id = $1 AND status = 'pending'`,
          [merchant.id],
        )
      ).rows.filter((row) => row.n > 0);
    const settleWithin = RECOVERY_MS + LEASE_SECONDS * 1000 + 20_000;
    await waitUntil(
      async () => (await stuck()).length === 0,
      settleWithin,
      async () => JSON.stringify(await stuck()),
    );
    const settledSeconds = (Date.now() - killedAt) / 1000;

    // Payments exactly once: one checkout per key, the sandbox ledger and Kassa agree, no second authorization
    // of a checkout, no duplicate capture.
    const count = async (sql: string) =>
      (await database.db.query<{ n: number }>(sql, [merchant.id])).rows[0]!.n;
    expect(await count('SELECT count(*)::int AS n FROM checkouts WHERE merchant_id = $1')).toBe(OPERATIONS);
    expect(await count('SELECT count(*)::int AS n FROM payments WHERE merchant_id = $1')).toBe(OPERATIONS);
    const comparison = await compareWithSandbox(database.db, merchant.id);
    expect(comparison.problems).toEqual([]);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM (SELECT p.checkout_id FROM payments p
         JOIN sandbox_acquirer_operations o ON o.payment_id = p.id AND o.kind = 'authorize'
        WHERE p.merchant_id = $1 GROUP BY p.checkout_id HAVING count(*) > 1) twice`,
      ),
    ).toBe(0);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM (SELECT c.payment_id FROM captures c JOIN payments p ON p.id = c.payment_id
        WHERE p.merchant_id = $1 AND c.status <> 'FAILED' GROUP BY c.payment_id HAVING count(*) > 1) twice`,
      ),
    ).toBe(0);
    expect(await findInconsistencies(database.db, merchant.id)).toEqual([]);

    // Webhooks per the attempt policy: every event received (signed), none more often than attempts were claimed.
    const { rows: deliveries } = await database.db.query<{
      event_id: string;
      attempts: number;
      status: string;
    }>(`SELECT event_id, attempt_count AS attempts, status FROM webhook_deliveries WHERE merchant_id = $1`, [
      merchant.id,
    ]);
    const { rows: events } = await database.db.query<{ id: string }>(
      'SELECT id FROM events WHERE merchant_id = $1',
      [merchant.id],
    );
    expect(deliveries).toHaveLength(events.length);
    expect(deliveries.filter((delivery) => delivery.status !== 'succeeded')).toEqual([]);
    const receipts = new Map<string, number>();
    for (const webhook of receiver.received) {
      verifyWebhook(secret, webhook);
      const id = String(webhook.headers['webhook-id']);
      receipts.set(id, (receipts.get(id) ?? 0) + 1);
    }
    const overDelivered = deliveries.filter(
      (delivery) => (receipts.get(delivery.event_id) ?? 0) > delivery.attempts,
    );
    expect(overDelivered).toEqual([]);
    expect(events.filter((event) => !receipts.has(event.id))).toEqual([]);
    const duplicates = [...receipts.values()].filter((n) => n > 1).length;

    console.log(
      `multi-process: ${OPERATIONS} create+pay over 3 processes in ${burstSeconds.toFixed(1)} s, one SIGKILLed after ` +
        `${KILL_AFTER_PAYMENTS} payments; ${client.transientFailures} requests retried on another process; all settled ` +
        `${settledSeconds.toFixed(1)} s after the kill; ${events.length} events, ${receiver.received.length} webhook ` +
        `receipts (${duplicates} events received twice: claimed by the dead process, re-sent after its lease)`,
    );
  },
);
