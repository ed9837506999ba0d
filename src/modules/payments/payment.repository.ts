import type { QueryResult } from 'pg';
import { type Load, type Queryable, type UnitOfWork } from '../../db/client.ts';
import { fetchPage, type PageRequest } from '../../db/pagination.ts';
import type { Metadata } from '../../lib/metadata.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import type { PaymentMethodType } from '../payment-methods/eligibility.ts';
import type { PaymentStatus } from './payment.states.ts';
import type { Payment, PaymentCard, PaymentChannel } from './payment.types.ts';

/** A payments row as read (`SELECT *`); payment-recovery.repository.ts reads the same rows. */
export type PaymentRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  checkout_id: string;
  order_id: string;
  status: PaymentStatus;
  processing_since: Date | null;
  order_verified_at?: Date | null;
  channel: PaymentChannel;
  method: PaymentMethodType;
  amount: number;
  currency: string;
  capture_mode: 'automatic' | 'manual';
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  connector_id: string;
  connector_reference: string | null;
  action_url: string | null;
  decline_code: string | null;
  failure_message: string | null;
  card_brand: string | null;
  card_last4: string | null;
  card_exp_month: number | null;
  card_exp_year: number | null;
  card_fingerprint: string | null;
  saved_payment_method_id: string | null;
  metadata: Metadata;
  version: number;
  created_at: Date;
  updated_at: Date;
};

export function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    checkoutId: row.checkout_id,
    orderId: row.order_id,
    status: row.status,
    processingSince: row.processing_since,
    orderVerifiedAt: row.order_verified_at ?? null,
    channel: row.channel,
    method: row.method,
    amount: row.amount,
    currency: row.currency,
    captureMode: row.capture_mode,
    authorizedAmount: row.authorized_amount,
    capturedAmount: row.captured_amount,
    refundedAmount: row.refunded_amount,
    connectorId: row.connector_id,
    connectorReference: row.connector_reference,
    actionUrl: row.action_url,
    declineCode: row.decline_code,
    failureMessage: row.failure_message,
    card:
      row.card_brand && row.card_last4
        ? {
            brand: row.card_brand,
            last4: row.card_last4,
            expMonth: row.card_exp_month ?? 0,
            expYear: row.card_exp_year ?? 0,
            fingerprint: row.card_fingerprint ?? '',
          }
        : null,
    savedPaymentMethodId: row.saved_payment_method_id,
    metadata: row.metadata,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type NewPayment = {
  id: string;
  scope: Scope;
  checkoutId: string;
  orderId: string;
  channel: PaymentChannel;
  method: PaymentMethodType;
  amount: number;
  currency: string;
  captureMode: 'automatic' | 'manual';
  connectorId: string;
  card: PaymentCard | null;
  savedPaymentMethodId: string | null;
  /** The merchant's, sent with `POST /v1/payments`; a payment the hosted page starts has none. */
  metadata?: Metadata;
  now: Date;
};

/**
 * Step 1 of an attempt, a write of the caller's unit of work: inserts the payment as `processing`, once the
 * session's mark (`setActivePayment`, queued before it in the same unit) names it as the active attempt. The
 * caller holds the session's row lock and has checked it; should the mark have found the session changed
 * anyway, no payment is inserted (answer: undefined). The answer comes once the unit has applied it.
 */
