/**
 * Fault test: the acquirer misbehaves — slow answers, refusals like a 5xx before it acts, timeouts after it
 * acted (the answer is lost), an outage, and asynchronous notifications delivered twice. Every payment still
 * reaches a definite state (by the request itself, or by the recovery worker), and no request — retried with
 * its key, sent twice at once, or resumed by recovery — ever authorizes, captures or refunds twice: checked
 * against the sandbox acquirer's own ledger.
 *
 * Part 1 runs the real gateway process with `KASSA_SANDBOX_FAULTS` (and its real workers); part 2 an in-process
 * app whose sandbox faults are switched with `services.sandbox.setFaults`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMerchantWithCredentials } from '../../src/modules/merchants/merchant.service.ts';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.ts';
import { startGatewayProcess, type GatewayProcess } from '../fixtures/gateway-process.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../e2e/checkouts/checkout-fixtures.ts';
import { cardMethod, TEST_CARDS, type PaymentJson } from '../e2e/payments/payment-fixtures.ts';
import {
  compareWithSandbox,
  createKeyedClient,
  findInconsistencies,
  runPool,
  sleep,
  waitUntil,
} from './fault-fixtures.ts';

const DEFINITE = ['AUTHORIZED', 'SUCCEEDED', 'REJECTED', 'CANCELED', 'PENDING', 'REQUIRES_ACTION'];

describe('a flaky acquirer behind the real gateway process (KASSA_SANDBOX_FAULTS)', () => {
  const RECOVERY_MS = 5_000;
  /** The recovery worker's period (a third of RECOVERY_MS) with its jitter. */
  const PERIOD_MS = (RECOVERY_MS / 3) * 1.2;
  const PAYMENTS = 40;
  let database: TestDatabase;
  let dataDir: string;
  let gateway: GatewayProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-fault-sandbox-'));
  });
  afterAll(async () => {
    gateway?.child.kill('SIGKILL');
    await gateway?.exited;
    await database?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'timeouts, 5xx and slow answers: every payment definite, no retried request charges twice',
    { timeout: 90_000 },
    async () => {
      const { merchant, credentials } = await database.db.transaction((tx) =>
        createMerchantWithCredentials(tx, {
          name: 'Flaky Acquirer Shop',
          livemode: false,
          cardDataPermitted: true,
        }),
      );
      // Every call waits 40 ms; one in five is refused before the ledger (nothing happened, like a 5xx); three
      // in ten are recorded and then time out after 250 ms (it happened, the answer is lost). At random, so that
      // no retry loop falls in step with the faults.
      const faults = { latencyMs: 40, failRate: 0.1, timeoutMs: 250, timeoutRate: 0.2 };
      gateway = await startGatewayProcess(
        {
          DATABASE_URL: database.connectionString,
          KASSA_ENV: 'test',
          KASSA_DATA_DIR: dataDir,
          KASSA_PAYMENT_RECOVERY_MS: String(RECOVERY_MS),
          KASSA_SANDBOX_FAULTS: JSON.stringify(faults),
        },
        { timeoutMs: 60_000 },
      );
      const client = createKeyedClient(gateway.baseUrl, credentials.apiKey);
      const methods = [
        cardMethod(),
        cardMethod(),
        cardMethod(TEST_CARDS.declined),
        cardMethod(),
        { type: 'invoice' },
      ];

      // Pay: each request sent twice at once with the same key, then once more after the answer.
      const answeredAt = new Map<string, number>();
      let accepted = 0;
      await runPool(
        Array.from({ length: PAYMENTS }, (_, i) => i),
        8,
        async (i) => {
          const created = await client.send(
            'POST',
            '/v1/checkouts',
            checkoutRequest(simpleOrder('EUR', 'DE', 2_000 + i, `flaky-${i}`), {
              capture_mode: i % 2 ? 'manual' : 'automatic',
            }),
            `flaky-${i}-checkout`,
          );
          expect(created?.status).toBe(201);
          const body = {
            checkout_id: (JSON.parse(created!.body) as { checkout_id: string }).checkout_id,
            payment_method: methods[i % methods.length],
          };
          const key = `flaky-${i}-pay`;
          const [first, second] = await Promise.all([
            client.send('POST', '/v1/payments', body, key),
            client.send('POST', '/v1/payments', body, key),
          ]);
          const again = await client.send('POST', '/v1/payments', body, key);
          for (const answer of [first, second, again]) {
            expect([201, 202]).toContain(answer!.status);
            expect(answer!.body).toBe(first!.body);
          }
          if (first!.status === 202) accepted += 1;
          answeredAt.set((JSON.parse(first!.body) as PaymentJson).id, Date.now());
        },
      );

      // Every payment reaches a definite state within the recovery time (+ a worker period and a margin).
      await runPool([...answeredAt], 8, async ([id, at]) => {
        await waitUntil(
          async () => {
            const payment = (await client.get(`/v1/payments/${id}`)).json as PaymentJson;
            return !payment.processing && DEFINITE.includes(payment.status);
          },
          at + RECOVERY_MS + PERIOD_MS + 5_000 - Date.now(),
          async () => JSON.stringify((await client.get(`/v1/payments/${id}`)).json),
        );
      });
      // Every lost answer of a capture or refund costs one recovery round (a retry can be unlucky again).
      const pending = async () =>
        (
          await database.db.query(
            `SELECT 'capture' AS kind, id FROM captures WHERE merchant_id = $1 AND status = 'PENDING'
             UNION ALL SELECT 'refund', id FROM refunds WHERE merchant_id = $1 AND status = 'PENDING'
             UNION ALL SELECT 'payment', id FROM payments WHERE merchant_id = $1
               AND (processing_since IS NOT NULL OR (status = 'AUTHORIZED' AND capture_mode = 'automatic'))`,
            [merchant.id],
          )
        ).rows;
      const settled = () =>
        waitUntil(
          async () => (await pending()).length === 0,
          RECOVERY_MS + 8 * PERIOD_MS + 5_000,
          async () => JSON.stringify(await pending()),
        );
      await settled();

      // Capture the manual authorizations and refund part of every captured payment — through the same faults,
      // each request retried once with its key — then wait for anything PENDING to be settled by recovery.
      const { rows: authorized } = await database.db.query<{ id: string; amount: number }>(
        `SELECT id, amount FROM payments WHERE merchant_id = $1 AND status = 'AUTHORIZED' AND capture_mode = 'manual'`,
        [merchant.id],
      );
      let unanswered = 0; // captures and refunds whose answer was lost (202 PENDING), settled by recovery
      await runPool(authorized, 6, async (payment) => {
        const first = await client.send(
          'POST',
          `/v1/payments/${payment.id}/capture`,
          { amount: payment.amount - 100 },
          `cap-${payment.id}`,
        );
        const retried = await client.send(
          'POST',
          `/v1/payments/${payment.id}/capture`,
          { amount: payment.amount - 100 },
          `cap-${payment.id}`,
        );
        expect([201, 202]).toContain(first!.status);
        expect(retried!.body).toBe(first!.body);
        if (first!.status === 202) unanswered += 1;
      });
      await settled();
      const { rows: succeeded } = await database.db.query<{ id: string }>(
        `SELECT id FROM payments WHERE merchant_id = $1 AND status = 'SUCCEEDED'`,
        [merchant.id],
      );
      await runPool(succeeded, 6, async (payment) => {
        const first = await client.send(
          'POST',
          `/v1/payments/${payment.id}/refunds`,
          { amount: 50, reason: 'fault test' },
          `ref-${payment.id}`,
        );
        const retried = await client.send(
          'POST',
          `/v1/payments/${payment.id}/refunds`,
          { amount: 50, reason: 'fault test' },
          `ref-${payment.id}`,
        );
        expect([201, 202]).toContain(first!.status);
        expect(retried!.body).toBe(first!.body);
        if (first!.status === 202) unanswered += 1;
      });
      await settled();

      // Both sides agree: one authorization per payment, captures and refunds to the unit, nothing half-written.
      const comparison = await compareWithSandbox(database.db, merchant.id);
      expect(comparison.problems).toEqual([]);
      expect(comparison.payments).toBe(PAYMENTS);
      expect(await findInconsistencies(database.db, merchant.id)).toEqual([]);
      const { rows: operations } = await database.db.query<{ kind: string; n: number; keys: number }>(
        `SELECT kind, count(*)::int AS n, count(DISTINCT idempotency_key)::int AS keys FROM sandbox_acquirer_operations GROUP BY kind`,
      );
      for (const row of operations)
        expect(row.n, `${row.kind}: one ledger operation per key`).toBe(
          row.kind === 'resolve' ? row.n : row.keys,
        );
      expect(unanswered, 'some capture or refund answers were lost').toBeGreaterThan(0);
      const { rows: captures } = await database.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM captures WHERE merchant_id = $1 AND status = 'SUCCEEDED'`,
        [merchant.id],
      );
      expect(captures[0]!.n).toBeGreaterThan(0);
      console.log(
        `sandbox faults: ${PAYMENTS} payments (${accepted} answered 202 and were settled by recovery), ` +
          `${captures[0]!.n} captures, ${unanswered} capture / refund requests answered 202 and settled by recovery; ` +
          `ledger: ${JSON.stringify(operations)}`,
      );
    },
  );
});

describe('an acquirer outage and duplicate asynchronous notifications (in-process, setFaults)', () => {
  let t: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    t = await createTestApp({ env: { KASSA_PAYMENT_RECOVERY_MS: '500' } });
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    t.services.sandbox.setFaults({});
    await t?.close();
  });

  const post = (url: string, payload: object, key?: string) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { ...merchant.headers, ...(key ? { 'idempotency-key': key } : {}) },
      payload,
    });
  async function pay(i: number, method: unknown, capture: 'automatic' | 'manual' = 'automatic') {
    const created = await post(
      '/v1/checkouts',
      checkoutRequest(simpleOrder('EUR', 'DE', 700 + i, `dup-${i}`), { capture_mode: capture }),
    );
    expect(created.statusCode).toBe(201);
    const paid = await post(
      '/v1/payments',
      { checkout_id: created.json().checkout_id, payment_method: method },
      `dup-${i}-pay`,
    );
    expect([201, 202]).toContain(paid.statusCode);
    return paid.json<PaymentJson>();
  }
  const events = async (paymentId: string) =>
    (
      await t.database.db.query<{ type: string }>(
        `SELECT type FROM events WHERE payment_id = $1 ORDER BY seq`,
        [paymentId],
      )
    ).rows.map((row) => row.type);
  const reference = async (paymentId: string) =>
    (
      await t.database.db.query<{ connector_reference: string }>(
        `SELECT connector_reference FROM payments WHERE id = $1`,
        [paymentId],
      )
    ).rows[0]!.connector_reference;

  it('an acquirer that refuses everything: the payments end REJECTED by recovery, nothing is charged', async () => {
    t.services.sandbox.setFaults({ failEveryNth: 1 });
    const payments = await Promise.all([0, 1, 2, 3].map((i) => pay(100 + i, cardMethod())));
    t.services.sandbox.setFaults({});
    for (const payment of payments) expect(payment).toMatchObject({ status: 'PENDING', processing: true });
    await sleep(600);
    await t.services.payments.recover();
    for (const payment of payments) {
      const current = (
        await t.app.inject({ method: 'GET', url: `/v1/payments/${payment.id}`, headers: merchant.headers })
      ).json<PaymentJson>();
      expect(current).toMatchObject({ status: 'REJECTED', processing: false, captured_amount: 0 });
      expect(await t.services.sandbox.countOperations({ paymentId: payment.id })).toBe(0);
      // The shopper can try again on the same (still open) checkout.
      const checkout = (
        await t.app.inject({
          method: 'GET',
          url: `/v1/checkouts/${payment.checkout_id}`,
          headers: merchant.headers,
        })
      ).json();
      expect(checkout.status).toBe('OPEN');
    }
  });

  it('notifications delivered twice, decisions clicked twice: one authorization event and one capture each', async () => {
    t.services.sandbox.setFaults({ duplicateNotifications: true });
    const invoices = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => pay(200 + i, { type: 'invoice' })));
    const challenges = await Promise.all(
      [0, 1, 2, 3].map((i) => pay(300 + i, cardMethod(TEST_CARDS.threeDSecure))),
    );
    const delayed = await Promise.all([0, 1, 2].map((i) => pay(400 + i, cardMethod(TEST_CARDS.pending))));
    for (const payment of [...invoices, ...delayed]) expect(payment.status).toBe('PENDING');
    for (const payment of challenges) expect(payment.status).toBe('REQUIRES_ACTION');

    // Invoices: the merchant resolves each twice (succeeded for even ones, rejected for odd ones).
    for (const [index, payment] of invoices.entries()) {
      const outcome = index % 2 ? 'REJECTED' : 'SUCCEEDED';
      const answers = await Promise.all([
        post(`/v1/sandbox/payments/${payment.id}/resolve`, { outcome }),
        post(`/v1/sandbox/payments/${payment.id}/resolve`, { outcome }),
      ]);
      for (const answer of answers) expect(answer.statusCode).toBe(200);
    }
    // 3-D Secure: "Complete authentication" pressed twice at once.
    for (const payment of challenges) {
      const ref = await reference(payment.id);
      await Promise.all([
        t.services.sandbox.completeChallenge(ref, 'pass'),
        t.services.sandbox.completeChallenge(ref, 'pass'),
      ]);
    }
    // Delayed cards: two workers finalise them at the same moment.
    const later = new Date(Date.now() + 31_000);
    await Promise.all([
      t.services.sandbox.finaliseDuePending(later),
      t.services.sandbox.finaliseDuePending(later),
    ]);
    await t.services.sandbox.redeliverDueNotifications();
    t.services.sandbox.setFaults({});

    for (const [index, payment] of invoices.entries()) {
      const types = await events(payment.id);
      if (index % 2) {
        expect(types.filter((type) => type === 'payment.rejected')).toHaveLength(1);
        expect(types).not.toContain('payment.authorized');
      } else {
        expect(types.filter((type) => type === 'payment.authorized')).toHaveLength(1);
        expect(types.filter((type) => type === 'payment.captured')).toHaveLength(1);
      }
    }
    for (const payment of [...challenges, ...delayed]) {
      const types = await events(payment.id);
      expect(
        types.filter((type) => type === 'payment.authorized'),
        payment.id,
      ).toHaveLength(1);
      expect(
        types.filter((type) => type === 'payment.captured'),
        payment.id,
      ).toHaveLength(1);
      const { rows } = await t.database.db.query(`SELECT id FROM captures WHERE payment_id = $1`, [
        payment.id,
      ]);
      expect(rows).toHaveLength(1);
    }
    // Every notification was delivered twice, and recorded once.
    const { rows: notifications } = await t.database.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sandbox_acquirer_notifications WHERE delivered_at IS NOT NULL`,
    );
    const { rows: recorded } = await t.database.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM connector_notifications`,
    );
    expect(notifications[0]!.n).toBe(invoices.length + challenges.length + delayed.length);
    expect(recorded[0]!.n).toBe(notifications[0]!.n);

    expect((await compareWithSandbox(t.database.db, merchant.merchantId)).problems).toEqual([]);
    expect(await findInconsistencies(t.database.db, merchant.merchantId)).toEqual([]);
  });
});
