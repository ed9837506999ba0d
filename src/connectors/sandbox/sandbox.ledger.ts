import type { PoolClient, QueryResult, QueryResultRow } from 'pg';

import { PLANNED_PER_CALL } from '../../db/client.ts';
import type { DeclineCode, PaymentMethodType } from '../connector.ts';

/**
 * The SQL of the sandbox acquirer's ledger (tables `sandbox_acquirer_*`, migration 0003). Only the sandbox
 * connector calls these; they take a `Queryable` so each runs on the pool or inside a transaction.
 */

export type Queryable = {
  query<Row extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<Row>>;
};

/** The narrow database dependency of the sandbox: a `pg.Pool` satisfies it. */
export type SandboxDatabase = Queryable & { connect(): Promise<PoolClient> };

export const SANDBOX_PAYMENT_STATUSES = [
  'requires_action',
  'pending',
  'authorized',
  'declined',
  'voided',
] as const;
export type SandboxPaymentStatus = (typeof SANDBOX_PAYMENT_STATUSES)[number];
export type SandboxActionKind = 'three_ds' | 'wallet';
export type SandboxOperationKind = 'authorize' | 'capture' | 'void' | 'refund' | 'resolve';

export type PaymentRow = {
  reference: string;
  payment_id: string;
  method_type: PaymentMethodType;
  amount: number | string;
  currency: string;
  status: SandboxPaymentStatus;
  decline_code: DeclineCode | null;
  action_kind: SandboxActionKind | null;
  return_url: string;
  card_brand: string | null;
  card_last4: string | null;
  finalise_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

export type OperationRow = {
  id: string;
  idempotency_key: string | null;
  request_hash: string | null;
  kind: SandboxOperationKind;
  payment_reference: string | null;
  payment_id: string | null;
  amount: number | string | null;
  currency: string | null;
  outcome: string;
  failure_code: string | null;
  result: unknown;
  created_at: Date;
};

/** bigint columns arrive as strings unless a type parser is installed; accept both, refuse precision loss. */
export function toAmount(value: number | string | null | undefined): number {
  const amount = Number(value ?? 0);
  if (!Number.isSafeInteger(amount)) throw new Error(`Ledger amount ${String(value)} is not a safe integer`);
  return amount;
}

/** A constant first key keeps our advisory locks apart from any other feature's lock space. */
const IDEMPOTENCY_LOCK_CLASS = 5_381_001;

/**
 * Serialises every request carrying the same idempotency key until the transaction ends, so the second of
 * two concurrent identical requests waits and then finds the first one's operation row.
 */
export async function lockIdempotencyKey(tx: Queryable, key: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [IDEMPOTENCY_LOCK_CLASS, key]);
}

export async function findOperationByKey(tx: Queryable, key: string): Promise<OperationRow | undefined> {
  const { rows } = await tx.query<OperationRow>(
    'SELECT * FROM sandbox_acquirer_operations WHERE idempotency_key = $1',
    [key],
  );
  return rows[0];
}

export type NewOperation = {
  id: string;
  idempotencyKey: string | null;
  /** What a replay under the same key is checked against, and what it answers. */
  requestHash: string | null;
  result: unknown;
  kind: SandboxOperationKind;
  paymentReference: string | null;
  paymentId: string | null;
  amount: number | null;
  currency: string | null;
  outcome: string;
  failureCode: string | null;
  createdAt: Date;
};