export function insertPayment(
  tx: UnitOfWork,
  payment: NewPayment,
): { result(): Promise<Payment | undefined> } {
  const pending = tx.write<PaymentRow>(
    `INSERT INTO payments (id, merchant_id, livemode, checkout_id, order_id, status, processing_since, channel,
       method, amount, currency, capture_mode, connector_id, card_brand, card_last4, card_exp_month,
       card_exp_year, card_fingerprint, saved_payment_method_id, metadata, created_at, updated_at)
     SELECT $1, $2, $3, $4, $5::text, 'PENDING', $6, $7::text, $8::text, $9::bigint, $10::char(3), $11::text,
       $12::text, $13::text, $14::char(4), $15::smallint, $16::smallint, $17::text, $18::text, $19::jsonb, $6, $6
      WHERE EXISTS (SELECT 1 FROM checkouts WHERE id = $4 AND active_payment_id = $1)
     RETURNING *`,
    [
      payment.id,
      payment.scope.merchantId,
      payment.scope.livemode,
      payment.checkoutId,
      payment.orderId,
      payment.now,
      payment.channel,
      payment.method,
      payment.amount,
      payment.currency,
      payment.captureMode,
      payment.connectorId,
      payment.card?.brand ?? null,
      payment.card?.last4 ?? null,
      payment.card?.expMonth ?? null,
      payment.card?.expYear ?? null,
      payment.card?.fingerprint ?? null,
      payment.savedPaymentMethodId,
      JSON.stringify(payment.metadata ?? {}),
    ],
  );
  return { result: async () => readPayment(await pending.result()) };
}

/** A load (`uow.load`) that locks a payment and reads it. */
export function lockPayment(paymentId: string): Load<Payment | undefined> {
  return { text: 'SELECT * FROM payments WHERE id = $1 FOR UPDATE', values: [paymentId], read: readPayment };
}

function readPayment(result: QueryResult): Payment | undefined {
  const row = result.rows[0] as PaymentRow | undefined;
  return row && toPayment(row);
}

