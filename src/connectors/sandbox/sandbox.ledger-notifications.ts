import { PLANNED_PER_CALL } from '../../db/client.ts';
import type { DeclineCode } from '../connector.ts';
import type { Queryable } from './sandbox.ledger.ts';

/**
 * The SQL of the sandbox acquirer's notifications (`sandbox_acquirer_notifications`, migration 0003): written
 * with a decision, claimed with a lease for delivery, marked delivered or failed with the next attempt's time.
 */

export type NotificationRow = {
  id: string;
  payment_reference: string;
  payment_id: string;
  status: 'authorized' | 'declined';
  decline_code: DeclineCode | null;
  occurred_at: Date;
  attempts: number;
};

export async function insertNotification(
  tx: Queryable,
  notification: Omit<NotificationRow, 'attempts'>,
): Promise<void> {
  await tx.query(
    `INSERT INTO sandbox_acquirer_notifications
       (id, payment_reference, payment_id, status, decline_code, occurred_at, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)`,
    [
      notification.id,
      notification.payment_reference,
      notification.payment_id,
      notification.status,
      notification.decline_code,
      notification.occurred_at,
    ],
  );
}

/**
 * Claims undelivered notifications with a lease: either the one with `id`, or up to `limit` that are due.
 * A claim is a committed row update, so a deliverer that crashes mid-delivery loses its claim when the
 * lease runs out and the row is delivered again (at-least-once).
 */
export async function claimNotifications(
  db: Queryable,
  selection: { id: string } | { dueBy: Date; limit: number },
  now: Date,
  leaseMs: number,
): Promise<NotificationRow[]> {
  const byId = 'id' in selection;
  const { rows } = await db.query<NotificationRow>(
    `${byId ? '' : PLANNED_PER_CALL}UPDATE sandbox_acquirer_notifications
        SET claimed_until = $1::timestamptz + make_interval(secs => $2::double precision / 1000),
            attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM sandbox_acquirer_notifications
         WHERE delivered_at IS NULL
           AND (claimed_until IS NULL OR claimed_until < $1)
           AND ${byId ? 'id = $3' : 'next_attempt_at <= $3'}
         ORDER BY next_attempt_at
         LIMIT $4
         FOR UPDATE SKIP LOCKED)
      RETURNING id, payment_reference, payment_id, status, decline_code, occurred_at, attempts`,
    [now, leaseMs, byId ? selection.id : selection.dueBy, byId ? 1 : selection.limit],
  );
  return rows;
}

export async function markNotificationDelivered(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE sandbox_acquirer_notifications SET delivered_at = $2, claimed_until = NULL, last_error = NULL
      WHERE id = $1`,
    [id, now],
  );
}

export async function markNotificationFailed(
  db: Queryable,
  id: string,
  failure: { error: string; nextAttemptAt: Date },
): Promise<void> {
  await db.query(
    `UPDATE sandbox_acquirer_notifications SET claimed_until = NULL, last_error = $2, next_attempt_at = $3
      WHERE id = $1`,
    [id, failure.error.slice(0, 500), failure.nextAttemptAt],
  );
}

export async function listNotificationRows(
  db: Queryable,
  paymentReference: string,
): Promise<Array<NotificationRow & { delivered_at: Date | null; last_error: string | null }>> {
  const { rows } = await db.query<NotificationRow & { delivered_at: Date | null; last_error: string | null }>(
    `SELECT id, payment_reference, payment_id, status, decline_code, occurred_at, attempts, delivered_at, last_error
       FROM sandbox_acquirer_notifications WHERE payment_reference = $1 ORDER BY occurred_at, id`,
    [paymentReference],
  );
  return rows;
}
