import { PLANNED_PER_CALL, type Queryable } from '../db/queryable.ts';
import { dueRowsToLease, settleLeasedRow, TAKE_LEASE, type LeasedOutcome } from './delivery-queue.ts';
import { newId } from '../lib/ids.ts';
import { currentTraceparent } from '../metrics/trace-context.ts';

/**
 * SQL of webhook deliveries that the worker runs: leased claims of due deliveries, batched recording of
 * attempts, redeliveries, cancellation. (Fan-out of events into deliveries: `fan-out.repository.ts`; the
 * read side the API and the dashboard show: `webhook-delivery-history.repository.ts`.)
 *
 * Invariants:
 * - A delivery is sent only by the holder of its lease (`lease_token`, valid until `lease_until`); results
 *   are applied only while the token still matches, so a worker whose lease expired and was taken over
 *   cannot overwrite the new holder's state. An expired lease is claimable again — that is how the work
 *   of a crashed process comes back.
 * - Every statement touches a batch; per-delivery round trips would cap throughput.
 */

// The read side (what the API and the dashboard show) is its own file; importers of this one keep working.
export {
  API_DELIVERY_STATUS,
  API_DELIVERY_STATUSES,
  findDeliveriesByIds,
  listEventDeliveries,
  listOrderDeliveryAttempts,
  type DeliveryAttempt,
  type DeliveryOrigin,
  type DeliveryStatus,
  type WebhookDelivery,
} from './webhook-delivery-history.repository.ts';

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

/** The event fields a delivery's body carries besides `data` (the event object: docs/webhooks.md). */
export type DeliveredEventFields = {
  livemode: boolean;
  objectId: string | null;
  objectVersion: number | null;
  orderId: string | null;
  checkoutId: string | null;
  paymentId: string | null;
};

/** The columns that fill `DeliveredEventFields`, selected from the event row as `ev`. */
export const DELIVERED_EVENT_COLUMNS = `ev.livemode AS event_livemode, ev.object_id AS event_object_id,
  ev.object_version AS event_object_version, ev.order_id AS event_order_id, ev.checkout_id AS event_checkout_id,
  ev.payment_id AS event_payment_id`;

type DeliveredEventRow = {
  event_livemode: boolean;
  event_object_id: string | null;
  event_object_version: number | null;
  event_order_id: string | null;
  event_checkout_id: string | null;
  event_payment_id: string | null;
};

/** What fan-out and the claim both read to send one event to one endpoint: the event, the endpoint and its secrets. */
export type DeliveryTargetRow = DeliveredEventRow & {
  event_id: string;
  event_type: string;
  event_created_at: Date;
  event_data_json: string;
  event_actor_type: string | null;
  event_actor_id: string | null;
  endpoint_id: string;
  url: string;
  api_version: string;
  /** Hex (`encode(…, 'hex')`): the worker keys its cache by the text and decodes only on a miss. */
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  traceparent: string | null;
};

function deliveredEventOfRow(row: DeliveredEventRow): DeliveredEventFields {
  return {
    livemode: row.event_livemode,
    objectId: row.event_object_id,
    objectVersion: row.event_object_version,
    orderId: row.event_order_id,
    checkoutId: row.event_checkout_id,
    paymentId: row.event_payment_id,
  };
}

export type ClaimedDelivery = {
  id: string;
  leaseToken: string;
  /** This attempt's number (1 = first). */
  attemptNumber: number;
  eventId: string;
  eventType: string;
  eventCreatedAt: Date;
  event: DeliveredEventFields;
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
  /**
   * Encrypted secrets that sign this attempt, current first (the previous one only inside its overlap), in hex:
   * the worker's key cache is keyed by this text, so the sealed bytes are decoded only on a cache miss.
   */
  secretsEncrypted: string[];
  /** The trace the attempt is sent in: the redelivery request's, else the event's (null: stored before either). */
  traceparent: string | null;
};