export async function insertOperation(tx: Queryable, op: NewOperation): Promise<void> {
  await tx.query(
    `INSERT INTO sandbox_acquirer_operations
       (id, idempotency_key, request_hash, kind, payment_reference, payment_id, amount, currency, outcome,
        failure_code, result, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      op.id,
      op.idempotencyKey,
      op.requestHash,
      op.kind,
      op.paymentReference,
      op.paymentId,
      op.amount,
      op.currency,
      op.outcome,
      op.failureCode,
      JSON.stringify(op.result),
      op.createdAt,
    ],
  );
}

export type NewPayment = Omit<PaymentRow, 'amount' | 'updated_at'> & { amount: number };

const OPERATION_COLUMN_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'bigint',
  'text',
  'text',
  'text',
  'jsonb',
  'timestamptz',
];

/**
 * An authorization in one statement, without a transaction: the operation row is inserted first and the
 * unique index on its idempotency key decides — a concurrent request with the same key waits for the first
 * to commit and then inserts nothing; the payment row (when there is one) is inserted only together with
 * its operation. False when the key was taken: the caller replays the stored operation. (The operation's
 * foreign key to the payment is checked at the end of the statement, when both rows exist.)
 *
 * A sale passes its `capture` operation too, written only together with the authorization (under its own
 * key), so an approved sale is authorized and captured in the same statement or not at all.
 */
export async function insertAuthorization(
  db: Queryable,
  operation: NewOperation,
  payment: NewPayment | null,
  capture: NewOperation | null = null,
): Promise<boolean> {
  const values: unknown[] = [
    operation.id,
    operation.idempotencyKey,
    operation.requestHash,
    operation.kind,
    operation.paymentReference,
    operation.paymentId,
    operation.amount,
    operation.currency,
    operation.outcome,
    operation.failureCode,
    JSON.stringify(operation.result),
    operation.createdAt,
  ];
  let insertPayment = '';
  if (payment) {
    values.push(
      payment.reference,
      payment.payment_id,
      payment.method_type,
      payment.amount,
      payment.currency,
      payment.status,
      payment.decline_code,
      payment.action_kind,
      payment.return_url,
      payment.card_brand,
      payment.card_last4,
      payment.finalise_at,
      payment.created_at,
    );
    insertPayment = `, payment AS (
       INSERT INTO sandbox_acquirer_payments
         (reference, payment_id, method_type, amount, currency, status, decline_code, action_kind, return_url,
          card_brand, card_last4, finalise_at, created_at, updated_at)
       SELECT $13::text, $14::text, $15::text, $16::bigint, $17::text, $18::text, $19::text, $20::text, $21::text,
              $22::text, $23::text, $24::timestamptz, $25::timestamptz, $25::timestamptz
         FROM operation)`;
  }
  let insertCapture = '';
  if (capture) {
    const first = values.length + 1;
    values.push(
      capture.id,
      capture.idempotencyKey,
      capture.requestHash,
      capture.kind,
      capture.paymentReference,
      capture.paymentId,
      capture.amount,
      capture.currency,
      capture.outcome,
      capture.failureCode,
      JSON.stringify(capture.result),
      capture.createdAt,
    );
    // Typed: in an INSERT … SELECT PostgreSQL does not infer the placeholders' types from the columns.
    const placeholders = OPERATION_COLUMN_TYPES.map((type, index) => `$${first + index}::${type}`);
    insertCapture = `, capture AS (
       INSERT INTO sandbox_acquirer_operations
         (id, idempotency_key, request_hash, kind, payment_reference, payment_id, amount, currency, outcome,
          failure_code, result, created_at)
       SELECT ${placeholders.join(', ')} FROM operation)`;
  }
  const { rows } = await db.query<{ inserted: boolean }>(
    `WITH operation AS (
       INSERT INTO sandbox_acquirer_operations
         (id, idempotency_key, request_hash, kind, payment_reference, payment_id, amount, currency, outcome,
          failure_code, result, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id)${insertPayment}${insertCapture}
     SELECT EXISTS (SELECT 1 FROM operation) AS inserted`,
    values,
  );
  return rows[0]?.inserted ?? false;
}

export async function findPaymentRow(
  tx: Queryable,
  reference: string,
  options: { forUpdate?: boolean } = {},
): Promise<PaymentRow | undefined> {
  const { rows } = await tx.query<PaymentRow>(
    `SELECT * FROM sandbox_acquirer_payments WHERE reference = $1${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [reference],
  );
  return rows[0];
}

/** The acquirer's authorization for a Kassa payment id (the latest, should a caller ever send two). */
export async function findPaymentRowByPaymentId(
  tx: Queryable,
  paymentId: string,
): Promise<PaymentRow | undefined> {
  const { rows } = await tx.query<PaymentRow>(
    `SELECT * FROM sandbox_acquirer_payments WHERE payment_id = $1 ORDER BY created_at DESC LIMIT 1`,
    [paymentId],
  );
  return rows[0];
}

/** Captured and refunded totals, derived from the succeeded operations (never stored, so never stale). */
export async function sumSettledAmounts(
  tx: Queryable,
  reference: string,
): Promise<{ capturedAmount: number; refundedAmount: number }> {
  const { rows } = await tx.query<{ captured: string | number; refunded: string | number }>(
    `SELECT coalesce(sum(amount) FILTER (WHERE kind = 'capture'), 0) AS captured,
            coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refunded
       FROM sandbox_acquirer_operations
      WHERE payment_reference = $1 AND kind IN ('capture', 'refund') AND outcome = 'succeeded'`,
    [reference],
  );
  return { capturedAmount: toAmount(rows[0]?.captured), refundedAmount: toAmount(rows[0]?.refunded) };
}

export async function updatePaymentStatus(
  tx: Queryable,
  reference: string,
  change: { status: SandboxPaymentStatus; declineCode: DeclineCode | null; now: Date },
): Promise<void> {
  await tx.query(
    `UPDATE sandbox_acquirer_payments SET status = $2, decline_code = $3, updated_at = $4 WHERE reference = $1`,
    [reference, change.status, change.declineCode, change.now],
  );
}

/** Pending payments whose automatic finalisation is due, locked; concurrent workers skip each other's rows. */
export async function lockDuePendingPayments(tx: Queryable, now: Date, limit: number): Promise<PaymentRow[]> {
  const { rows } = await tx.query<PaymentRow>(
    `${PLANNED_PER_CALL}SELECT * FROM sandbox_acquirer_payments
      WHERE status = 'pending' AND finalise_at IS NOT NULL AND finalise_at <= $1
      ORDER BY finalise_at
      LIMIT $2
      FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  return rows;
}

export type OperationFilter = {
  kind?: SandboxOperationKind;
  outcome?: string;
  paymentId?: string;
  paymentReference?: string;
};

// The inspection's filters (tests and the sandbox's pages) are not on the payment path: payment_id has no index
// of its own (a payment's two ledger entries would each write one), so that filter reads the ledger.
function filterClause(filter: OperationFilter): { where: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const add = (column: string, value: unknown) => {
    values.push(value);
    conditions.push(`${column} = $${values.length}`);
  };
  if (filter.kind !== undefined) add('kind', filter.kind);
  if (filter.outcome !== undefined) add('outcome', filter.outcome);
  if (filter.paymentId !== undefined) add('payment_id', filter.paymentId);
  if (filter.paymentReference !== undefined) add('payment_reference', filter.paymentReference);
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', values };
}

export async function countOperationRows(db: Queryable, filter: OperationFilter): Promise<number> {
  const { where, values } = filterClause(filter);
  const { rows } = await db.query<{ count: string | number }>(
    `SELECT count(*) AS count FROM sandbox_acquirer_operations ${where}`,
    values,
  );
  return toAmount(rows[0]?.count);
}

export async function listOperationRows(db: Queryable, filter: OperationFilter): Promise<OperationRow[]> {
  const { where, values } = filterClause(filter);
  const { rows } = await db.query<OperationRow>(
    `SELECT * FROM sandbox_acquirer_operations ${where} ORDER BY seq`,
    values,
  );
  return rows;
}
