import type { Queryable } from '../../db/client.ts';
import { mergedSourceQuery, renderConditions, type MergedWindow } from '../../db/pagination.ts';
import type { CallbackAttempt } from '../callbacks/callback.types.ts';
import { positionColumns, type MergedRowPosition } from './event.repository.ts';

/**
 * The order timeline's read of `callback_attempts` (migration 0008), paged like the timeline's other sources
 * (src/db/pagination.ts `MergedWindow`; key: the attempt's id). Read-only: the callbacks module writes the rows.
 */

type Scope = { merchantId: string; livemode: boolean };

type CallbackAttemptRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  checkout_id: string;
  order_id: string;
  payment_id: string;
  kind: CallbackAttempt['kind'];
  notification_id: string | null;
  attempt_number: number;
  webhook_id: string;
  url: string;
  status_code: number | null;
  duration_ms: number;
  result: CallbackAttempt['result'];
  error: string | null;
  response_excerpt: string | null;
  response_truncated: boolean;
  next_attempt_at: Date | null;
  created_at: Date;
  position_time: string;
  position_us: string;
};

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
  const { rows } = await db.query<CallbackAttemptRow>(
    `SELECT *, ${positionColumns('created_at')} FROM callback_attempts
      WHERE order_id = $1 AND merchant_id = $2 AND livemode = $3 ${terms.map((term) => `AND ${term}`).join(' ')}
      ORDER BY ${orderBy} LIMIT $${values.length}`,
    values,
  );
  return rows.map((row) => ({
    attempt: {
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
    },
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