/** By id: the scope a filter, not an index condition (checkout.repository.ts). */
export async function findPayment(
  db: Queryable,
  scope: Scope,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Payment | undefined> {
  const { rows } = await db.query<PaymentRow>(
    `SELECT * FROM payments WHERE id = $1 AND (merchant_id, livemode) IS NOT DISTINCT FROM ($2, $3) ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    [id, scope.merchantId, scope.livemode],
  );
  return rows[0] ? toPayment(rows[0]) : undefined;
}

/** Several payments at once (expansions of a list page); missing ids are left out. */
export async function findPayments(db: Queryable, scope: Scope, ids: string[]): Promise<Payment[]> {
  const { rows } = await db.query<PaymentRow>(
    'SELECT * FROM payments WHERE id = ANY($1) AND merchant_id = $2 AND livemode = $3',
    [ids, scope.merchantId, scope.livemode],
  );
  return rows.map(toPayment);
}

/**
 * Records that `verify_order` answered OKAY for the attempt, and answers with the payment as it is now (a
 * recovery or a concurrent resume may have settled it meanwhile). The processor is called only after this.
 */
export async function markOrderVerified(db: Queryable, id: string, now: Date): Promise<Payment | undefined> {
  const { rows } = await db.query<PaymentRow>(
    `UPDATE payments SET order_verified_at = $2 WHERE id = $1 RETURNING *`,
    [id, now],
  );
  return rows[0] ? toPayment(rows[0]) : undefined;
}

/** For processor notifications and workers, which act for whichever merchant owns the payment. */
export async function findPaymentById(
  db: Queryable,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Payment | undefined> {
  const { rows } = await db.query<PaymentRow>(
    `SELECT * FROM payments WHERE id = $1 ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? toPayment(rows[0]) : undefined;
}

/** The payment a processor account took with the processor's id `connectorReference`. */
export async function findPaymentByConnectorReference(
  db: Queryable,
  connectorId: string,
  connectorReference: string,
): Promise<Payment | undefined> {
  const { rows } = await db.query<PaymentRow>(
    `SELECT * FROM payments WHERE connector_id = $1 AND connector_reference = $2`,
    [connectorId, connectorReference],
  );
  return rows[0] ? toPayment(rows[0]) : undefined;
}

/** A page of an order's payments, newest first (`limit + 1` rows: src/db/pagination.ts). */
export async function listPaymentsOfOrderPage(
  db: Queryable,
  scope: Scope,
  orderId: string,
  page: PageRequest,
): Promise<Payment[]> {
  const rows = await fetchPage<PaymentRow>(
    db,
    {
      alias: 'payments',
      from: 'payments',
      columns: 'payments.*',
      scope: [
        (p) => `payments.order_id = ${p(orderId)}`,
        (p) => `payments.merchant_id = ${p(scope.merchantId)}`,
        (p) => `payments.livemode = ${p(scope.livemode)}`,
      ],
    },
    page,
  );
  return rows.map(toPayment);
}

/** Every payment of an order, oldest first (the dashboard's order page). */
export async function listPaymentsOfOrder(db: Queryable, scope: Scope, orderId: string): Promise<Payment[]> {
  const { rows } = await db.query<PaymentRow>(
    `SELECT * FROM payments WHERE order_id = $1 AND merchant_id = $2 AND livemode = $3 ORDER BY created_at, id`,
    [orderId, scope.merchantId, scope.livemode],
  );
  return rows.map(toPayment);
}

export type PaymentChange = Partial<{
  status: PaymentStatus;
  processingSince: Date | null;
  authorizedAmount: number;
  capturedAmount: number;
  refundedAmount: number;
  connectorReference: string;
  actionUrl: string | null;
  declineCode: string | null;
  failureMessage: string | null;
  savedPaymentMethodId: string;
}>;

const CHANGE_COLUMNS: Record<keyof PaymentChange, string> = {
  status: 'status',
  processingSince: 'processing_since',
  authorizedAmount: 'authorized_amount',
  capturedAmount: 'captured_amount',
  refundedAmount: 'refunded_amount',
  connectorReference: 'connector_reference',
  actionUrl: 'action_url',
  declineCode: 'decline_code',
  failureMessage: 'failure_message',
  savedPaymentMethodId: 'saved_payment_method_id',
};

/** A payment after `change` (pure): what `changePayment` writes. Every change moves the version by one. */
export function applyPaymentChange(payment: Payment, change: PaymentChange, now: Date): Payment {
  const changed: Payment = { ...payment, updatedAt: now, version: payment.version + 1 };
  for (const field of Object.keys(CHANGE_COLUMNS) as (keyof PaymentChange)[]) {
    if (field in change) (changed as Record<string, unknown>)[field] = change[field];
  }
  return changed;
}

/**
 * Writes a payment the caller has locked, as it is after one or more changes (`applyPaymentChange`): a
 * write of its unit of work, guarded by the version it was decided on (under the lock it cannot miss).
 */
export function writePayment(tx: UnitOfWork, before: Payment, after: Payment): void {
  const sets: string[] = [];
  const values: unknown[] = [before.id, before.version, after.updatedAt, after.version];
  for (const [field, column] of Object.entries(CHANGE_COLUMNS) as [keyof PaymentChange, string][]) {
    if (after[field] === before[field]) continue;
    values.push(after[field]);
    sets.push(`${column} = $${values.length}`);
  }
  tx.write(
    `UPDATE payments SET ${sets.join(', ')}${sets.length ? ', ' : ''}updated_at = $3, version = $4
     WHERE id = $1 AND version = $2`,
    values,
  );
}

/** `applyPaymentChange` and `writePayment` in one: the payment as changed, its write queued. */
export function changePayment(tx: UnitOfWork, payment: Payment, change: PaymentChange, now: Date): Payment {
  const changed = applyPaymentChange(payment, change, now);
  writePayment(tx, payment, changed);
  return changed;
}

/** Records a processor notification; false when it was seen before (a duplicate to ignore). */
export async function recordConnectorNotification(
  tx: Queryable,
  notification: { id: string; connectorId: string; paymentId: string },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO connector_notifications (notification_id, connector_id, payment_id) VALUES ($1, $2, $3)
     ON CONFLICT (notification_id) DO NOTHING`,
    [notification.id, notification.connectorId, notification.paymentId],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Writes a payment's new metadata (the caller holds its row lock), raising its version: `PATCH
 * /v1/payments/{id}`. A statement of its own, never part of a payment's flow.
 */
export async function updatePaymentMetadata(
  tx: Queryable,
  payment: Payment,
  metadata: Metadata,
  now: Date,
): Promise<Payment> {
  const { rows } = await tx.query<PaymentRow>(
    `UPDATE payments SET metadata = $2, updated_at = $3, version = version + 1 WHERE id = $1 RETURNING *`,
    [payment.id, JSON.stringify(metadata), now],
  );
  return toPayment(rows[0]!);
}
