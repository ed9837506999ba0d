import { cursorCondition } from '../db/pagination.ts';
import type { Queryable } from '../db/queryable.ts';

/**
 * The read side of webhook deliveries: an event's deliveries with their attempts (the API, the dashboard)
 * and an order's attempts (its timeline). The worker's SQL is `webhook-delivery.repository.ts`.
 *
 * The rows keep the statuses in lower case — the claim's partial index `WHERE status = 'pending'` and the
 * previous release during a rolling upgrade match on them; the API shows them UPPER_CASE like every status
 * (docs/api-conventions.md §3) through `API_DELIVERY_STATUS`.
 */

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';
export type DeliveryOrigin = 'event' | 'redelivery';

export const API_DELIVERY_STATUS = {
  pending: 'PENDING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  canceled: 'CANCELED',
} as const satisfies Record<DeliveryStatus, string>;
export type ApiDeliveryStatus = (typeof API_DELIVERY_STATUS)[DeliveryStatus];
export const API_DELIVERY_STATUSES = Object.values(API_DELIVERY_STATUS) as [
  ApiDeliveryStatus,
  ...ApiDeliveryStatus[],
];

export type DeliveryAttempt = {
  deliveryId: string;
  number: number;
  attemptedAt: Date;
  url: string;
  statusCode: number | null;
  latencyMs: number;
  result: 'succeeded' | 'failed';
  error: string | null;
  responseExcerpt: string | null;
  responseTruncated: boolean;
  nextAttemptAt: Date | null;
};

export type WebhookDelivery = {
  id: string;
  eventId: string;
  endpointId: string;
  livemode: boolean;
  origin: DeliveryOrigin;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  createdAt: Date;
  completedAt: Date | null;
  attempts: DeliveryAttempt[];
};

type DeliveryRow = {
  id: string;
  event_id: string;
  endpoint_id: string;
  livemode: boolean;
  origin: DeliveryOrigin;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
  completed_at: Date | null;
};

type AttemptRow = {
  delivery_id: string;
  attempt_number: number;
  attempted_at: Date;
  url: string;
  status_code: number | null;
  latency_ms: number;
  result: 'succeeded' | 'failed';
  error: string | null;
  response_excerpt: string | null;
  response_truncated: boolean;
  next_attempt_at: Date | null;
};

function toAttempt(row: AttemptRow): DeliveryAttempt {
  return {
    deliveryId: row.delivery_id,
    number: row.attempt_number,
    attemptedAt: row.attempted_at,
    url: row.url,
    statusCode: row.status_code,
    latencyMs: row.latency_ms,
    result: row.result,
    error: row.error,
    responseExcerpt: row.response_excerpt,
    responseTruncated: row.response_truncated,
    nextAttemptAt: row.next_attempt_at,
  };
}

async function attachAttempts(db: Queryable, rows: DeliveryRow[]): Promise<WebhookDelivery[]> {
  if (rows.length === 0) return [];
  const { rows: attempts } = await db.query<AttemptRow>(
    `SELECT delivery_id, attempt_number, attempted_at, url, status_code, latency_ms, result, error,
            response_excerpt, response_truncated, next_attempt_at
       FROM webhook_delivery_attempts WHERE delivery_id = ANY ($1) ORDER BY attempt_number`,
    [rows.map((row) => row.id)],
  );
  const byDelivery = new Map<string, DeliveryAttempt[]>();
  for (const attempt of attempts) {
    const list = byDelivery.get(attempt.delivery_id) ?? [];
    list.push(toAttempt(attempt));
    byDelivery.set(attempt.delivery_id, list);
  }
  return rows.map((row) => ({
    id: row.id,
    eventId: row.event_id,
    endpointId: row.endpoint_id,
    livemode: row.livemode,
    origin: row.origin,
    status: row.status,
    attemptCount: row.attempt_count,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    lastError: row.last_error,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    attempts: byDelivery.get(row.id) ?? [],
  }));
}

const DELIVERY_COLUMNS = `id, event_id, endpoint_id, livemode, origin, status, attempt_count, next_attempt_at,
  last_error, created_at, completed_at`;

/** An event's deliveries, newest first (`limit + 1` rows, see `toPage`), each with all its attempts. */
export async function listEventDeliveries(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  eventId: string,
  page: { limit: number; startingAfter?: string },
): Promise<WebhookDelivery[]> {
  const values: unknown[] = [eventId, scope.merchantId, scope.livemode, page.limit + 1];
  let after = '';
  if (page.startingAfter) {
    values.push(page.startingAfter);
    after = `AND ${cursorCondition('webhook_deliveries', values.length)}`;
  }
  // One branch per origin, so each uses its (partial) index on event_id.
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM (
       SELECT * FROM webhook_deliveries WHERE event_id = $1 AND origin = 'event'
       UNION ALL
       SELECT * FROM webhook_deliveries WHERE event_id = $1 AND origin = 'redelivery'
     ) AS webhook_deliveries
      WHERE merchant_id = $2 AND livemode = $3 ${after}
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    values,
  );
  return attachAttempts(db, rows);
}

export async function findDeliveriesByIds(db: Queryable, ids: readonly string[]): Promise<WebhookDelivery[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ANY ($1) ORDER BY created_at, id`,
    [ids],
  );
  return attachAttempts(db, rows);
}

/** Every attempt for the events of one order, oldest first (the order timeline). */
export async function listOrderDeliveryAttempts(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  orderId: string,
  limit: number,
): Promise<(DeliveryAttempt & { eventId: string; eventType: string; endpointId: string })[]> {
  // One branch per origin, each joining on its partial index with `event_id`; a UNION inside the join would
  // not be parameterised and would scan every delivery.
  const branch = (origin: DeliveryOrigin) => `
    SELECT a.delivery_id, a.attempt_number, a.attempted_at, a.url, a.status_code, a.latency_ms, a.result, a.error,
           a.response_excerpt, a.response_truncated, a.next_attempt_at,
           d.event_id, ev.type AS event_type, d.endpoint_id
      FROM events ev
      JOIN webhook_deliveries d ON d.event_id = ev.id AND d.origin = '${origin}'
      JOIN webhook_delivery_attempts a ON a.delivery_id = d.id
     WHERE ev.order_id = $1 AND ev.merchant_id = $2 AND ev.livemode = $3`;
  const { rows } = await db.query<AttemptRow & { event_id: string; event_type: string; endpoint_id: string }>(
    `${branch('event')} UNION ALL ${branch('redelivery')}
     ORDER BY attempted_at, delivery_id, attempt_number
     LIMIT $4`,
    [orderId, scope.merchantId, scope.livemode, limit],
  );
  return rows.map((row) => ({
    ...toAttempt(row),
    eventId: row.event_id,
    eventType: row.event_type,
    endpointId: row.endpoint_id,
  }));
}
