import { PLANNED_PER_CALL, type Queryable } from '../../db/client.ts';
import {
  mergedSourceQuery,
  positionColumns,
  renderConditions,
  type MergedRowPosition,
  type MergedWindow,
} from '../../db/pagination.ts';
import {
  dueRowsToLease,
  settleLeasedRow,
  TAKE_LEASE,
  type LeasedOutcome,
} from '../../outbox/delivery-queue.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import type { CallbackAttempt, CallbackAttemptResult, CallbackKind } from './callback.types.ts';

/** SQL of `callback_attempts` and `callback_notifications` (migrations 0008 and 0028). */

type AttemptRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  checkout_id: string;
  order_id: string;
  payment_id: string;
  kind: CallbackKind;
  notification_id: string | null;
  attempt_number: number;
  webhook_id: string;
  url: string;
  status_code: number | null;
  duration_ms: number;
  result: CallbackAttemptResult;
  error: string | null;
  response_excerpt: string | null;
  response_truncated: boolean;
  next_attempt_at: Date | null;
  created_at: Date;
};

function toAttempt(row: AttemptRow): CallbackAttempt {
  return {
    id: Number(row.id),
    merchantId: row.merchant_id,
    livemode: row.livemode,
    checkoutId: row.checkout_id,
    orderId: row.order_id,
    paymentId: row.payment_id,
    kind: row.kind,
    notificationId: row.notification_id === null ? null : Number(row.notification_id),
    attemptNumber: row.attempt_number,
    webhookId: row.webhook_id,
    url: row.url,
    statusCode: row.status_code,
    durationMs: row.duration_ms,
    result: row.result,
    error: row.error,
    responseExcerpt: row.response_excerpt,
    responseTruncated: row.response_truncated,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
  };
}

export type NewCallbackAttempt = Omit<
  CallbackAttempt,
  'id' | 'notificationId' | 'attemptNumber' | 'nextAttemptAt'
> & {
  notificationId?: number | null;
  attemptNumber?: number;
  nextAttemptAt?: Date | null;
};

export async function insertCallbackAttempt(
  db: Queryable,
  attempt: NewCallbackAttempt,
): Promise<CallbackAttempt> {
  const { rows } = await db.query<AttemptRow>(
    `INSERT INTO callback_attempts (merchant_id, livemode, checkout_id, order_id, payment_id, kind, notification_id,
         attempt_number, webhook_id, url, status_code, duration_ms, result, error, response_excerpt, response_truncated,
         next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
     RETURNING *`,
    [
      attempt.merchantId,
      attempt.livemode,
      attempt.checkoutId,
      attempt.orderId,
      attempt.paymentId,
      attempt.kind,
      attempt.notificationId ?? null,
      attempt.attemptNumber ?? 1,
      attempt.webhookId,
      attempt.url,
      attempt.statusCode,
      attempt.durationMs,
      attempt.result,
      attempt.error,
      attempt.responseExcerpt,
      attempt.responseTruncated,
      attempt.nextAttemptAt ?? null,
      attempt.createdAt,
    ],
  );
  return toAttempt(rows[0]!);
}

/**
 * One order's callback attempts for its timeline, in the window's direction (src/db/pagination.ts
 * `MergedWindow`; key: the attempt's id).
 */
export async function listOrderCallbackAttemptsWindow(
  db: Queryable,
  scope: Scope,
  orderId: string,
  window: MergedWindow,
  rank: number,
): Promise<{ attempt: CallbackAttempt; position: MergedRowPosition }[]> {
  const { conditions, orderBy } = mergedSourceQuery(window, rank, 'created_at', ['id']);
  const values: unknown[] = [orderId, scope.merchantId, scope.livemode];
  const terms = renderConditions(conditions, values);
  values.push(window.limit);
  const { rows } = await db.query<AttemptRow & { position_time: string; position_us: string }>(
    `SELECT *, ${positionColumns('created_at')} FROM callback_attempts
      WHERE order_id = $1 AND merchant_id = $2 AND livemode = $3 ${terms.map((term) => `AND ${term}`).join(' ')}
      ORDER BY ${orderBy} LIMIT $${values.length}`,
    values,
  );
  return rows.map((row) => ({
    attempt: toAttempt(row),
    position: { time: row.position_time, us: BigInt(row.position_us), key: [row.id] },
  }));
}

