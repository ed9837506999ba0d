import { PLANNED_PER_CALL, type Queryable } from '../db/queryable.ts';
import {
  fetchPage,
  mergedSourceQuery,
  renderConditions,
  type MergedWindow,
  type PageRequest,
} from '../db/pagination.ts';
import { newId } from '../lib/ids.ts';
import { currentTraceparent } from '../metrics/trace-context.ts';

/**
 * SQL of webhook deliveries: leased claims of due deliveries, batched recording of attempts, redeliveries,
 * and the read side the API shows. (Fan-out of events into deliveries: `fan-out.repository.ts`.)
 *
 * Invariants:
 * - A delivery is sent only by the holder of its lease (`lease_token`, valid until `lease_until`); results
 *   are applied only while the token still matches, so a worker whose lease expired and was taken over
 *   cannot overwrite the new holder's state. An expired lease is claimable again — that is how the work
 *   of a crashed process comes back.
 * - Every statement touches a batch; per-delivery round trips would cap throughput.
 */

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';
export type DeliveryOrigin = 'event' | 'redelivery';

/**
 * New 'redelivery' rows (no uniqueness: every replay is its own delivery with the same webhook-id). Each is
 * sent in the trace of the request that asked for it.
 */
export async function insertRedeliveries(
  db: Queryable,
  event: { id: string; merchantId: string; livemode: boolean },
  endpointIds: readonly string[],
): Promise<string[]> {
  const ids = endpointIds.map(() => newId('del'));
  await db.query(
    `INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin, traceparent)
     SELECT id, $2, endpoint_id, $3, $4, 'redelivery', $6 FROM unnest($1::text[], $5::text[]) AS t (id, endpoint_id)`,
    [ids, event.id, event.merchantId, event.livemode, endpointIds, currentTraceparent() ?? null],
  );
  return ids;
}

export type ClaimedDelivery = {
  id: string;
  leaseToken: string;
  /** This attempt's number (1 = first). */
  attemptNumber: number;
  eventId: string;
  eventType: string;
  eventCreatedAt: Date;
  /**
   * The event's `data` as the JSON text stored (a `json` column keeps it as written): spliced into the body as is, which
   * spares parsing ~1.5 KB of JSON into objects and serialising it again for every attempt.
   */
  eventDataJson: string;
  /** Who caused the event (null for events recorded before events named their actor). */
  eventActor: { type: string; id: string } | null;
  endpointId: string;
  url: string;
  /** The Kassa-Version the endpoint renders its deliveries in. */
  apiVersion: string;
  /** False when the endpoint was disabled or deleted since the delivery was written: cancel, don't send. */
  endpointActive: boolean;
  /** Encrypted secrets that sign this attempt, current first (the previous one only inside its overlap). */
  secretsEncrypted: Buffer[];
  /** The trace the attempt is sent in: the redelivery request's, else the event's (null: stored before either). */
  traceparent: string | null;
};

export function actorOfRow(type: string | null, id: string | null): { type: string; id: string } | null {
  return type !== null && id !== null ? { type, id } : null;
}

/**
 * Leases up to `limit` due deliveries for `leaseSeconds`, oldest due first, and counts the attempt.
 * SKIP LOCKED lets concurrent claimers pass each other; a row whose lease committed meanwhile fails the
 * re-checked WHERE clause, so two claimers never hold one delivery.
 */
