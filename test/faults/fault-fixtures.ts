import http from 'node:http';
import type { Queryable } from '../../src/db/client.ts';

/**
 * Shared pieces of the fault tests (test/faults/): a client that retries like a careful merchant server
 * (same Idempotency-Key until a definite answer), and the two sides of every check — Kassa's own rows and the
 * sandbox acquirer's ledger — compared for exactly-once money movement and for half-written state.
 */

export type Answer = { status: number; body: string; replayed: boolean; at: number };

export type KeyedClient = {
  /** Every answer per Idempotency-Key, in arrival order (retries included). */
  answers: Map<string, Answer[]>;
  /** Network failures (connection refused / reset) and 503s seen while retrying. */
  transientFailures: number;
  /**
   * Sends until a definite answer: retries the same key after a network error, 409 idempotency_key_in_use
   * and 503 (as a merchant's server should); everything else is the answer. `giveUp()` returning true after
   * a network failure stops retrying (a client that crashed too) and resolves undefined.
   */
  send(
    method: string,
    path: string,
    body: unknown,
    key: string,
    options?: { giveUp?: () => boolean },
  ): Promise<Answer | undefined>;
  get(path: string): Promise<{ status: number; json: unknown }>;
};

export function createKeyedClient(
  baseUrl: string,
  apiKey: string,
  options: { deadlineMs?: number } = {},
): KeyedClient {
  const answers = new Map<string, Answer[]>();
  const deadlineMs = options.deadlineMs ?? 90_000;
  const client: KeyedClient = {
    answers,
    transientFailures: 0,
    async send(method, path, body, key, sendOptions = {}) {
      const started = Date.now();
      for (let attempt = 0; ; attempt += 1) {
        if (Date.now() - started > deadlineMs)
          throw new Error(`${method} ${path} [${key}]: no definite answer in ${deadlineMs} ms`);
        let response: Response;
        try {
          response = await fetch(`${baseUrl}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${apiKey}`,
              'content-type': 'application/json',
              'idempotency-key': key,
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(20_000),
          });
        } catch {
          client.transientFailures += 1;
          if (sendOptions.giveUp?.()) return undefined;
          await sleep(Math.min(100 * 2 ** attempt, 500));
          continue;
        }
        const text = await response.text();
        const answer = {
          status: response.status,
          body: text,
          replayed: response.headers.get('idempotent-replayed') === 'true',
          at: Date.now(),
        };
        const code = response.status >= 400 ? safeCode(text) : undefined;
        if (response.status === 503 || (response.status === 409 && code === 'idempotency_key_in_use')) {
          client.transientFailures += 1;
          await sleep(response.status === 409 ? 500 : 200);
          continue;
        }
        const list = answers.get(key) ?? [];
        list.push(answer);
        answers.set(key, list);
        return answer;
      }
    },
    async get(path) {
      const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
      return { status: response.status, json: (await response.json()) as unknown };
    },
  };
  return client;
}

function safeCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