function actorOfRow(type: string | null, id: string | null): { type: string; id: string } | null {
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
  const { rows } = await db.query<
    DeliveryTargetRow & {
      id: string;
      attempt_count: number;
      endpoint_active: boolean;
    }
  >(
    // A disabled or deleted endpoint's delivery is claimed without counting an attempt: the worker cancels it.
    `${PLANNED_PER_CALL}UPDATE webhook_deliveries d
        SET ${TAKE_LEASE},
            attempt_count = d.attempt_count + CASE WHEN ep.status = 'enabled' AND ep.deleted_at IS NULL THEN 1 ELSE 0 END
       FROM events ev, webhook_endpoints ep
      WHERE ${dueRowsToLease('webhook_deliveries', 'd')}
        AND ev.id = d.event_id AND ep.id = d.endpoint_id
     RETURNING d.id, d.attempt_count, d.event_id, ev.type AS event_type, ev.created_at AS event_created_at,
               ev.data::text AS event_data_json, ev.actor_type AS event_actor_type, ev.actor_id AS event_actor_id,
               ${DELIVERED_EVENT_COLUMNS}, d.endpoint_id, ep.url, ep.api_version,
               (ep.status = 'enabled' AND ep.deleted_at IS NULL) AS endpoint_active,
               encode(ep.secret_encrypted, 'hex') AS secret_encrypted,
               CASE WHEN ep.previous_secret_expires_at > now() THEN encode(ep.previous_secret_encrypted, 'hex') END
                 AS previous_secret_encrypted, COALESCE(d.traceparent, ev.traceparent) AS traceparent`,
    [options.limit, options.leaseSeconds, options.leaseToken],
  );
  return rows.map((row) =>
    claimedDeliveryOfRow(row, {
      id: row.id,
      leaseToken: options.leaseToken,
      attemptNumber: row.attempt_count,
      endpointActive: row.endpoint_active,
    }),
  );
}

/** A leased delivery from the row that fan-out or the claim read (`DeliveryTargetRow`) and its lease. */
export function claimedDeliveryOfRow(
  row: DeliveryTargetRow,
  lease: Pick<ClaimedDelivery, 'id' | 'leaseToken' | 'attemptNumber' | 'endpointActive'>,
): ClaimedDelivery {
  return {
    ...lease,
    eventId: row.event_id,
    eventType: row.event_type,
    eventCreatedAt: row.event_created_at,
    event: deliveredEventOfRow(row),
    eventDataJson: row.event_data_json,
    eventActor: actorOfRow(row.event_actor_type, row.event_actor_id),
    endpointId: row.endpoint_id,
    url: row.url,
    apiVersion: row.api_version,
    secretsEncrypted: row.previous_secret_encrypted
      ? [row.secret_encrypted, row.previous_secret_encrypted]
      : [row.secret_encrypted],
    traceparent: row.traceparent,
  };
}

/** How one claimed delivery ended this round (`delivery-queue.ts`), and the attempt it made. */
export type AttemptRecord = LeasedOutcome & {
  deliveryId: string;
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
           ${settleLeasedRow({ outcome: 'r.outcome', retryInSeconds: 'r.retry_in', error: 'r.error' })},
           last_attempt_at = CASE WHEN r.attempted THEN r.attempted_at ELSE d.last_attempt_at END,
           last_status_code = CASE WHEN r.attempted THEN r.status_code ELSE d.last_status_code END
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

/**
 * 410 Gone: the receiver asked us to stop. Disables still-enabled endpoints and records why (`reason`: a
 * `disabled_reason` code, src/modules/webhooks/webhook-endpoint.types.ts).
 */
export async function disableGoneEndpoints(db: Queryable, endpointIds: readonly string[], reason: string) {
  if (endpointIds.length === 0) return;
  await db.query(
    `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, disabled_at = now(),
        version = version + 1, updated_at = now()
      WHERE id = ANY ($1) AND status = 'enabled'`,
    [endpointIds, reason],
  );
}
