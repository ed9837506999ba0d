import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { UnitOfWork } from '../../../src/db/client.ts';
import {
  claimDueCheckouts,
  closeCheckoutRow,
  findCheckout,
  findCheckoutScope,
  lockCheckout,
  lockCheckoutOfPayment,
  setActivePayment,
  touchCheckout,
} from '../../../src/modules/checkouts/checkout.repository.ts';
import { listEvents } from '../../../src/modules/events/event.repository.ts';
import {
  findOrder,
  findOrderByCheckoutId,
  readOrderOfCheckout,
} from '../../../src/modules/orders/order.repository.ts';
import { replaceSessionClientToken } from '../../../src/modules/payment-links/payment-link.repository.ts';
import { findPayment, insertPayment } from '../../../src/modules/payments/payment.repository.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';
import { recorder } from '../../../bench/statement-recorder.ts';

/**
 * The plan shape of the statements a payment sends to `checkouts` (docs/performance.md, "Primary-key lookups
 * whatever the number of open checkouts"): each must find its session through the primary key (or another
 * unique index) with an index condition, whatever the number of open sessions and whatever ANALYZE last saw,
 * with the custom plan and with the generic plan a prepared statement settles on.
 *
 * The statements are the ones the repository functions send: the functions run against a recorder that keeps
 * their SQL and values, and each is then explained as a prepared statement with those values.
 *
 * The database is in the state that made the planner go wrong: ANALYZE ran when no session was open (a
 * busy gateway's steady state — sessions are paid soon after they open), and many have opened since. An
 * index of open sessions then looks empty, and a full scan of it cheaper than the primary-key lookup.
 */

const MERCHANT = 'mer_plan_shape';
const SCOPE = { merchantId: MERCHANT, livemode: false };
const CLOSED_SESSIONS = 10_000;
const OPEN_SESSIONS = 30_000;
const CHECKOUT_ID = 'chk_plan_00025000'; // one of the open sessions
const PAYMENT_ID = 'pay_plan_shape';
const NOW = new Date();

type Statement = { text: string; values: unknown[] };
type PlanNode = {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
};

/** What each hot function sends, by name (one statement each). */
async function hotStatements(): Promise<Map<string, Statement>> {
  const calls: Record<string, (tx: UnitOfWork) => unknown> = {
    'payment start: mark the attempt in flight (setActivePayment)': (tx) =>
      setActivePayment(tx, SCOPE, CHECKOUT_ID, PAYMENT_ID, NOW),
    'payment start: insert the attempt (insertPayment)': (tx) =>
      insertPayment(tx, {
        id: PAYMENT_ID,
        scope: SCOPE,
        checkoutId: CHECKOUT_ID,
        orderId: 'ord_plan_00025000',
        channel: 'api',
        method: 'card',
        amount: 1000,
        currency: 'EUR',
        captureMode: 'automatic',
        connectorId: 'sandbox',
        card: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, fingerprint: 'fp' },
        savedPaymentMethodId: null,
        now: NOW,
      }),
    'settle: close the session (closeCheckoutRow)': (tx) =>
      closeCheckoutRow(tx, SCOPE, CHECKOUT_ID, 'COMPLETED', NOW),
    'payment start: lock the session (lockCheckout)': (tx) => tx.load(lockCheckout(SCOPE, CHECKOUT_ID)),
    'lock the session (findCheckout FOR UPDATE)': (tx) =>
      findCheckout(tx, SCOPE, CHECKOUT_ID, { forUpdate: true }),
    'read the session (findCheckout)': (tx) => findCheckout(tx, SCOPE, CHECKOUT_ID),
    'whose session (findCheckoutScope)': (tx) => findCheckoutScope(tx, CHECKOUT_ID),
    'settle: lock the session of the payment (lockCheckoutOfPayment)': (tx) =>
      tx.load(lockCheckoutOfPayment(PAYMENT_ID)),
    'order replaced (touchCheckout)': (tx) => touchCheckout(tx, SCOPE, CHECKOUT_ID, NOW),
    'payment link visit (replaceSessionClientToken)': (tx) =>
      replaceSessionClientToken(tx, CHECKOUT_ID, Buffer.alloc(32, 7)),
  };
  const statements = new Map<string, Statement>();
  for (const [name, call] of Object.entries(calls)) {
    const { tx, statements: sent } = recorder('evt_plan_shape');
    await call(tx);
    expect(sent, name).toHaveLength(1);
    statements.set(name, sent[0]!);
  }
  return statements;
}

