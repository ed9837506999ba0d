import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { UnitOfWork } from '../src/db/client.ts';
import { LOCK_KEY_AND_FIND_RECORD } from '../src/http/idempotency-record.ts';
import {
  createHostedPageContentCache,
  findHostedPageSnapshot,
} from '../src/http/hosted/hosted-page.repository.ts';
import {
  claimDueCheckouts,
  closeCheckoutRow,
  findCheckout,
  findCheckoutScope,
  listCheckouts,
  lockCheckout,
  lockCheckoutOfPayment,
  setActivePayment,
  touchCheckout,
} from '../src/modules/checkouts/checkout.repository.ts';
import { listEvents } from '../src/modules/events/event.repository.ts';
import {
  findOrder,
  listOrders,
  lockOrderOfPayment,
  writeOrderMove,
} from '../src/modules/orders/order.repository.ts';
import { replaceSessionClientToken } from '../src/modules/payment-links/payment-link.repository.ts';
import {
  applyPaymentChange,
  findPaymentById,
  insertPayment,
  lockPayment,
  writePayment,
} from '../src/modules/payments/payment.repository.ts';
import { eventsStatement, type EventWithId } from '../src/outbox/event-writer.ts';
import { claimDueDeliveries } from '../src/outbox/webhook-delivery.repository.ts';
import { recorder } from './statement-recorder.ts';

/**
 * `EXPLAIN (ANALYZE, BUFFERS)` of the hot statements on a loaded database (`npm run bench -- --scale
 * --explain`; docs/performance.md, "Scale with data"). The statements are the ones the repository functions
 * send: each function runs against a recorder that keeps its SQL and values (as in
 * test/unit/db/hot-statement-plans.test.ts), and the statement is then prepared and explained with those
 * values — in a transaction that is rolled back, so the writes leave nothing behind — with the custom plan
 * and with the generic plan a prepared statement may settle on.
 */

type Statement = { text: string; values: unknown[]; before?: Statement };
export type PlanNode = {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Shared Dirtied Blocks'?: number;
  'Shared Written Blocks'?: number;
  Plans?: PlanNode[];
};
type ExplainJson = [
  {
    Plan: PlanNode;
    'Planning Time': number;
    'Execution Time': number;
    Planning?: { 'Shared Hit Blocks'?: number };
  },
];

/** What `call` sends (it must send exactly one statement). */
async function sentBy(name: string, call: (tx: UnitOfWork) => unknown): Promise<Statement> {
  const { tx, statements } = recorder('evt_explain');
  await call(tx);
  if (statements.length !== 1) throw new Error(`${name}: sent ${statements.length} statements, expected 1`);
  return statements[0]!;
}

/** Ids of real rows of the loaded database, for the statements' values. */
async function pickRows(db: pg.ClientBase, merchantId: string) {
  const one = async <Row extends pg.QueryResultRow>(sql: string) => {
    const row = (await db.query<Row>(sql, [merchantId])).rows[0];
    if (!row) throw new Error(`explain: no row for ${sql.replace(/\s+/g, ' ').slice(0, 120)}`);
    return row;
  };
  // An open session of the bench merchant with no attempt yet, from the middle of the open ones.
  const open = await one<{ checkout_id: string; order_id: string }>(
    `SELECT c.id AS checkout_id, o.id AS order_id FROM checkouts c JOIN orders o ON o.checkout_id = c.id
      WHERE c.merchant_id = $1 AND c.status = 'OPEN' AND NOT c.payment_started AND c.active_payment_id IS NULL
      ORDER BY c.created_at OFFSET (SELECT count(*) / 2 FROM checkouts WHERE status = 'OPEN' AND merchant_id = $1) LIMIT 1`,
  );
  // An authorized (manual capture) payment: what settle moves to SUCCEEDED with its order.
  const authorized = await one<{ payment_id: string; order_id: string; checkout_id: string }>(
    `SELECT id AS payment_id, order_id, checkout_id FROM payments
      WHERE merchant_id = $1 AND status = 'AUTHORIZED' ORDER BY created_at DESC LIMIT 1`,
  );
  const key = await one<{ idempotency_key: string }>(
    `SELECT coalesce((SELECT idempotency_key FROM idempotency_keys WHERE merchant_id = $1 LIMIT 1), 'explain-missing') AS idempotency_key`,
  );
  return { open, authorized, idempotencyKey: key.idempotency_key };
}