/** A callback attempt of one order as a timeline cursor, or undefined when it is not one. */
export async function findOrderCallbackAttemptPosition(
  db: Queryable,
  scope: Scope,
  orderId: string,
  id: string,
): Promise<{ time: string; key: unknown[] } | undefined> {
  const { rows } = await db.query<{ time: string; id: string }>(
    `SELECT created_at::text AS time, id FROM callback_attempts
      WHERE id = $1 AND order_id = $2 AND merchant_id = $3 AND livemode = $4`,
    [id, orderId, scope.merchantId, scope.livemode],
  );
  return rows[0] && { time: rows[0].time, key: [rows[0].id] };
}

// --- notification deliveries ----------------------------------------------------------------------------

export type ClaimedNotification = {
  id: number;
  leaseToken: string;
  /** 1-based number of the attempt being made now. */
  attemptNumber: number;
  eventId: string;
  eventCreatedAt: Date;
  /** The payment snapshot the finalising event carried. */
  eventData: Record<string, unknown>;
  merchantId: string;
  livemode: boolean;
  checkoutId: string;
  orderId: string;
  paymentId: string;
  url: string;
  /** The trace of the work that finalised the payment (stored with its event): the notification carries it. */
  traceparent: string | null;
};

/**
 * Leases up to `limit` due notifications for `leaseSeconds` (SKIP LOCKED: several processes never take the
 * same row) and counts the attempt now, so a worker that crashes mid-send still uses up attempts.
 */
export async function claimDueNotifications(
  db: Queryable,
  input: { limit: number; leaseSeconds: number; leaseToken: string },
): Promise<ClaimedNotification[]> {
  const { rows } = await db.query<{
    id: string;
    attempt_count: number;
    event_id: string;
    event_created_at: Date;
    event_data: Record<string, unknown>;
    merchant_id: string;
    livemode: boolean;
    checkout_id: string;
    order_id: string;
    payment_id: string;
    url: string;
    traceparent: string | null;
  }>(
    `${PLANNED_PER_CALL}WITH claimed AS (
       UPDATE callback_notifications
          SET ${TAKE_LEASE}, attempt_count = attempt_count + 1
        WHERE ${dueRowsToLease('callback_notifications')}
        RETURNING *)
     SELECT c.id, c.attempt_count, c.event_id, e.created_at AS event_created_at, e.data AS event_data,
            c.merchant_id, c.livemode, c.checkout_id, c.order_id, c.payment_id, c.url, e.traceparent
       FROM claimed c JOIN events e ON e.id = c.event_id`,
    [input.limit, input.leaseSeconds, input.leaseToken],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    leaseToken: input.leaseToken,
    attemptNumber: row.attempt_count,
    eventId: row.event_id,
    eventCreatedAt: row.event_created_at,
    eventData: row.event_data,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    checkoutId: row.checkout_id,
    orderId: row.order_id,
    paymentId: row.payment_id,
    url: row.url,
    traceparent: row.traceparent,
  }));
}

/**
 * Writes an attempt's outcome, only while the lease is still ours (a lease that expired and was re-claimed by
 * another process belongs to that process now). Returns false when the lease was lost.
 *
 * `sentEventId` is the event the attempt sent. When the payment moved on meanwhile (the enqueue trigger put a
 * newer event on the row, migration 0028), this attempt's outcome no longer describes the row: it stays due
 * at once, with the newer state and the fresh schedule the trigger gave it.
 */
export async function recordNotificationOutcome(
  db: Queryable,
  input: LeasedOutcome & { id: number; sentEventId: string },
): Promise<boolean> {
  const settle = settleLeasedRow({
    outcome: '$3',
    retryInSeconds: '$4::float8',
    error: '$5',
    superseded: 'event_id <> $6',
  });
  const { rowCount } = await db.query(
    `UPDATE callback_notifications SET ${settle} WHERE id = $1 AND lease_token = $2`,
    [input.id, input.leaseToken, input.outcome, input.retryInSeconds ?? 0, input.error, input.sentEventId],
  );
  return rowCount === 1;
}

/** Notification deliveries of a payment (tests and the dashboard). */
export async function listPaymentNotifications(
  db: Queryable,
  paymentId: string,
): Promise<{ id: number; status: string; attemptCount: number; lastError: string | null; url: string }[]> {
  const { rows } = await db.query<{
    id: string;
    status: string;
    attempt_count: number;
    last_error: string | null;
    url: string;
  }>(
    'SELECT id, status, attempt_count, last_error, url FROM callback_notifications WHERE payment_id = $1 ORDER BY id',
    [paymentId],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    status: row.status,
    attemptCount: row.attempt_count,
    lastError: row.last_error,
    url: row.url,
  }));
}
