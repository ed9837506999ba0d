import {
  fetchPage,
  mergedSourceQuery,
  renderConditions,
  type MergedWindow,
  type PageRequest,
} from '../db/pagination.ts';
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

/** A page of an event's deliveries, newest first (`limit + 1` rows: src/db/pagination.ts), with all their attempts. */
export async function listEventDeliveries(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  eventId: string,
  page: PageRequest,
): Promise<WebhookDelivery[]> {
  // One branch per origin, so each uses its (partial) index on event_id.
  const rows = await fetchPage<DeliveryRow>(
    db,
    {
      alias: 'webhook_deliveries',
      from: (p) => {
        const event = p(eventId);
        return `(SELECT * FROM webhook_deliveries WHERE event_id = ${event} AND origin = 'event'
                 UNION ALL
                 SELECT * FROM webhook_deliveries WHERE event_id = ${event} AND origin = 'redelivery'
                ) AS webhook_deliveries`;
      },
      columns: DELIVERY_COLUMNS,
      scope: [
        (p) => `webhook_deliveries.merchant_id = ${p(scope.merchantId)}`,
        (p) => `webhook_deliveries.livemode = ${p(scope.livemode)}`,
      ],
    },
    page,
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

/**
 * The webhook attempts for the events of one order (its timeline), in the window's direction
 * (src/db/pagination.ts `MergedWindow`); key: (delivery id, attempt number).
 */
export async function listOrderDeliveryAttempts(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  orderId: string,
  window: MergedWindow,
  rank: number,
): Promise<
  {
    attempt: DeliveryAttempt & { eventId: string; eventType: string; endpointId: string };
    position: { time: string; us: bigint; key: unknown[] };
  }[]
> {
  const { conditions, orderBy } = mergedSourceQuery(window, rank, 'attempted_at', [
    'delivery_id',
    'attempt_number',
  ]);
  const values: unknown[] = [orderId, scope.merchantId, scope.livemode];
  const terms = renderConditions(conditions, values);
  values.push(window.limit);
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
  const { rows } = await db.query<
    AttemptRow & {
      event_id: string;
      event_type: string;
      endpoint_id: string;
      position_time: string;
      position_us: string;
    }
  >(
    `SELECT attempts.*, attempted_at::text AS position_time,
            (extract(epoch FROM attempted_at) * 1000000)::bigint AS position_us
       FROM (${branch('event')} UNION ALL ${branch('redelivery')}) AS attempts
      ${terms.length ? `WHERE ${terms.join(' AND ')}` : ''}
      ORDER BY ${orderBy}
      LIMIT $${values.length}`,
    values,
  );
  return rows.map((row) => ({
    attempt: {
      ...toAttempt(row),
      eventId: row.event_id,
      eventType: row.event_type,
      endpointId: row.endpoint_id,
    },
    position: {
      time: row.position_time,
      us: BigInt(row.position_us),
      key: [row.delivery_id, row.attempt_number],
    },
  }));
}

/** A webhook attempt about one order's events as a timeline cursor, or undefined when it is not one. */
export async function findOrderDeliveryAttemptPosition(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  orderId: string,
  deliveryId: string,
  attemptNumber: number,
): Promise<{ time: string; key: unknown[] } | undefined> {
  const { rows } = await db.query<{ time: string }>(
    `SELECT a.attempted_at::text AS time
       FROM webhook_delivery_attempts a
       JOIN webhook_deliveries d ON d.id = a.delivery_id
       JOIN events ev ON ev.id = d.event_id
      WHERE a.delivery_id = $1 AND a.attempt_number = $2
        AND ev.order_id = $3 AND ev.merchant_id = $4 AND ev.livemode = $5`,
    [deliveryId, attemptNumber, orderId, scope.merchantId, scope.livemode],
  );
  return rows[0] && { time: rows[0].time, key: [deliveryId, attemptNumber] };
}
