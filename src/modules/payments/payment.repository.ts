import { PLANNED_PER_CALL, type Queryable, type UnitOfWork } from '../../db/client.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import { selectOrderFrom, toOrder, type OrderRow } from '../orders/order.repository.ts';
import { orderStateMachine } from '../orders/order.states.ts';
import type { Order } from '../orders/order.types.ts';
import type { PaymentMethodType } from '../payment-methods/eligibility.ts';
import type { PaymentStatus } from './payment.states.ts';
import type {
  Capture,
  MoneyOperationStatus,
  Payment,
  PaymentCard,
  PaymentChannel,
  Refund,
} from './payment.types.ts';

type PaymentRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  checkout_id: string;
  order_id: string;
  status: PaymentStatus;
  processing_since: Date | null;
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
  version: number;
  created_at: Date;
  updated_at: Date;
};

function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    checkoutId: row.checkout_id,
    orderId: row.order_id,
    status: row.status,
    processingSince: row.processing_since,
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
  now: Date;
};

/**
 * Step 1 of an attempt, a write of the caller's unit of work: marks the session's active attempt and inserts
 * the payment as `processing`. The caller holds the session's row lock and has checked that it is OPEN with
 * no attempt in flight; the conditions are repeated in the UPDATE, and a session that changed anyway gets
 * neither the mark nor the payment (answer: undefined). The answer comes once the unit has applied it.
 */
export function insertPaymentAsActiveAttempt(
  tx: UnitOfWork,
  payment: NewPayment,
): { result(): Promise<{ payment: Payment; checkoutVersion: number } | undefined> } {
  const pending = tx.write<PaymentRow & { checkout_version: number }>(
    `WITH marked AS (
       UPDATE checkouts SET active_payment_id = $1, payment_started = true, updated_at = $6, version = version + 1
        WHERE id = $4 AND merchant_id = $2 AND livemode = $3 AND status = 'OPEN' AND active_payment_id IS NULL
       RETURNING version),
     inserted AS (
       INSERT INTO payments (id, merchant_id, livemode, checkout_id, order_id, status, processing_since, channel,
         method, amount, currency, capture_mode, connector_id, card_brand, card_last4, card_exp_month,
         card_exp_year, card_fingerprint, saved_payment_method_id, created_at, updated_at)
       SELECT $1, $2, $3, $4, $5::text, 'PENDING', $6, $7::text, $8::text, $9::bigint, $10::char(3), $11::text,
         $12::text, $13::text, $14::char(4), $15::smallint, $16::smallint, $17::text, $18::text, $6, $6
         FROM marked -- (a SELECT's placeholders get no type from the target columns, hence the casts)
       RETURNING *)
     SELECT inserted.*, marked.version AS checkout_version FROM inserted, marked`,
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
    ],
  );
  return {
    async result() {
      const row = (await pending.result()).rows[0];
      return row && { payment: toPayment(row), checkoutVersion: row.checkout_version };
    },
  };
}

/**
 * Locks a payment's session and then the payment (the lock order of every path: checkout → payment) in one
 * statement, and answers with the payment and what `settle` needs to know of its session. Row locks of one
 * statement are taken in the order the FOR UPDATE clause names the tables.
 */
