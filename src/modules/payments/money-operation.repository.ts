import type { Queryable, UnitOfWork } from '../../db/client.ts';
import type { Metadata } from '../../lib/metadata.ts';
import { fetchPage, type PageRequest, type Sql } from '../../db/pagination.ts';
import type { Capture, MoneyOperationStatus, Payment, Refund } from './payment.types.ts';

/**
 * Captures and refunds: append-only child rows of a payment (docs/payments.md, "Capture and refund rules").
 * Remaining amounts are derived from them under the payment's row lock.
 */

type MoneyOperationRow = {
  id: string;
  payment_id: string;
  livemode: boolean;
  amount: number;
  status: MoneyOperationStatus;
  failure_message: string | null;
  reason?: string | null;
  metadata: Metadata;
  created_at: Date;
  updated_at: Date;
};

function toCapture(row: MoneyOperationRow): Capture {
  return {
    id: row.id,
    paymentId: row.payment_id,
    livemode: row.livemode,
    amount: row.amount,
    status: row.status,
    failureMessage: row.failure_message,
    metadata: row.metadata,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRefund(row: MoneyOperationRow): Refund {
  return { ...toCapture(row), reason: row.reason ?? null };
}

/**
 * A capture row: PENDING before the processor is asked, or — with `made` — one the processor has already made
 * (a sale's), written SUCCEEDED with the processor's reference.
 */
type NewCapture = {
  id: string;
  payment: Payment;
  amount: number;
  now: Date;
  made?: { connectorReference: string | null };
  /** The merchant's, sent with `POST /v1/payments/{id}/capture`; the captures a payment's own flow makes have none. */
  metadata?: Metadata;
};

const INSERT_CAPTURE = `INSERT INTO captures (id, payment_id, merchant_id, livemode, amount, status, connector_reference,
   metadata, created_at, updated_at)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8, $8) RETURNING *`;

function insertCaptureValues(capture: NewCapture): unknown[] {
  return [
    capture.id,
    capture.payment.id,
    capture.payment.merchantId,
    capture.payment.livemode,
    capture.amount,
    capture.made ? 'SUCCEEDED' : 'PENDING',
    capture.made?.connectorReference ?? null,
    capture.now,
    JSON.stringify(capture.metadata ?? {}),
  ];
}

export async function insertCapture(tx: Queryable, capture: NewCapture): Promise<Capture> {
  const { rows } = await tx.query<MoneyOperationRow>(INSERT_CAPTURE, insertCaptureValues(capture));
  return toCapture(rows[0]!);
}

/**
 * `insertCapture` as a write of the caller's unit of work (its answer comes once the unit has applied it). A
 * failure (the id taken) fails the unit, and nothing commits.
 */
export function recordCapture(tx: UnitOfWork, capture: NewCapture): { result(): Promise<Capture> } {
  const pending = tx.write<MoneyOperationRow>(INSERT_CAPTURE, insertCaptureValues(capture));
  return { result: async () => toCapture((await pending.result()).rows[0]!) };
}

export async function insertRefund(
  tx: Queryable,
  refund: {
    id: string;
    payment: Payment;
    amount: number;
    reason: string | null;
    metadata: Metadata;
    now: Date;
  },
): Promise<Refund> {
  const { rows } = await tx.query<MoneyOperationRow>(
    `INSERT INTO refunds (id, payment_id, merchant_id, livemode, amount, reason, metadata, status, created_at,
       updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $8, 'PENDING', $7, $7) RETURNING *`,
    [
      refund.id,
      refund.payment.id,
      refund.payment.merchantId,
      refund.payment.livemode,
      refund.amount,
      refund.reason,
      refund.now,
      JSON.stringify(refund.metadata),
    ],
  );
  return toRefund(rows[0]!);
}

export async function settleMoneyOperation(
  tx: Queryable,
  table: 'captures' | 'refunds',
  id: string,
  outcome: { status: 'SUCCEEDED' | 'FAILED'; connectorReference?: string; failureMessage?: string },
  now: Date,
): Promise<Capture | Refund | undefined> {
  const { rows } = await tx.query<MoneyOperationRow>(
    `UPDATE ${table} SET status = $2, connector_reference = COALESCE($3, connector_reference), failure_message = $4, updated_at = $5
     WHERE id = $1 AND status = 'PENDING' RETURNING *`,
    [id, outcome.status, outcome.connectorReference ?? null, outcome.failureMessage ?? null, now],
  );
  if (!rows[0]) return undefined;
  return table === 'captures' ? toCapture(rows[0]) : toRefund(rows[0]);
}

/** Sum of captures (or refunds) that hold or may hold money: SUCCEEDED and PENDING ones. */
export async function sumCommittedAmount(
  tx: Queryable,
  table: 'captures' | 'refunds',
  paymentId: string,
): Promise<number> {
  const { rows } = await tx.query<{ total: number | null }>(
    `SELECT COALESCE(sum(amount), 0)::bigint AS total FROM ${table} WHERE payment_id = $1 AND status <> 'FAILED'`,
    [paymentId],
  );
  return rows[0]?.total ?? 0;
}

export async function listCaptures(db: Queryable, paymentId: string): Promise<Capture[]> {
  const { rows } = await db.query<MoneyOperationRow>(
    `SELECT * FROM captures WHERE payment_id = $1 ORDER BY created_at, id`,
    [paymentId],
  );
  return rows.map(toCapture);
}

export async function listRefunds(db: Queryable, paymentId: string): Promise<Refund[]> {
  const { rows } = await db.query<MoneyOperationRow>(
    `SELECT * FROM refunds WHERE payment_id = $1 ORDER BY created_at, id`,
    [paymentId],
  );
  return rows.map(toRefund);
}

export async function findPendingMoneyOperations(
  db: Queryable,
  table: 'captures' | 'refunds',
  before: Date,
  limit: number,
) {
  const { rows } = await db.query<MoneyOperationRow>(
    `SELECT * FROM ${table} WHERE status = 'PENDING' AND updated_at < $1 ORDER BY updated_at LIMIT $2`,
    [before, limit],
  );
  return rows.map(table === 'captures' ? toCapture : toRefund);
}

type ScopedMoneyOperationRow = MoneyOperationRow & { currency: string };
type MoneyOperationTable = 'captures' | 'refunds';

/** One capture or refund of the caller's merchant and mode, with its payment's currency; another's is absent. */
async function findScopedMoneyOperation(
  db: Queryable,
  table: MoneyOperationTable,
  scope: { merchantId: string; livemode: boolean },
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ScopedMoneyOperationRow | undefined> {
  const { rows } = await db.query<ScopedMoneyOperationRow>(
    `SELECT o.*, p.currency FROM ${table} o JOIN payments p ON p.id = o.payment_id
      WHERE o.id = $1 AND o.merchant_id = $2 AND o.livemode = $3 ${options.forUpdate ? 'FOR UPDATE OF o' : ''}`,
    [id, scope.merchantId, scope.livemode],
  );
  return rows[0];
}

/** Writes a capture's or refund's new metadata (the caller holds its row lock). */
async function updateMoneyOperationMetadata(
  tx: Queryable,
  table: MoneyOperationTable,
  id: string,
  metadata: Metadata,
  now: Date,
): Promise<void> {
  await tx.query(`UPDATE ${table} SET metadata = $2, updated_at = $3 WHERE id = $1`, [
    id,
    JSON.stringify(metadata),
    now,
  ]);
}

/**
 * A page of the caller's captures or refunds — all of them, or one payment's — newest first, with the
 * payment's currency (`limit + 1` rows: src/db/pagination.ts).
 */
async function listScopedMoneyOperations(
  db: Queryable,
  table: MoneyOperationTable,
  scope: { merchantId: string; livemode: boolean },
  page: PageRequest,
  paymentId?: string,
): Promise<ScopedMoneyOperationRow[]> {
  const conditions: Sql[] = [
    (p) => `o.merchant_id = ${p(scope.merchantId)}`,
    (p) => `o.livemode = ${p(scope.livemode)}`,
  ];
  if (paymentId !== undefined) conditions.push((p) => `o.payment_id = ${p(paymentId)}`);
  return fetchPage<ScopedMoneyOperationRow>(
    db,
    {
      alias: 'o',
      from: `${table} o JOIN payments p ON p.id = o.payment_id`,
      columns: 'o.*, p.currency',
      scope: conditions,
    },
    page,
  );
}

export async function findScopedCapture(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<{ capture: Capture; currency: string } | undefined> {
  const row = await findScopedMoneyOperation(db, 'captures', scope, id, options);
  return row && { capture: toCapture(row), currency: row.currency };
}

export async function findScopedRefund(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<{ refund: Refund; currency: string } | undefined> {
  const row = await findScopedMoneyOperation(db, 'refunds', scope, id, options);
  return row && { refund: toRefund(row), currency: row.currency };
}

export function updateCaptureMetadata(tx: Queryable, id: string, metadata: Metadata, now: Date) {
  return updateMoneyOperationMetadata(tx, 'captures', id, metadata, now);
}

export function updateRefundMetadata(tx: Queryable, id: string, metadata: Metadata, now: Date) {
  return updateMoneyOperationMetadata(tx, 'refunds', id, metadata, now);
}

/** A page of the caller's captures, or of one payment's (a cursor from another payment is a 400). */
export async function listScopedCaptures(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  page: PageRequest,
  paymentId?: string,
): Promise<{ capture: Capture; currency: string }[]> {
  const rows = await listScopedMoneyOperations(db, 'captures', scope, page, paymentId);
  return rows.map((row) => ({ capture: toCapture(row), currency: row.currency }));
}

/** A page of the caller's refunds, or of one payment's (a cursor from another payment is a 400). */
export async function listScopedRefunds(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  page: PageRequest,
  paymentId?: string,
): Promise<{ refund: Refund; currency: string }[]> {
  const rows = await listScopedMoneyOperations(db, 'refunds', scope, page, paymentId);
  return rows.map((row) => ({ refund: toRefund(row), currency: row.currency }));
}

/** Records the processor's id of a PENDING capture or refund (an operation the processor decides later). */
export async function rememberOperationReference(
  db: Queryable,
  table: 'captures' | 'refunds',
  id: string,
  operationReference: string,
): Promise<void> {
  await db.query(
    `UPDATE ${table} SET connector_reference = $2 WHERE id = $1 AND status = 'PENDING' AND connector_reference IS NULL`,
    [id, operationReference],
  );
}

/**
 * The capture or refund of `paymentId` a processor notification is about: the one with its reference, else
 * (the reference not yet recorded when the notification raced the processor's answer) the only PENDING one.
 */
export async function findMoneyOperationForNotification(
  db: Queryable,
  table: 'captures' | 'refunds',
  paymentId: string,
  operationReference: string,
): Promise<Capture | Refund | undefined> {
  const { rows } = await db.query<MoneyOperationRow & { connector_reference: string | null }>(
    `SELECT * FROM ${table} WHERE payment_id = $1 AND (connector_reference = $2 OR status = 'PENDING')
      ORDER BY created_at, id`,
    [paymentId, operationReference],
  );
  const row =
    rows.find((candidate) => candidate.connector_reference === operationReference) ??
    (rows.filter((candidate) => candidate.status === 'PENDING' && candidate.connector_reference === null)
      .length === 1
      ? rows.find((candidate) => candidate.status === 'PENDING' && candidate.connector_reference === null)
      : undefined);
  if (!row) return undefined;
  return table === 'captures' ? toCapture(row) : toRefund(row);
}
