/**
 * Fault test: SIGKILL the real gateway process (`kassa serve`) in the middle of a burst of 200 keyed
 * "create a checkout, then pay it" operations, start it again, and let the clients retry with the same
 * Idempotency-Keys, as a merchant's server would. Then, from both sides — Kassa's rows and API, and the
 * sandbox acquirer's own ledger — every operation happened exactly once:
 *
 * - one checkout per key; every retried key answered with the same status and body;
 * - every payment authorized at most once at the sandbox, every checkout charged at most once, every API
 *   payment matching the sandbox (status, amount, captured amount) and every sandbox authorization
 *   belonging to an API payment;
 * - nothing left `processing` past the recovery time (clients that "crashed too" and never retried
 *   included: the recovery worker settles their payments);
 * - no half-written rows; every event delivered to the merchant's webhook endpoint.
 */
import { mkdtemp, rm } from 'node:fs/promises';
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
  createKeyedClient,
  findInconsistencies,
  runPool,
  sleep,
  waitUntil,
  type Answer,
  WITHOUT_CARD_TESTING_LIMITS,
} from './fault-fixtures.ts';

const OPERATIONS = 200;
const CONCURRENCY = 16;
const KILL_AFTER_PAYMENTS = 70;
const RECOVERY_MS = 5_000;
/** The recovery worker's period for RECOVERY_MS (a third of it), with its ±20 % jitter. */
const RECOVERY_PERIOD_MS = (RECOVERY_MS / 3) * 1.2;

let database: TestDatabase;
let receiver: WebhookReceiver;
let dataDir: string;
let gateway: GatewayProcess | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-fault-crash-'));
  receiver = await startWebhookReceiver(() => ({ status: 204 }));
});