export async function lockPaymentAndCheckout(
  tx: Queryable,
  paymentId: string,
): Promise<{ payment: Payment; checkout: { status: string; activePaymentId: string | null } } | undefined> {
  const { rows } = await tx.query<
    PaymentRow & { checkout_status: string; checkout_active_payment_id: string | null }
  >(
    `SELECT p.*, c.status AS checkout_status, c.active_payment_id AS checkout_active_payment_id
       FROM checkouts c JOIN payments p ON p.checkout_id = c.id
      WHERE p.id = $1
      FOR UPDATE OF c, p`,
    [paymentId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    payment: toPayment(row),
    checkout: { status: row.checkout_status, activePaymentId: row.checkout_active_payment_id },
  };
}

/**
 * Moves an order to `to` in one conditional statement (the row lock is taken by the UPDATE itself) when it
 * is in one of `from`, or — with `sameStatusWhenAmountsDiffer` — already in `to` with other amounts (a second
 * partial capture or refund). Amounts left undefined keep their value. Answers with the order as changed
 * (for its event, without a second read), or undefined when it was left as it was.
 */
export async function moveOrderOfPayment(
  tx: Queryable,
  order: { id: string; merchantId: string; livemode: boolean },
  change: {
    from: readonly string[];
    to: string;
    sameStatusWhenAmountsDiffer: boolean;
    authorizedAmount?: number | undefined;
    capturedAmount?: number | undefined;
    refundedAmount?: number | undefined;
  },
  now: Date,
): Promise<Order | undefined> {
  const { rows } = await tx.query<OrderRow>(
    `WITH moved AS (
     UPDATE orders SET status = $1::text,
       authorized_amount = COALESCE($2, authorized_amount),
       captured_amount = COALESCE($3, captured_amount),
       refunded_amount = COALESCE($4, refunded_amount),
       updated_at = $5, version = version + 1
     WHERE id = $6 AND merchant_id = $7 AND livemode = $8
       AND (status = ANY($9::text[])
            OR ($10::boolean AND status = $1
                AND (authorized_amount, captured_amount, refunded_amount) IS DISTINCT FROM
                    (COALESCE($2, authorized_amount), COALESCE($3, captured_amount), COALESCE($4, refunded_amount))))
     RETURNING *)
     ${selectOrderFrom('moved')}`,
    [
      change.to,
      change.authorizedAmount ?? null,
      change.capturedAmount ?? null,
      change.refundedAmount ?? null,
      now,
      order.id,
      order.merchantId,
      order.livemode,
      change.from,
      change.sameStatusWhenAmountsDiffer,
    ],
  );
  return rows[0] ? toOrder(rows[0]) : undefined;
}

/**
 * A sale's two order moves in one statement, for an order still CREATED or PENDING: to AUTHORIZED with the
 * authorization, then to PAID with the capture (version + 2, as two moves make). Answers the order as paid and,
 * built from the same row, as it was in between (one version before, with the amounts captured and refunded
 * before), for the events of both steps; undefined when the order is elsewhere, for the caller to move it
 * step by step.
 */
export async function moveOrderThroughAuthorizedToPaid(
  tx: Queryable,
  order: { id: string; merchantId: string; livemode: boolean },
  amounts: { authorizedAmount: number; capturedAmount: number; refundedAmount: number },
  now: Date,
): Promise<{ authorized: Order; paid: Order } | undefined> {
  const { rows } = await tx.query<OrderRow & { previous_captured: number; previous_refunded: number }>(
    `WITH moved AS (
     UPDATE orders SET status = 'PAID', authorized_amount = $1, captured_amount = $2, refunded_amount = $3,
       updated_at = $4, version = orders.version + 2
       FROM (SELECT id, captured_amount, refunded_amount FROM orders
              WHERE id = $5 AND merchant_id = $6 AND livemode = $7 AND status = ANY($8::text[])
              FOR UPDATE) previous
      WHERE orders.id = previous.id
     RETURNING orders.*, previous.captured_amount AS previous_captured, previous.refunded_amount AS previous_refunded)
     ${selectOrderFrom('moved')}`,
    [
      amounts.authorizedAmount,
      amounts.capturedAmount,
      amounts.refundedAmount,
      now,
      order.id,
      order.merchantId,
      order.livemode,
      orderStateMachine.sourcesOf('AUTHORIZED'),
    ],
  );
  const row = rows[0];
  if (!row) return undefined;
  const paid = toOrder(row);
  const authorized: Order = {
    ...paid,
    status: 'AUTHORIZED',
    capturedAmount: row.previous_captured,
    refundedAmount: row.previous_refunded,
    version: paid.version - 1,
  };
  return { authorized, paid };
}

export async function findPayment(
  db: Queryable,
  scope: Scope,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Payment | undefined> {
  const { rows } = await db.query<PaymentRow>(
    `SELECT * FROM payments WHERE id = $1 AND merchant_id = $2 AND livemode = $3 ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    [id, scope.merchantId, scope.livemode],
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

/**
 * Applies a change to a payment the caller has locked; the version moves with every change. `steps` is how
 * many changes the write stands for (a sale's authorization and capture, written once, are two).
 */
export async function updatePayment(
  tx: Queryable,
  id: string,
  change: PaymentChange,
  now: Date,
  steps: 1 | 2 = 1,
): Promise<Payment> {
  const sets: string[] = [];
  const values: unknown[] = [id, now];
  for (const [field, column] of Object.entries(CHANGE_COLUMNS) as [keyof PaymentChange, string][]) {
    if (!(field in change)) continue;
    values.push(change[field]);
    sets.push(`${column} = $${values.length}`);
  }
  const { rows } = await tx.query<PaymentRow>(
    `UPDATE payments SET ${sets.join(', ')}${sets.length ? ', ' : ''}updated_at = $2, version = version + ${steps}
     WHERE id = $1 RETURNING *`,
    values,
  );
  return toPayment(rows[0]!);
}

/** Payments whose processor call has been in flight since before `before` (a crash, a lost answer). */
export async function findStuckProcessingPayments(
  db: Queryable,
  before: Date,
  limit: number,
): Promise<Payment[]> {
  const { rows } = await db.query<PaymentRow>(
    `${PLANNED_PER_CALL}SELECT * FROM payments WHERE processing_since IS NOT NULL AND processing_since < $1 ORDER BY processing_since LIMIT $2`,
    [before, limit],
  );
  return rows.map(toPayment);
}

/** Payments waiting for the shopper (3-D Secure, wallet) since before `before`. */
export async function findAbandonedActionPayments(
  db: Queryable,
  before: Date,
  limit: number,
): Promise<Payment[]> {
  const { rows } = await db.query<PaymentRow>(
    `SELECT * FROM payments WHERE status = 'REQUIRES_ACTION' AND processing_since IS NULL AND updated_at < $1
     ORDER BY updated_at LIMIT $2`,
    [before, limit],
  );
  return rows.map(toPayment);
}

/** Automatic-capture payments left AUTHORIZED with no capture attempt (the capture step was interrupted). */
export async function findUncapturedAutomaticPayments(
  db: Queryable,
  before: Date,
  limit: number,
): Promise<Payment[]> {
  const { rows } = await db.query<PaymentRow>(
    `SELECT p.* FROM payments p
      WHERE p.status = 'AUTHORIZED' AND p.capture_mode = 'automatic' AND p.updated_at < $1
        AND NOT EXISTS (SELECT 1 FROM captures c WHERE c.payment_id = p.id AND c.status <> 'FAILED')
      ORDER BY p.updated_at LIMIT $2`,
    [before, limit],
  );
  return rows.map(toPayment);
}

// ---- captures and refunds: append-only child rows ------------------------------------------------------

type MoneyOperationRow = {
  id: string;
  payment_id: string;
  amount: number;
  status: MoneyOperationStatus;
  failure_message: string | null;
  reason?: string | null;
  created_at: Date;
  updated_at: Date;
};

function toCapture(row: MoneyOperationRow): Capture {
  return {
    id: row.id,
    paymentId: row.payment_id,
    amount: row.amount,
    status: row.status,
    failureMessage: row.failure_message,
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
};

const INSERT_CAPTURE = `INSERT INTO captures (id, payment_id, merchant_id, livemode, amount, status, connector_reference,
   created_at, updated_at)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING *`;

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
  ];
}

export async function insertCapture(tx: Queryable, capture: NewCapture): Promise<Capture> {
  const { rows } = await tx.query<MoneyOperationRow>(INSERT_CAPTURE, insertCaptureValues(capture));
  return toCapture(rows[0]!);
}

/**
 * `insertCapture` for a caller that needs no answer: a write of its unit of work. A failure (the id taken)
 * fails the unit, and nothing commits.
 */
export function recordCapture(tx: UnitOfWork, capture: NewCapture): void {
  tx.write(INSERT_CAPTURE, insertCaptureValues(capture));
}

export async function insertRefund(
  tx: Queryable,
  refund: { id: string; payment: Payment; amount: number; reason: string | null; now: Date },
): Promise<Refund> {
  const { rows } = await tx.query<MoneyOperationRow>(
    `INSERT INTO refunds (id, payment_id, merchant_id, livemode, amount, reason, status, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $7) RETURNING *`,
    [
      refund.id,
      refund.payment.id,
      refund.payment.merchantId,
      refund.payment.livemode,
      refund.amount,
      refund.reason,
      refund.now,
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