export async function claimDueDeliveries(
  db: Queryable,
  options: { limit: number; leaseSeconds: number; leaseToken: string },
): Promise<ClaimedDelivery[]> {
  const { rows } = await db.query<{
    id: string;
    attempt_count: number;
    event_id: string;
    event_type: string;
    event_created_at: Date;
    event_data_json: string;
    event_actor_type: string | null;
    event_actor_id: string | null;
    endpoint_id: string;
    url: string;
    api_version: string;
    endpoint_active: boolean;
    secret_encrypted: Buffer;
    previous_secret_encrypted: Buffer | null;
    traceparent: string | null;
  }>(
    // `= ANY (ARRAY(…))` keeps every statement here on primary keys: a join with a subquery or an unnest
    // may be planned as a hash join over a scan of the whole (large, growing) table.
    `${PLANNED_PER_CALL}UPDATE webhook_deliveries d
        SET lease_until = now() + make_interval(secs => $2::float8), lease_token = $3,
            attempt_count = d.attempt_count + CASE WHEN ep.status = 'enabled' AND ep.deleted_at IS NULL THEN 1 ELSE 0 END
       FROM events ev, webhook_endpoints ep
      WHERE d.id = ANY (ARRAY(
              SELECT id FROM webhook_deliveries
               WHERE status = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
               ORDER BY next_attempt_at LIMIT $1
               FOR UPDATE SKIP LOCKED))
        AND ev.id = d.event_id AND ep.id = d.endpoint_id
     RETURNING d.id, d.attempt_count, d.event_id, ev.type AS event_type, ev.created_at AS event_created_at,
               ev.data::text AS event_data_json, ev.actor_type AS event_actor_type, ev.actor_id AS event_actor_id,
               d.endpoint_id, ep.url, ep.api_version,
               (ep.status = 'enabled' AND ep.deleted_at IS NULL) AS endpoint_active, ep.secret_encrypted,
               CASE WHEN ep.previous_secret_expires_at > now() THEN ep.previous_secret_encrypted END
                 AS previous_secret_encrypted, COALESCE(d.traceparent, ev.traceparent) AS traceparent`,
    [options.limit, options.leaseSeconds, options.leaseToken],
  );
  return rows.map((row) => ({
    id: row.id,
    leaseToken: options.leaseToken,
    attemptNumber: row.attempt_count,
    eventId: row.event_id,
    eventType: row.event_type,
    eventCreatedAt: row.event_created_at,
    eventDataJson: row.event_data_json,
    eventActor: actorOfRow(row.event_actor_type, row.event_actor_id),
    endpointId: row.endpoint_id,
    url: row.url,
    apiVersion: row.api_version,
    endpointActive: row.endpoint_active,
    secretsEncrypted: row.previous_secret_encrypted
      ? [row.secret_encrypted, row.previous_secret_encrypted]
      : [row.secret_encrypted],
    traceparent: row.traceparent,
  }));
}

/** How one claimed delivery ended this round. */
export type DeliveryOutcome = 'succeeded' | 'retry' | 'failed' | 'canceled';

export type AttemptRecord = {
  deliveryId: string;
  leaseToken: string;
  outcome: DeliveryOutcome;
  /** For 'retry': seconds from now until the next attempt. */
  retryInSeconds: number | null;
  /** Why it failed or was canceled. */
  error: string | null;
  /** What was sent and seen; null when nothing was sent (canceled). */
  attempt: {
    number: number;
    attemptedAt: Date;
    url: string;
    statusCode: number | null;
    latencyMs: number;
    responseExcerpt: string | null;
    responseTruncated: boolean;
  } | null;
};

/**
 * Applies a batch of results in one statement: updates the deliveries whose lease is still ours and
 * appends one attempt row for every request that was sent (even by a fenced-out worker — it happened).
 * Returns the ids whose state was updated.
 */