export function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns true, or throws with `describe()` after `timeoutMs`. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => Promise<string> | string,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${await describe()}`);
    await sleep(200);
  }
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function runPool<T>(
  items: T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next;
        next += 1;
        await work(items[index]!, index);
      }
    }),
  );
}

const rows = async <T extends Record<string, unknown>>(db: Queryable, sql: string, values: unknown[] = []) =>
  (await db.query<T>(sql, values)).rows;

/**
 * Half-written state, looked for directly in the tables (scoped to one merchant): every checkout has its
 * order; every completed idempotency record's object exists; every event's objects exist; amounts add up
 * from the child rows; statuses of session, order and payment agree; every settled state change of a
 * payment has its event (they are written in one transaction). Returns what is wrong.
 */
export async function findInconsistencies(db: Queryable, merchantId: string): Promise<string[]> {
  const problems: string[] = [];
  const report = (what: string, found: Record<string, unknown>[]) => {
    if (found.length > 0)
      problems.push(
        `${what}: ${JSON.stringify(found.slice(0, 5))}${found.length > 5 ? ` (+${found.length - 5})` : ''}`,
      );
  };

  report(
    'checkouts without their order',
    await rows(
      db,
      `SELECT c.id FROM checkouts c LEFT JOIN orders o ON o.checkout_id = c.id WHERE c.merchant_id = $1 AND o.id IS NULL`,
      [merchantId],
    ),
  );
  report(
    'checkouts whose active payment does not exist',
    await rows(
      db,
      `SELECT c.id, c.active_payment_id FROM checkouts c LEFT JOIN payments p ON p.id = c.active_payment_id
        WHERE c.merchant_id = $1 AND c.active_payment_id IS NOT NULL AND p.id IS NULL`,
      [merchantId],
    ),
  );

  // Completed idempotency records: the object in the stored answer exists (record and effect commit together).
  const completed = await rows<{ request_path: string; response_status: number; response_body: string }>(
    db,
    `SELECT request_path, response_status, response_body FROM idempotency_keys
      WHERE merchant_id = $1 AND state = 'completed' AND response_status < 300`,
    [merchantId],
  );
  const objectTables: Record<string, { table: string; idField: string }> = {
    checkout: { table: 'checkouts', idField: 'checkout_id' },
    payment: { table: 'payments', idField: 'id' },
    capture: { table: 'captures', idField: 'id' },
    refund: { table: 'refunds', idField: 'id' },
    payment_link: { table: 'payment_links', idField: 'payment_link_id' },
    webhook_endpoint: { table: 'webhook_endpoints', idField: 'id' },
  };
  const missingObjects: Record<string, unknown>[] = [];
  for (const record of completed) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(record.response_body) as Record<string, unknown>;
    } catch {
      continue; // answers holding a secret (webhook endpoints) are stored encrypted
    }
    const mapping = objectTables[String(body.object)];
    if (!mapping) continue;
    const id = body[mapping.idField];
    const found = await rows(db, `SELECT 1 FROM ${mapping.table} WHERE id = $1`, [id]);
    if (found.length === 0) missingObjects.push({ path: record.request_path, object: body.object, id });
  }
  report('completed idempotency records whose object does not exist', missingObjects);
  report(
    'idempotency records completed without a response',
    await rows(
      db,
      `SELECT idempotency_key FROM idempotency_keys WHERE merchant_id = $1 AND state = 'completed'
        AND (response_status IS NULL OR response_body IS NULL)`,
      [merchantId],
    ),
  );

  // Events reference existing objects.
  report(
    'events whose object does not exist',
    await rows(
      db,
      `SELECT e.id, e.type, e.object_id FROM events e
        WHERE e.merchant_id = $1 AND e.object_id IS NOT NULL AND NOT (
          EXISTS (SELECT 1 FROM checkouts WHERE id = e.object_id) OR EXISTS (SELECT 1 FROM orders WHERE id = e.object_id)
          OR EXISTS (SELECT 1 FROM payments WHERE id = e.object_id) OR EXISTS (SELECT 1 FROM captures WHERE id = e.object_id)
          OR EXISTS (SELECT 1 FROM refunds WHERE id = e.object_id) OR EXISTS (SELECT 1 FROM payment_links WHERE id = e.object_id)
          OR EXISTS (SELECT 1 FROM merchants WHERE id = e.object_id) OR EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = e.object_id)
          OR e.type IN ('ping', 'payment_method_settings.updated'))`,
      [merchantId],
    ),
  );
  report(
    'events whose checkout, order or payment does not exist',
    await rows(
      db,
      `SELECT e.id, e.type FROM events e WHERE e.merchant_id = $1 AND (
          (e.checkout_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM checkouts WHERE id = e.checkout_id))
          OR (e.order_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orders WHERE id = e.order_id))
          OR (e.payment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payments WHERE id = e.payment_id)))`,
      [merchantId],
    ),
  );

  // Amounts: payments from their child rows, orders from their payments, never beyond what is allowed.
  report(
    'payments whose amounts break captured ≤ authorized ≤ amount or refunded ≤ captured',
    await rows(
      db,
      `SELECT id, amount, authorized_amount, captured_amount, refunded_amount FROM payments
        WHERE merchant_id = $1 AND NOT (refunded_amount <= captured_amount AND captured_amount <= authorized_amount AND authorized_amount <= amount)`,
      [merchantId],
    ),
  );
  report(
    'payments whose captured / refunded amounts differ from their SUCCEEDED captures / refunds',
    await rows(
      db,
      `SELECT p.id, p.captured_amount, p.refunded_amount,
              (SELECT COALESCE(sum(amount), 0) FROM captures WHERE payment_id = p.id AND status = 'SUCCEEDED')::bigint AS captures,
              (SELECT COALESCE(sum(amount), 0) FROM refunds WHERE payment_id = p.id AND status = 'SUCCEEDED')::bigint AS refunds
         FROM payments p WHERE p.merchant_id = $1
       GROUP BY p.id
       HAVING p.captured_amount <> (SELECT COALESCE(sum(amount), 0) FROM captures WHERE payment_id = p.id AND status = 'SUCCEEDED')
           OR p.refunded_amount <> (SELECT COALESCE(sum(amount), 0) FROM refunds WHERE payment_id = p.id AND status = 'SUCCEEDED')`,
      [merchantId],
    ),
  );
  report(
    'captures or refunds beyond what was authorized / captured (pending included)',
    await rows(
      db,
      `SELECT p.id FROM payments p WHERE p.merchant_id = $1 AND (
          (SELECT COALESCE(sum(amount), 0) FROM captures WHERE payment_id = p.id AND status <> 'FAILED') > p.authorized_amount
          OR (SELECT COALESCE(sum(amount), 0) FROM refunds WHERE payment_id = p.id AND status <> 'FAILED') > p.captured_amount)`,
      [merchantId],
    ),
  );
  report(
    'orders whose amounts differ from their payments',
    await rows(
      db,
      `SELECT o.id, o.captured_amount, o.refunded_amount FROM orders o
        WHERE o.merchant_id = $1 AND (
          o.captured_amount <> (SELECT COALESCE(sum(captured_amount), 0) FROM payments WHERE order_id = o.id)
          OR o.refunded_amount <> (SELECT COALESCE(sum(refunded_amount), 0) FROM payments WHERE order_id = o.id))`,
      [merchantId],
    ),
  );

  // Statuses agree across session, order and payment.
  report(
    'more than one live payment attempt per checkout',
    await rows(
      db,
      `SELECT checkout_id, count(*)::int AS n FROM payments WHERE merchant_id = $1
          AND status IN ('PENDING', 'REQUIRES_ACTION', 'AUTHORIZED', 'SUCCEEDED') GROUP BY checkout_id HAVING count(*) > 1`,
      [merchantId],
    ),
  );
  report(
    'COMPLETED checkouts without an authorized, succeeded or pending payment',
    await rows(
      db,
      `SELECT c.id FROM checkouts c WHERE c.merchant_id = $1 AND c.status = 'COMPLETED'
          AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.checkout_id = c.id AND p.status IN ('AUTHORIZED', 'SUCCEEDED', 'PENDING', 'CANCELED', 'REJECTED'))`,
      [merchantId],
    ),
  );
  report(
    'authorized or succeeded payments whose order was not moved forward',
    await rows(
      db,
      `SELECT p.id, p.status, o.status AS order_status FROM payments p JOIN orders o ON o.id = p.order_id
        WHERE p.merchant_id = $1 AND p.status IN ('AUTHORIZED', 'SUCCEEDED') AND p.processing_since IS NULL
          AND o.status NOT IN ('AUTHORIZED', 'PAID', 'PARTIALLY_REFUNDED', 'REFUNDED')`,
      [merchantId],
    ),
  );
  // A refund's event is about the refund, with the payment's version after it: matched by payment_id.
  report(
    'settled payments without the event of their current version',
    await rows(
      db,
      `SELECT p.id, p.status, p.version FROM payments p
        WHERE p.merchant_id = $1 AND p.processing_since IS NULL AND p.version > 1
          AND NOT EXISTS (SELECT 1 FROM events e WHERE e.payment_id = p.id AND e.object_version = p.version)`,
      [merchantId],
    ),
  );
  report(
    'orders without the event of their current version',
    await rows(
      db,
      `SELECT o.id, o.status, o.version FROM orders o WHERE o.merchant_id = $1
          AND NOT EXISTS (SELECT 1 FROM events e WHERE e.object_id = o.id AND e.object_version = o.version)`,
      [merchantId],
    ),
  );
  return problems;
}

type KassaPayment = {
  id: string;
  checkout_id: string;
  status: string;
  processing_since: Date | null;
  amount: number;
  currency: string;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  connector_reference: string | null;
};

/**
 * Exactly once, from both sides: Kassa's payments (API objects) against the sandbox acquirer's ledger (what the
 * "bank" did). Every authorization at the sandbox belongs to one Kassa payment and vice versa; no payment and no
 * checkout was ever authorized twice; money that moved at the sandbox is what Kassa reports, to the unit.
 */
export async function compareWithSandbox(
  db: Queryable,
  merchantId: string,
): Promise<{ problems: string[]; authorizations: number; payments: number }> {
  const problems: string[] = [];
  const payments = await rows<KassaPayment>(
    db,
    `SELECT id, checkout_id, status, processing_since, amount, currency, authorized_amount, captured_amount, refunded_amount,
            connector_reference
       FROM payments WHERE merchant_id = $1 AND connector_id = 'sandbox'`,
    [merchantId],
  );
  const byId = new Map(payments.map((payment) => [payment.id, payment]));
  const operations = await rows<{
    kind: string;
    payment_id: string | null;
    payment_reference: string | null;
    amount: number | null;
    outcome: string;
    idempotency_key: string | null;
  }>(
    db,
    `SELECT kind, payment_id, payment_reference, amount, outcome, idempotency_key FROM sandbox_acquirer_operations ORDER BY seq`,
  );
  const sandboxPayments = await rows<{
    reference: string;
    payment_id: string;
    status: string;
    amount: number;
    currency: string;
  }>(db, `SELECT reference, payment_id, status, amount, currency FROM sandbox_acquirer_payments`);
  const ours = (paymentId: string | null) => paymentId !== null && byId.has(paymentId);

  // 1. Authorizations: each belongs to a Kassa payment; at most one per payment and per checkout.
  const authorizeOps = operations.filter((op) => op.kind === 'authorize');
  const foreign = authorizeOps.filter((op) => !ours(op.payment_id));
  if (foreign.length)
    problems.push(`sandbox authorizations without a Kassa payment: ${JSON.stringify(foreign.slice(0, 5))}`);
  const perPayment = countBy(
    authorizeOps.filter((op) => ours(op.payment_id)),
    (op) => op.payment_id!,
  );
  const twice = [...perPayment].filter(([, n]) => n > 1);
  if (twice.length)
    problems.push(`payments authorized more than once at the sandbox: ${JSON.stringify(twice.slice(0, 5))}`);
  const authorizedRefs = sandboxPayments.filter(
    (row) => row.status === 'authorized' || row.status === 'voided',
  );
  const chargedPerCheckout = countBy(
    authorizedRefs.filter((row) => byId.has(row.payment_id)),
    (row) => byId.get(row.payment_id)!.checkout_id,
  );
  const checkoutsTwice = [...chargedPerCheckout].filter(([, n]) => n > 1);
  if (checkoutsTwice.length)
    problems.push(`checkouts charged more than once: ${JSON.stringify(checkoutsTwice.slice(0, 5))}`);

  // 2. Each Kassa payment against its sandbox payment.
  const sandboxByPayment = new Map(sandboxPayments.map((row) => [row.payment_id, row]));
  const sums = (kind: string) => {
    const totals = new Map<string, number>();
    for (const op of operations) {
      if (op.kind === kind && op.outcome === 'succeeded' && op.payment_id)
        totals.set(op.payment_id, (totals.get(op.payment_id) ?? 0) + Number(op.amount));
    }
    return totals;
  };
  const captured = sums('capture');
  const refunded = sums('refund');
  const expectedSandboxStatus: Record<string, string[]> = {
    AUTHORIZED: ['authorized'],
    SUCCEEDED: ['authorized'],
    PENDING: ['pending'],
    REQUIRES_ACTION: ['requires_action'],
    REJECTED: ['declined', 'none'],
    CANCELED: ['voided', 'requires_action', 'declined', 'none'],
  };
  const mismatches: Record<string, unknown>[] = [];
  for (const payment of payments) {
    const bank = sandboxByPayment.get(payment.id);
    const bankStatus = bank?.status ?? 'none';
    if (payment.processing_since === null && !expectedSandboxStatus[payment.status]?.includes(bankStatus)) {
      mismatches.push({ payment: payment.id, kassa: payment.status, sandbox: bankStatus });
    }
    if (
      bank &&
      (Number(bank.amount) !== Number(payment.amount) || bank.currency.trim() !== payment.currency.trim())
    ) {
      mismatches.push({ payment: payment.id, kassaAmount: payment.amount, sandboxAmount: bank.amount });
    }
    if (bank && payment.connector_reference !== null && payment.connector_reference !== bank.reference) {
      mismatches.push({
        payment: payment.id,
        kassaReference: payment.connector_reference,
        sandboxReference: bank.reference,
      });
    }
    if (
      Number(payment.captured_amount) !== (captured.get(payment.id) ?? 0) ||
      Number(payment.refunded_amount) !== (refunded.get(payment.id) ?? 0)
    ) {
      mismatches.push({
        payment: payment.id,
        kassaCaptured: payment.captured_amount,
        sandboxCaptured: captured.get(payment.id) ?? 0,
        kassaRefunded: payment.refunded_amount,
        sandboxRefunded: refunded.get(payment.id) ?? 0,
      });
    }
  }
  if (mismatches.length)
    problems.push(
      `Kassa and the sandbox disagree: ${JSON.stringify(mismatches.slice(0, 8))}${mismatches.length > 8 ? ` (+${mismatches.length - 8})` : ''}`,
    );

  // 3. Every sandbox authorization that holds money is an AUTHORIZED / SUCCEEDED payment in Kassa.
  const unknownMoney = authorizedRefs.filter(
    (row) =>
      row.status === 'authorized' &&
      !['AUTHORIZED', 'SUCCEEDED'].includes(byId.get(row.payment_id)?.status ?? ''),
  );
  if (unknownMoney.length)
    problems.push(
      `authorized at the sandbox but not in Kassa: ${JSON.stringify(unknownMoney.slice(0, 5).map((row) => ({ ...row, kassa: byId.get(row.payment_id)?.status })))}`,
    );
  return { problems, authorizations: authorizeOps.length, payments: payments.length };
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

export type RecordedWebhook = { headers: http.IncomingHttpHeaders; body: string };

/**
 * A merchant's webhook receiver on a given loopback port (so it can come back on the address a webhook endpoint
 * was registered with): records every request and answers 200.
 */
export async function startReceiverOnPort(port: number) {
  const received: RecordedWebhook[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Fault tests replay the sandbox's declining test cards dozens of times on purpose, as a real burst of shoppers
 * would with many different cards. The per-card and per-address card-testing limits
 * (test/e2e/security/card-testing.test.ts) count in test mode only when asked to
 * (`KASSA_CARD_DECLINE_LIMITS_IN_TEST_MODE`); they are switched off here too, so a change of that default
 * cannot make these bursts fail for the wrong reason.
 */
export const WITHOUT_CARD_TESTING_LIMITS = {
  KASSA_CARD_DECLINES_PER_CARD: '0',
  KASSA_CARD_DECLINES_PER_ADDRESS: '0',
} as const;