const PLAN_CACHE_MODES = ['force_custom_plan', 'force_generic_plan'] as const;

/** A value as an SQL literal, as `pg` would send it as a parameter. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'`;
  if (value instanceof Date) return pg.escapeLiteral(value.toISOString());
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return pg.escapeLiteral(String(value));
  throw new Error(`no literal for ${typeof value} parameter: add it here`);
}

/** The statement's plan as PostgreSQL would run it prepared, in the given plan cache mode. */
async function planOf(
  database: TestDatabase,
  statement: Statement,
  mode: (typeof PLAN_CACHE_MODES)[number],
): Promise<PlanNode> {
  const client = await database.pool.connect();
  try {
    await client.query(`SET plan_cache_mode = ${mode}`);
    await client.query(`PREPARE plan_probe AS ${statement.text}`);
    // EXECUTE takes no bind parameters: the values go in as literals, typed by the prepared statement.
    const args = statement.values.map(literal).join(', ');
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) EXECUTE plan_probe${args ? `(${args})` : ''}`,
    );
    return rows[0]!['QUERY PLAN'][0].Plan;
  } finally {
    await client.query('DEALLOCATE ALL; RESET plan_cache_mode').catch(() => {});
    client.release();
  }
}

/** Every node of the plan that reads a table (its own rows, not a CTE's or a function's). */
function tableScans(node: PlanNode): PlanNode[] {
  const own = node['Relation Name'] !== undefined && node['Node Type'] !== 'ModifyTable' ? [node] : [];
  return [...own, ...(node.Plans ?? []).flatMap(tableScans)];
}

/** Every node of the plan. */
function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

function describeScan(scan: PlanNode): string {
  return `${scan['Node Type']} on ${scan['Relation Name']}${scan['Index Name'] ? ` using ${scan['Index Name']}` : ''}${
    scan['Index Cond'] ? ` (${scan['Index Cond']})` : ' (no index condition)'
  }`;
}

/** The scans of a statement's plan that are not a lookup through a unique index with an index condition. */
function notUniqueLookups(name: string, scans: PlanNode[], uniqueIndexes: Set<string>): string[] {
  return scans
    .filter(
      (scan) =>
        !(
          (scan['Node Type'] === 'Index Scan' || scan['Node Type'] === 'Index Only Scan') &&
          uniqueIndexes.has(scan['Index Name'] ?? '') &&
          scan['Index Cond'] !== undefined
        ),
    )
    .map((scan) => `${name}: ${describeScan(scan)}`);
}

describe('plan shape of the hot statements on checkouts, with many open sessions', () => {
  let database: TestDatabase;
  let statements: Map<string, Statement>;
  /** Unique indexes (the primary key among them) by table: the only lookups a by-id statement may use. */
  const uniqueIndexes = new Set<string>();

  const insertSessions = (from: number, to: number) =>
    database.db.query(
      `INSERT INTO checkouts (id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url,
         capture, locale, client_token_sha256, expires_at, created_at, updated_at)
       SELECT 'chk_plan_' || lpad(g::text, 8, '0'), $1, false, 'OPEN', 'https://shop.example/ok',
         'https://shop.example/cancel', 'automatic', 'EN', sha256(g::text::bytea),
         now() + interval '1 day' + g * interval '1 second', now(), now()
         FROM generate_series($2::int, $3::int) g`,
      [MERCHANT, from, to],
    );

  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 2 });
    // The statistics are this test's to set: autovacuum must not refresh them halfway.
    await database.db.query('ALTER TABLE checkouts SET (autovacuum_enabled = false)');
    await database.db.query(`INSERT INTO merchants (id, name) VALUES ($1, 'Plan shape')`, [MERCHANT]);
    // History: sessions that opened and were paid; ANALYZE runs when none is open.
    await insertSessions(1, CLOSED_SESSIONS);
    await database.db.query(`UPDATE checkouts SET status = 'COMPLETED', completed_at = now()`);
    await database.db.query('ANALYZE checkouts');
    // Then many sessions open, and no ANALYZE sees them.
    await insertSessions(CLOSED_SESSIONS + 1, CLOSED_SESSIONS + OPEN_SESSIONS);

    const { rows } = await database.db.query<{ index_name: string }>(
      `SELECT indexrelid::regclass::text AS index_name FROM pg_index
        WHERE indrelid IN ('checkouts'::regclass, 'payments'::regclass) AND indisunique AND indpred IS NULL`,
    );
    for (const row of rows) uniqueIndexes.add(row.index_name);
    statements = await hotStatements();
  });
  afterAll(() => database?.close());

  it('has the sessions open that the statistics do not know of', async () => {
    const { rows } = await database.db.query<{ open: number }>(
      `SELECT count(*)::int AS open FROM checkouts WHERE status = 'OPEN'`,
    );
    expect(rows[0]!.open).toBe(OPEN_SESSIONS);
    expect(uniqueIndexes).toContain('checkouts_pkey');
    expect(uniqueIndexes).toContain('payments_pkey');
  });

  for (const mode of PLAN_CACHE_MODES) {
    it(`finds each session by a unique index with an index condition (${mode})`, async () => {
      const wrong: string[] = [];
      for (const [name, statement] of statements) {
        const scans = tableScans(await planOf(database, statement, mode));
        if (!scans.some((scan) => scan['Relation Name'] === 'checkouts'))
          wrong.push(`${name}: no access to checkouts`);
        wrong.push(...notUniqueLookups(name, scans, uniqueIndexes));
      }
      expect(wrong).toEqual([]);
    });
  }

  it('lets the expiry sweep read only the due open sessions, through its index', async () => {
    const { tx, statements: sent } = recorder('evt_plan_shape');
    await claimDueCheckouts(tx, NOW, 100);
    expect(sent).toHaveLength(1);
    for (const mode of PLAN_CACHE_MODES) {
      const scans = tableScans(await planOf(database, sent[0]!, mode));
      expect(scans.map(describeScan), mode).toHaveLength(1);
      const scan = scans[0]!;
      // Walked in deadline order, or (when the planner expects few due sessions) collected as a bitmap and
      // sorted: either way only the index entries up to the deadline are read.
      const indexScan =
        scan['Node Type'] === 'Bitmap Heap Scan'
          ? (scan.Plans ?? []).find((child) => child['Node Type'] === 'Bitmap Index Scan')
          : scan;
      expect(['Index Scan', 'Bitmap Heap Scan'], mode).toContain(scan['Node Type']);
      expect(indexScan?.['Index Name'], mode).toBe('checkouts_open_deadline_idx');
      expect(indexScan?.['Index Cond'], mode).toBeDefined();
    }
  });
});

/**
 * The events list counts each event's pending deliveries. Found with `npm run bench -- --scale --explain`
 * (docs/performance.md, "Scale with data"): after an ANALYZE that saw no pending delivery (the steady state),
 * the partial index of pending deliveries (`webhook_deliveries_due_idx`, the worker's queue) looks empty, and
 * the count was planned as a walk of that whole index filtered by event — every pending delivery read for
 * every event listed. A backlog (an endpoint down for an hour) made every page of the events list read it.
 */
describe('plan shape of the events list, with a backlog of pending deliveries the statistics do not know of', () => {
  let database: TestDatabase;
  const LIST_MERCHANT = 'mer_plan_events';
  const HISTORY = 2_000;
  const BACKLOG = 20_000;

  const insertEvents = (from: number, to: number, status: string) =>
    database.db.query(
      `WITH ev AS (
         INSERT INTO events (id, merchant_id, livemode, type, object_id, order_id, checkout_id, data, fanout_state,
           created_at)
         SELECT 'evt_plan_' || lpad(g::text, 8, '0'), $1, false, 'checkout.created', 'chk_plan_' || g,
                'ord_plan_' || g, 'chk_plan_' || g, '{}', 'done', now() - interval '1 day' + g * interval '1 second'
           FROM generate_series($2::int, $3::int) g
         RETURNING id, created_at)
       INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin, status, created_at,
         completed_at)
       SELECT 'del_' || ev.id, ev.id, 'whe_plan_events', $1, false, 'event', $4, ev.created_at,
              CASE WHEN $4 = 'pending' THEN NULL ELSE ev.created_at END
         FROM ev`,
      [LIST_MERCHANT, from, to, status],
    );

  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 2 });
    await database.db.query('ALTER TABLE webhook_deliveries SET (autovacuum_enabled = false)');
    await database.db.query(`INSERT INTO merchants (id, name) VALUES ($1, 'Plan shape')`, [LIST_MERCHANT]);
    await database.db.query(
      `INSERT INTO webhook_endpoints (id, merchant_id, livemode, url, enabled_events, secret_encrypted, api_version,
         created_at)
       VALUES ('whe_plan_events', $1, false, 'https://shop.example/hooks', ARRAY['*'], '\\x00', '2026-12-06',
               now() - interval '2 days')`,
      [LIST_MERCHANT],
    );
    await insertEvents(1, HISTORY, 'succeeded');
    await database.db.query('ANALYZE webhook_deliveries');
    await insertEvents(HISTORY + 1, HISTORY + BACKLOG, 'pending');
    // The events' own statistics are current (autovacuum would make them so at a random moment).
    await database.db.query('ANALYZE events');
  });
  afterAll(() => database?.close());

  for (const mode of PLAN_CACHE_MODES) {
    it(`counts each listed event's pending deliveries through that event's index entries (${mode})`, async () => {
      const { tx, statements: sent } = recorder('evt_plan_shape');
      await listEvents(tx, { merchantId: LIST_MERCHANT, livemode: false }, {}, { limit: 11 });
      expect(sent).toHaveLength(1);
      const wrong = tableScans(await planOf(database, sent[0]!, mode))
        .filter((scan) => scan['Relation Name'] === 'webhook_deliveries' && scan['Index Cond'] === undefined)
        .map(describeScan);
      expect(wrong).toEqual([]);
    });

    // The filtered lists (the dashboard's events of one object, the API's order_id and checkout_id filters)
    // read `events` through the index of that filter, never a scan of the merchant's events or of the table.
    it(`finds the events of one object, order or checkout through an index condition on it (${mode})`, async () => {
      const filters = [
        { objectId: 'chk_plan_77' },
        { orderId: 'ord_plan_77' },
        { checkoutId: 'chk_plan_77' },
      ];
      const plans: string[][] = [];
      for (const filter of filters) {
        const { tx, statements: sent } = recorder('evt_plan_shape');
        await listEvents(tx, { merchantId: LIST_MERCHANT, livemode: false }, filter, { limit: 11 });
        // The index scans on `events` (a bitmap heap scan is fed by a bitmap index scan below it), and any
        // other read of the table (a sequential scan).
        const reads = planNodes(await planOf(database, sent[0]!, mode)).filter(
          (node) =>
            node['Index Name']?.startsWith('events_') ||
            (node['Relation Name'] === 'events' && node['Node Type'] !== 'Bitmap Heap Scan'),
        );
        plans.push(reads.map((node) => describeScan({ 'Relation Name': 'events', ...node })));
      }
      expect(plans).toEqual([
        [expect.stringMatching(/ using events_object_idx \(.*object_id = /)],
        [expect.stringMatching(/ using events_order_idx \(.*order_id = /)],
        [expect.stringMatching(/ using events_checkout_idx \(.*checkout_id = /)],
      ]);
    });
  }
});

/**
 * The same by-id statements while the tables are small: the state of a new database, and the one a gateway's
 * prepared statements were first planned in when it started on one. A statement that checked its scope with
 * `merchant_id = $2 AND livemode = $3` was then planned as a walk of a merchant's list index
 * (checkouts_merchant_created_idx, orders_merchant_order_id_idx) with the id as a filter, and a prepared
 * statement keeps its generic plan: every payment read all of the merchant's index entries (docs/performance.md,
 * "PostgreSQL's share of a payment").
 */
describe('plan shape of the by-id statements of a payment, while the tables are small', () => {
  let database: TestDatabase;
  const uniqueIndexes = new Set<string>();
  const SMALL_SESSIONS = 50;

  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 2 });
    await database.db.query(`INSERT INTO merchants (id, name) VALUES ($1, 'Plan shape')`, [MERCHANT]);
    await database.db.query(
      `INSERT INTO checkouts (id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url,
         capture, locale, client_token_sha256, expires_at, created_at, updated_at)
       SELECT 'chk_plan_' || lpad(g::text, 8, '0'), $1, false, 'OPEN', 'https://shop.example/ok',
         'https://shop.example/cancel', 'automatic', 'EN', sha256(g::text::bytea), now() + interval '1 day',
         now(), now()
         FROM generate_series(1, $2::int) g`,
      [MERCHANT, SMALL_SESSIONS],
    );
    const { rows } = await database.db.query<{ index_name: string }>(
      `SELECT indexrelid::regclass::text AS index_name FROM pg_index
        WHERE indrelid IN ('checkouts'::regclass, 'orders'::regclass, 'payments'::regclass,
                           'customers'::regclass)
          AND indisunique AND indpred IS NULL`,
    );
    for (const row of rows) uniqueIndexes.add(row.index_name);
  });
  afterAll(() => database?.close());

  const calls: Record<string, (tx: UnitOfWork) => unknown> = {
    'payment start: lock the session (lockCheckout)': (tx) => tx.load(lockCheckout(SCOPE, CHECKOUT_ID)),
    'payment start: read its order (readOrderOfCheckout)': (tx) =>
      tx.load(readOrderOfCheckout(SCOPE, CHECKOUT_ID)),
    'payment start: mark the attempt in flight (setActivePayment)': (tx) =>
      setActivePayment(tx, SCOPE, CHECKOUT_ID, PAYMENT_ID, NOW),
    'settle: close the session (closeCheckoutRow)': (tx) =>
      closeCheckoutRow(tx, SCOPE, CHECKOUT_ID, 'COMPLETED', NOW),
    'lock the session (findCheckout FOR UPDATE)': (tx) =>
      findCheckout(tx, SCOPE, CHECKOUT_ID, { forUpdate: true }),
    'order replaced (touchCheckout)': (tx) => touchCheckout(tx, SCOPE, CHECKOUT_ID, NOW),
    'read an order (findOrder)': (tx) => findOrder(tx, SCOPE, 'ord_plan_00000007', { forUpdate: true }),
    'order of a session (findOrderByCheckoutId)': (tx) => findOrderByCheckoutId(tx, SCOPE, CHECKOUT_ID),
    'read a payment (findPayment)': (tx) => findPayment(tx, SCOPE, PAYMENT_ID, { forUpdate: true }),
  };

  for (const mode of PLAN_CACHE_MODES) {
    it(`finds each row by a unique index with an index condition (${mode})`, async () => {
      const wrong: string[] = [];
      for (const [name, call] of Object.entries(calls)) {
        const { tx, statements: sent } = recorder('evt_plan_shape');
        await call(tx);
        expect(sent, name).toHaveLength(1);
        wrong.push(
          ...notUniqueLookups(name, tableScans(await planOf(database, sent[0]!, mode)), uniqueIndexes),
        );
      }
      expect(wrong).toEqual([]);
    });
  }
});