export async function recordAttemptResults(
  db: Queryable,
  records: readonly AttemptRecord[],
): Promise<Set<string>> {
  if (records.length === 0) return new Set();
  const column = <T>(pick: (record: AttemptRecord) => T) => records.map(pick);
  const { rows } = await db.query<{ id: string }>(
    `WITH r AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::boolean[], $7::int[],
                            $8::timestamptz[], $9::text[], $10::int[], $11::int[], $12::text[], $13::boolean[])
         AS r (delivery_id, lease_token, outcome, retry_in, error, attempted, attempt_number,
               attempted_at, url, status_code, latency_ms, excerpt, truncated)
     ), updated AS (
       UPDATE webhook_deliveries d SET
           status = CASE WHEN r.outcome = 'retry' THEN 'pending' ELSE r.outcome END,
           next_attempt_at = CASE WHEN r.outcome = 'retry' THEN now() + make_interval(secs => r.retry_in)
                                  ELSE d.next_attempt_at END,
           lease_until = NULL,
           lease_token = NULL,
           last_attempt_at = CASE WHEN r.attempted THEN r.attempted_at ELSE d.last_attempt_at END,
           last_status_code = CASE WHEN r.attempted THEN r.status_code ELSE d.last_status_code END,
           last_error = CASE WHEN r.outcome = 'succeeded' THEN NULL ELSE r.error END,
           completed_at = CASE WHEN r.outcome = 'retry' THEN NULL ELSE now() END
         FROM r
        WHERE d.id = ANY ($1) AND d.id = r.delivery_id AND d.lease_token = r.lease_token
       RETURNING d.id, d.next_attempt_at, d.status
     ), appended AS (
       INSERT INTO webhook_delivery_attempts (delivery_id, attempt_number, attempted_at, url, status_code,
           latency_ms, result, error, response_excerpt, response_truncated, next_attempt_at)
       SELECT r.delivery_id, r.attempt_number, r.attempted_at, r.url, r.status_code, r.latency_ms,
              CASE WHEN r.outcome = 'succeeded' THEN 'succeeded' ELSE 'failed' END, r.error, r.excerpt, r.truncated,
              CASE WHEN u.status = 'pending' THEN u.next_attempt_at END
         FROM r LEFT JOIN updated u ON u.id = r.delivery_id
        WHERE r.attempted
       ON CONFLICT DO NOTHING
     )
     SELECT id FROM updated`,
    [
      column((r) => r.deliveryId),
      column((r) => r.leaseToken),
      column((r) => r.outcome),
      column((r) => r.retryInSeconds),
      column((r) => r.error),
      column((r) => r.attempt !== null),
      column((r) => r.attempt?.number ?? null),
      column((r) => r.attempt?.attemptedAt ?? null),
      column((r) => r.attempt?.url ?? null),
      column((r) => r.attempt?.statusCode ?? null),
      column((r) => r.attempt?.latencyMs ?? null),
      column((r) => r.attempt?.responseExcerpt ?? null),
      column((r) => r.attempt?.responseTruncated ?? null),
    ],
  );
  return new Set(rows.map((row) => row.id));
}

/**
 * Gives back leases of claimed deliveries that were never sent (a stopping worker), undoing the attempt
 * count, so another process picks them up at once instead of after the lease.
 */
export async function releaseDeliveryLeases(
  db: Queryable,
  leases: readonly { id: string; leaseToken: string }[],
) {
  if (leases.length === 0) return;
  await db.query(
    `UPDATE webhook_deliveries d
        SET lease_until = NULL, lease_token = NULL, attempt_count = GREATEST(d.attempt_count - 1, 0)
       FROM unnest($1::text[], $2::text[]) AS l (id, lease_token)
      WHERE d.id = ANY ($1) AND d.id = l.id AND d.lease_token = l.lease_token`,
    [leases.map((l) => l.id), leases.map((l) => l.leaseToken)],
  );
}

/** Stops every not-yet-sent delivery of these endpoints (disabled or deleted). Leased ones finish first. */
export async function cancelPendingDeliveries(db: Queryable, endpointIds: readonly string[], reason: string) {
  if (endpointIds.length === 0) return;
  await db.query(
    `UPDATE webhook_deliveries SET status = 'canceled', last_error = $2, completed_at = now()
      WHERE endpoint_id = ANY ($1) AND status = 'pending' AND (lease_until IS NULL OR lease_until < now())`,
    [endpointIds, reason],
  );
}

/** 410 Gone: the receiver asked us to stop. Disables still-enabled endpoints and records why. */
export async function disableGoneEndpoints(db: Queryable, endpointIds: readonly string[], reason: string) {
  if (endpointIds.length === 0) return;
  await db.query(
    `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, disabled_at = now(),
        version = version + 1, updated_at = now()
      WHERE id = ANY ($1) AND status = 'enabled'`,
    [endpointIds, reason],
  );
}

// --- Read side (API) ---------------------------------------------------------------------------------

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