async function hotStatements(db: pg.ClientBase, merchantId: string): Promise<[string, Statement][]> {
  const scope = { merchantId, livemode: false };
  const now = new Date();
  const { open, authorized, idempotencyKey } = await pickRows(db, merchantId);
  const newPaymentId = `pay_${randomBytes(16).toString('hex')}`;
  const payment = await findPaymentById(db, authorized.payment_id);
  const order = await findOrder(db, scope, authorized.order_id);
  if (!payment || !order) throw new Error('explain: the authorized payment or its order is gone');
  const paid = applyPaymentChange(payment, { status: 'SUCCEEDED', capturedAmount: payment.amount }, now);
  const paidOrder = {
    ...order,
    status: 'PAID' as const,
    capturedAmount: payment.amount,
    updatedAt: now,
    version: order.version + 1,
  };
  const settleEvents: EventWithId[] = [
    ['payment.captured', 'payment'],
    ['payment.succeeded', 'payment'],
    ['order.updated', 'order'],
    ['order.updated', 'order'],
    ['checkout.completed', 'checkout'],
  ].map(([type, object]) => ({
    id: `evt_${randomBytes(16).toString('hex')}`,
    merchantId,
    livemode: false,
    type: type!,
    objectId: object === 'payment' ? payment.id : object === 'order' ? order.id : authorized.checkout_id,
    orderId: order.id,
    checkoutId: authorized.checkout_id,
    paymentId: payment.id,
    data: { id: payment.id, object, status: 'SUCCEEDED', amount: payment.amount, currency: payment.currency },
    actor: { type: 'system', id: 'explain' },
    traceparent: null,
  }));
  const page = { limit: 11 };
  const entries: [string, (tx: UnitOfWork) => unknown][] = [
    [
      'payment start: lock the session (lockCheckout)',
      (tx) => tx.load(lockCheckout(scope, open.checkout_id)),
    ],
    [
      'payment start: insert the attempt (insertPayment)',
      (tx) =>
        insertPayment(tx, {
          id: newPaymentId,
          scope,
          checkoutId: open.checkout_id,
          orderId: open.order_id,
          channel: 'api',
          method: 'card',
          amount: 1000,
          currency: 'MXN',
          captureMode: 'automatic',
          connectorId: 'sandbox',
          card: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, fingerprint: 'fp' },
          savedPaymentMethodId: null,
          now,
        }),
    ],
    [
      'payment start: mark the attempt in flight (setActivePayment)',
      (tx) => setActivePayment(tx, scope, open.checkout_id, newPaymentId, now),
    ],
    [
      'settle: lock the session of the payment (lockCheckoutOfPayment)',
      (tx) => tx.load(lockCheckoutOfPayment(payment.id)),
    ],
    [
      'settle: lock the order of the payment (lockOrderOfPayment)',
      (tx) => tx.load(lockOrderOfPayment(payment.id)),
    ],
    ['settle: lock the payment (lockPayment)', (tx) => tx.load(lockPayment(payment.id))],
    ['settle: write the payment (writePayment)', (tx) => writePayment(tx, payment, paid)],
    ['settle: write the order (writeOrderMove)', (tx) => writeOrderMove(tx, order, paidOrder)],
    [
      'settle: close the session (closeCheckoutRow)',
      (tx) => closeCheckoutRow(tx, scope, open.checkout_id, 'COMPLETED', now),
    ],
    [
      'settle: the events and their deliveries (eventsStatement, 5 events)',
      (tx) => {
        const statement = eventsStatement(settleEvents);
        return tx.query(statement.text, statement.values);
      },
    ],
    [
      'idempotency lookup (LOCK_KEY_AND_FIND_RECORD)',
      (tx) => tx.query(LOCK_KEY_AND_FIND_RECORD, [1, 2, merchantId, false, idempotencyKey]),
    ],
    [
      'hosted page read (findHostedPageSnapshot)',
      (tx) =>
        findHostedPageSnapshot(
          {
            db: tx,
            merchants: undefined as never,
            paymentMethodSettings: undefined as never,
            contents: createHostedPageContentCache(),
          },
          open.checkout_id,
        ),
    ],
    ['read the session (findCheckout)', (tx) => findCheckout(tx, scope, open.checkout_id)],
    ['whose session (findCheckoutScope)', (tx) => findCheckoutScope(tx, open.checkout_id)],
    ['order replaced (touchCheckout)', (tx) => touchCheckout(tx, scope, open.checkout_id, now)],
    [
      'payment link visit (replaceSessionClientToken)',
      (tx) => replaceSessionClientToken(tx, open.checkout_id, Buffer.alloc(32, 7)),
    ],
    [
      'webhook claim (claimDueDeliveries, 50)',
      (tx) => claimDueDeliveries(tx, { limit: 50, leaseSeconds: 30, leaseToken: 'explain' }),
    ],
    ['expiry sweep (claimDueCheckouts, 100)', (tx) => claimDueCheckouts(tx, now, 100)],
    ['list checkouts, first page (listCheckouts)', (tx) => listCheckouts(tx, scope, page)],
    ['list orders, first page (listOrders)', (tx) => listOrders(tx, scope, page)],
    ['list events, first page (listEvents)', (tx) => listEvents(tx, scope, {}, page)],
  ];
  const statements: [string, Statement][] = [];
  for (const [name, call] of entries) statements.push([name, await sentBy(name, call)]);
  // The attempt is inserted only for a session already marked with it: mark it first, in the same transaction.
  const insert = statements.find(([name]) => name.includes('insertPayment'))![1];
  insert.before = statements.find(([name]) => name.includes('setActivePayment'))![1];
  return statements;
}

