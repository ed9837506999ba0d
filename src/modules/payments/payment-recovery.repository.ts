import { PLANNED_PER_CALL, type Queryable } from '../../db/client.ts';
import { toPayment, type PaymentRow } from './payment.repository.ts';
import type { Payment } from './payment.types.ts';

/**
 * The reads and claims of recovery (operations/recover-payments.ts): payments a crash, a lost answer or an
 * absent shopper left between states, found by age so that recovery can finish or release them.
 */

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

/**
 * Claims up to `limit` payments the processor answered `pending` (PENDING, a reference, no call in flight)
 * unchanged since before `before` and due for a status check at `now`, oldest due first. The claim is the
 * lease: it sets the next check to `nextCheck` in the same statement, and rows another process is claiming
 * are skipped (SKIP LOCKED), so two recoveries never ask about the same payment in one round and none asks
 * again before `nextCheck`. The version is not moved: the claim changes nothing of the payment itself.
 */
export async function claimPendingPaymentsForStatusCheck(
  db: Queryable,
  options: { before: Date; now: Date; nextCheck: Date; limit: number },
): Promise<Payment[]> {
  const { rows } = await db.query<PaymentRow>(
    `${PLANNED_PER_CALL}UPDATE payments p SET status_check_due_at = $3
       FROM (SELECT id FROM payments
              WHERE status = 'PENDING' AND processing_since IS NULL AND connector_reference IS NOT NULL
                AND updated_at < $1 AND coalesce(status_check_due_at, updated_at) <= $2
              ORDER BY coalesce(status_check_due_at, updated_at) LIMIT $4
              FOR UPDATE SKIP LOCKED) due
      WHERE p.id = due.id
      RETURNING p.*`,
    [options.before, options.now, options.nextCheck, options.limit],
  );
  return rows.map(toPayment);
}

/** When recovery may next ask about a pending payment (after a processor that cannot be asked refused). */
export async function postponeStatusCheck(db: Queryable, paymentId: string, until: Date): Promise<void> {
  await db.query(`UPDATE payments SET status_check_due_at = $2 WHERE id = $1 AND status = 'PENDING'`, [
    paymentId,
    until,
  ]);
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