afterAll(async () => {
  gateway?.child.kill('SIGKILL');
  await gateway?.exited;
  await receiver?.close();
  await database?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Operation i: its checkout (automatic or manual capture) and how it is paid. Mostly approved cards. */
function operation(i: number) {
  const methods = [
    cardMethod(),
    cardMethod(),
    cardMethod(),
    cardMethod(),
    cardMethod(TEST_CARDS.declined),
    { type: 'invoice' },
    cardMethod(),
    cardMethod(TEST_CARDS.threeDSecure),
    cardMethod(),
    cardMethod(TEST_CARDS.insufficientFunds),
  ];
  return {
    checkoutKey: `crash-${i}-checkout`,
    paymentKey: `crash-${i}-pay`,
    checkout: checkoutRequest(simpleOrder('EUR', 'DE', 1_000 + i, `crash-order-${i}`), {
      capture_mode: i % 2 ? 'manual' : 'automatic',
    }),
    method: methods[i % methods.length],
    // A tenth of the clients "crash too": a payment request cut off by the kill is never retried by them.
    abandonsOnCrash: i % 10 === 3,
  };
}

it(
  'SIGKILL during a burst of 200 keyed create + pay: every operation happens exactly once',
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
      KASSA_DATA_DIR: dataDir,
      KASSA_PAYMENT_RECOVERY_MS: String(RECOVERY_MS),
      // Slow acquirer answers (30 ms before the ledger, 30 ms after it) widen both windows a crash can hit:
      // "intent written, processor not called yet" and "processor acted, answer not recorded yet".
      KASSA_SANDBOX_FAULTS: JSON.stringify({ latencyMs: 30, responseDelayMs: 30 }),
      KASSA_WEBHOOK_LEASE_SECONDS: '2',
      KASSA_WEBHOOK_RETRY_SCHEDULE: '0.5,1,1,1,2,2,2,2',
    };
    const { merchant, credentials } = await database.db.transaction((tx) =>
      createMerchantWithCredentials(tx, { name: 'Crash Shop', livemode: false, cardDataPermitted: true }),
    );
    gateway = await startGatewayProcess(env, { timeoutMs: 60_000 });
    const port = gateway.port;
    const firstPid = gateway.child.pid;
    const client = createKeyedClient(gateway.baseUrl, credentials.apiKey);

    const endpoint = await client.send(
      'POST',
      '/v1/webhook-endpoints',
      { url: `${receiver.url}/kassa`, enabled_events: ['*'] },
      'crash-endpoint',
    );
    expect(endpoint?.status).toBe(201);
    const { secret } = JSON.parse(endpoint!.body) as { secret: string };

    // The burst. After KILL_AFTER_PAYMENTS payments were answered, the gateway is killed and restarted on the
    // same port; the clients keep retrying their current request with the same key until it answers.
    let paymentsAnswered = 0;
    let killed = false;
    let restartedAt = 0;
    const abandoned: string[] = [];
    const answeredBeforeKill = new Map<string, Answer>();
    let crash: Promise<void> | undefined;
    let processingAtKill = 0;
    const killAndRestart = async () => {
      gateway!.child.kill('SIGKILL');
      await gateway!.exited;
      for (const [key, answers] of client.answers) answeredBeforeKill.set(key, answers[0]!);
      const { rows } = await database.db.query(
        `SELECT id FROM payments WHERE merchant_id = $1 AND processing_since IS NOT NULL`,
        [merchant.id],
      );
      processingAtKill = rows.length;
      gateway = await startGatewayProcess(env, { timeoutMs: 60_000, port });
      restartedAt = Date.now();
    };

    // Watches, while the clients are still retrying, that no payment stays processing longer than the
    // recovery time (plus one worker period and a margin) once the gateway is back.
    const overdue: unknown[] = [];
    let watching = true;
    const watcher = (async () => {
      const bound = RECOVERY_MS + RECOVERY_PERIOD_MS + 5_000;
      while (watching) {
        if (restartedAt && Date.now() > restartedAt + RECOVERY_PERIOD_MS + 5_000) {
          const { rows } = await database.db.query(
            `SELECT id, processing_since FROM payments
            WHERE merchant_id = $1 AND processing_since < $2::timestamptz - make_interval(secs => $3)`,
            [merchant.id, new Date(), bound / 1000],
          );
          overdue.push(...rows);
        }
        await sleep(250);
      }
    })();

    const checkoutIds = new Map<number, string>();
    await runPool(
      Array.from({ length: OPERATIONS }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        const op = operation(i);
        const created = await client.send('POST', '/v1/checkouts', op.checkout, op.checkoutKey);
        expect(created?.status, created?.body).toBe(201);
        const checkoutId = (JSON.parse(created!.body) as { checkout_id: string }).checkout_id;
        checkoutIds.set(i, checkoutId);
        const paid = await client.send(
          'POST',
          '/v1/payments',
          { checkout_id: checkoutId, payment_method: op.method },
          op.paymentKey,
          { giveUp: () => killed && op.abandonsOnCrash },
        );
        if (!paid) {
          abandoned.push(op.paymentKey);
          return;
        }
        expect([201, 202], paid.body).toContain(paid.status);
        paymentsAnswered += 1;
        if (paymentsAnswered === KILL_AFTER_PAYMENTS && !killed) {
          killed = true;
          crash = killAndRestart();
        }
      },
    );
    await crash;
    watching = false;
    await watcher;
    expect(killed).toBe(true);
    expect(overdue, 'payments processing past the recovery time').toEqual([]);
    expect(gateway.child.pid).not.toBe(firstPid);
    expect(client.transientFailures, 'the kill cut requests off').toBeGreaterThan(0);

    // Nothing stays processing past the recovery time — including the payments of clients that gave up.
    const settleBy = () =>
      Math.max(restartedAt, Date.now() - RECOVERY_MS) + RECOVERY_MS + RECOVERY_PERIOD_MS + 5_000;
    const deadline = settleBy();
    const unsettled = async () =>
      (
        await database.db.query<{ id: string; status: string }>(
          `SELECT p.id, p.status FROM payments p WHERE p.merchant_id = $1 AND (p.processing_since IS NOT NULL
            OR (p.status = 'AUTHORIZED' AND p.capture_mode = 'automatic')
            OR EXISTS (SELECT 1 FROM captures c WHERE c.payment_id = p.id AND c.status = 'PENDING'))`,
          [merchant.id],
        )
      ).rows;
    await waitUntil(
      async () => (await unsettled()).length === 0,
      deadline - Date.now(),
      async () => JSON.stringify(await unsettled()),
    );
    console.log(
      `gateway crash: ${processingAtKill} payments processing at the kill, none past the recovery time; ` +
        `${abandoned.length} clients gave up; the clients finished ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the restart`,
    );

    // Late retries of the clients that gave up: they get the recovered payment, never a second one.
    for (const key of abandoned) {
      const i = Number(/^crash-(\d+)-pay$/.exec(key)![1]);
      const answer = await client.send(
        'POST',
        '/v1/payments',
        { checkout_id: checkoutIds.get(i), payment_method: operation(i).method },
        key,
      );
      expect([201, 202]).toContain(answer!.status);
    }

    // Side 1 — the API: one checkout per key, and every key answers the same on a replay as it first did.
    const { rows: checkouts } = await database.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM checkouts WHERE merchant_id = $1`,
      [merchant.id],
    );
    expect(checkouts[0]!.n).toBe(OPERATIONS);
    expect(new Set(checkoutIds.values()).size).toBe(OPERATIONS);
    let replays = 0;
    await runPool(
      [...client.answers.keys()].filter((key) => key !== 'crash-endpoint'),
      8,
      async (key) => {
        const i = Number(/^crash-(\d+)-/.exec(key)![1]);
        const op = operation(i);
        const body = key.endsWith('-checkout')
          ? op.checkout
          : { checkout_id: checkoutIds.get(i), payment_method: op.method };
        const path = key.endsWith('-checkout') ? '/v1/checkouts' : '/v1/payments';
        const answers = client.answers.get(key)!;
        const replay = (await client.send('POST', path, body, key))!;
        replays += 1;
        expect(replay.replayed, `${key} replayed`).toBe(true);
        // Every answer the key ever got is the same answer, before and after the crash.
        for (const earlier of answers)
          expect({ key, status: earlier.status, body: earlier.body }).toEqual({
            key,
            status: replay.status,
            body: replay.body,
          });
        const beforeKill = answeredBeforeKill.get(key);
        if (beforeKill) expect(replay.body).toBe(beforeKill.body);
      },
    );
    expect(replays).toBe(OPERATIONS * 2);
    expect(answeredBeforeKill.size).toBeGreaterThanOrEqual(KILL_AFTER_PAYMENTS);

    // The API's view of every payment is what the rows say, and no payment object says `processing`.
    const paymentStatuses = new Map<string, string>();
    for (const [key, answers] of client.answers) {
      if (!key.endsWith('-pay')) continue;
      const { id } = JSON.parse(answers[0]!.body) as { id: string };
      const current = await client.get(`/v1/payments/${id}`);
      expect(current.status).toBe(200);
      const payment = current.json as { status: string; processing: boolean };
      expect(payment.processing).toBe(false);
      paymentStatuses.set(id, payment.status);
    }
    expect(paymentStatuses.size).toBe(OPERATIONS);

    // Side 2 — the sandbox ledger agrees with Kassa, to the unit.
    const comparison = await compareWithSandbox(database.db, merchant.id);
    expect(comparison.problems).toEqual([]);
    expect(comparison.payments).toBe(OPERATIONS);
    const { rows: perCheckout } = await database.db.query<{ checkout_id: string; n: number }>(
      `SELECT p.checkout_id, count(o.id)::int AS n FROM payments p
       LEFT JOIN sandbox_acquirer_operations o ON o.payment_id = p.id AND o.kind = 'authorize'
      WHERE p.merchant_id = $1 GROUP BY p.checkout_id HAVING count(o.id) > 1`,
      [merchant.id],
    );
    expect(perCheckout).toEqual([]);
    expect(await findInconsistencies(database.db, merchant.id)).toEqual([]);

    // Side 3 — the merchant's webhook receiver: every event arrives (at least once), correctly signed.
    const eventIds = async () =>
      (
        await database.db.query<{ id: string }>(`SELECT id FROM events WHERE merchant_id = $1`, [merchant.id])
      ).rows.map((row) => row.id);
    const expected = new Set(await eventIds());
    await receiver.waitFor(
      (received) => new Set(received.map((r) => String(r.headers['webhook-id']))).size >= expected.size,
      45_000,
    );
    const delivered = new Set<string>();
    for (const webhook of receiver.received) {
      verifyWebhook(secret, webhook);
      delivered.add(String(webhook.headers['webhook-id']));
    }
    expect([...expected].filter((id) => !delivered.has(id))).toEqual([]);
    expect(new Set(await eventIds()).size).toBe(expected.size); // nothing new happened meanwhile
    await sleep(0);
    console.log(
      `gateway crash: ${answeredBeforeKill.size} keys answered before SIGKILL, ${client.transientFailures} transient failures, ` +
        `${comparison.authorizations} sandbox authorizations for ${comparison.payments} payments, ` +
        `${expected.size} events delivered (${receiver.received.length} deliveries)`,
    );
  },
);