/** A value as an SQL literal, as `pg` would send it as a parameter. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'`;
  if (value instanceof Date) return pg.escapeLiteral(value.toISOString());
  if (Array.isArray(value))
    return pg.escapeLiteral(`{${value.map((v) => JSON.stringify(String(v))).join(',')}}`);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return pg.escapeLiteral(String(value));
  throw new Error(`no literal for ${typeof value} parameter`);
}

export const PLAN_MODES = ['force_custom_plan', 'force_generic_plan'] as const;

export type ExplainedStatement = {
  name: string;
  mode: (typeof PLAN_MODES)[number];
  /** Each table read: node type, relation, index, index condition, rows returned, rows filtered out. */
  scans: {
    node: string;
    relation: string;
    index: string | null;
    indexCond: boolean;
    rows: number;
    removed: number;
  }[];
  shared_hit: number;
  shared_read: number;
  shared_dirtied: number;
  planning_ms: number;
  execution_ms: number;
  text: string;
};

/**
 * The statement's buffers: the root node's count includes its children, except data-modifying CTEs the
 * main query does not read (they run after it, outside any node): then the children's sum is larger.
 */
function buffers(
  plan: PlanNode,
  field: 'Shared Hit Blocks' | 'Shared Read Blocks' | 'Shared Dirtied Blocks',
) {
  const children = (plan.Plans ?? []).reduce((sum, child) => sum + (child[field] ?? 0), 0);
  return Math.max(plan[field] ?? 0, children);
}

function tableScans(node: PlanNode): PlanNode[] {
  const own = node['Relation Name'] !== undefined && node['Node Type'] !== 'ModifyTable' ? [node] : [];
  return [...own, ...(node.Plans ?? []).flatMap(tableScans)];
}

/** Runs `EXPLAIN (ANALYZE, BUFFERS)` of the statement prepared, in a transaction rolled back afterwards. */
async function explain(
  db: pg.ClientBase,
  name: string,
  statement: Statement,
  mode: (typeof PLAN_MODES)[number],
): Promise<ExplainedStatement> {
  const args = statement.values.map(literal).join(', ');
  const execute = `EXECUTE explain_probe${args ? `(${args})` : ''}`;
  const setUp = async () => {
    await db.query('BEGIN');
    await db.query(`SET LOCAL plan_cache_mode = ${mode}`);
    if (statement.before) await db.query(statement.before.text, statement.before.values);
  };
  await setUp();
  try {
    await db.query(`PREPARE explain_probe AS ${statement.text}`);
    const json = (
      await db.query<{ 'QUERY PLAN': ExplainJson }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${execute}`)
    ).rows[0]!['QUERY PLAN'][0];
    await db.query('ROLLBACK');
    // Again for the text form (what a reader of docs/performance.md can compare with by hand).
    await setUp();
    const text = (
      await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${execute}`)
    ).rows
      .map((row) => row['QUERY PLAN'])
      .join('\n');
    const plan = json.Plan;
    return {
      name,
      mode,
      scans: tableScans(plan).map((scan) => ({
        node: scan['Node Type'],
        relation: scan['Relation Name']!,
        index: scan['Index Name'] ?? null,
        indexCond: scan['Index Cond'] !== undefined,
        rows: (scan['Actual Rows'] ?? 0) * (scan['Actual Loops'] ?? 1),
        removed: (scan['Rows Removed by Filter'] ?? 0) + (scan['Rows Removed by Index Recheck'] ?? 0),
      })),
      shared_hit: buffers(plan, 'Shared Hit Blocks'),
      shared_read: buffers(plan, 'Shared Read Blocks'),
      shared_dirtied: buffers(plan, 'Shared Dirtied Blocks'),
      planning_ms: Math.round(json['Planning Time'] * 1000) / 1000,
      execution_ms: Math.round(json['Execution Time'] * 1000) / 1000,
      text,
    };
  } finally {
    await db.query('ROLLBACK').catch(() => {});
    await db.query('DEALLOCATE ALL').catch(() => {});
  }
}

/** Every hot statement, custom and generic plan, explained on the database `db` is connected to. */
export async function explainHotStatements(
  db: pg.ClientBase,
  merchantId: string,
): Promise<ExplainedStatement[]> {
  const results: ExplainedStatement[] = [];
  for (const [name, statement] of await hotStatements(db, merchantId))
    for (const mode of PLAN_MODES) results.push(await explain(db, name, statement, mode));
  return results;
}

function describeScan(scan: ExplainedStatement['scans'][number]): string {
  const where = scan.index ? `\`${scan.index}\`` : scan.relation;
  const how = scan.node === 'Seq Scan' ? `**Seq Scan** on ${scan.relation}` : `${scan.node} ${where}`;
  return `${how}${scan.index && !scan.indexCond ? ' (no index condition)' : ''}: ${scan.rows} row${scan.rows === 1 ? '' : 's'}${
    scan.removed ? `, ${scan.removed} filtered out` : ''
  }`;
}

/** The Markdown table docs/performance.md carries, and the text plans under it. */
export function formatExplained(explained: ExplainedStatement[], counts: Record<string, number>): string {
  const fmt = (value: number) => value.toLocaleString('en-US');
  const lines = [
    `Row counts: ${Object.entries(counts)
      .map(([table, n]) => `${table} ${fmt(n)}`)
      .join(', ')}.`,
    '',
    '| Statement | plan | tables read (rows) | buffers hit / read / dirtied | planning ms | execution ms |',
    '|---|---|---|---|---:|---:|',
    ...explained.map(
      (e) =>
        `| ${e.name} | ${e.mode === 'force_custom_plan' ? 'custom' : 'generic'} | ${e.scans.map(describeScan).join('; ').replace(/\|/g, '\\|') || '—'} | ${fmt(e.shared_hit)} / ${fmt(e.shared_read)} / ${fmt(e.shared_dirtied)} | ${e.planning_ms} | ${e.execution_ms} |`,
    ),
  ];
  return lines.join('\n');
}

export function formatPlans(explained: ExplainedStatement[]): string {
  return explained
    .map((e) => [`### ${e.name} (${e.mode})`, '', '```', e.text, '```', ''].join('\n'))
    .join('\n');
}
