import { PLANNED_PER_CALL, type Queryable } from '../db/queryable.ts';
import {
  claimedDeliveryOfRow,
  type ClaimedDelivery,
  DELIVERED_EVENT_COLUMNS,
  type DeliveryTargetRow,
} from './webhook-delivery.repository.ts';
import { timeLedIdSql } from '../lib/ids.ts';

/**
 * Fan-out: each event becomes one delivery row per matching webhook endpoint. Two paths apply one rule:
 * - at emit time (`fanOutEmittedEventsSql`): the statement that inserts events also inserts their
 *   deliveries and marks the events done — atomic with the business change, and no second write of the
 *   event row (rewriting every event doubled the events heap with dead tuples, even with no endpoint);
 * - the worker (`fanOutPendingEvents`): events still 'pending' — rows written by any other path.
 *
 * Invariant: at most one 'event' delivery per (event, endpoint) — the partial unique index
 * `webhook_deliveries_fanout_key` makes a repeated fan-out (a crashed or concurrent worker) insert nothing.
 */

/**
 * Which endpoints an event goes to. A test event goes only to the endpoint it targets (`target_endpoint_id`;
 * a `ping` written before that column names it in its data); `*` matches every other type.
 */
const ENDPOINT_MATCHES_EVENT = `ep.merchant_id = ev.merchant_id AND ep.livemode = ev.livemode
  AND ep.deleted_at IS NULL AND ep.status = 'enabled'
  AND CASE WHEN ev.target_endpoint_id IS NOT NULL THEN ep.id = ev.target_endpoint_id
           WHEN ev.type = 'ping' THEN ep.id = ev.data->>'webhook_endpoint_id'
           ELSE ('*' = ANY (ep.enabled_events) OR ev.type = ANY (ep.enabled_events)) END`;

/**
 * A new delivery id, made in SQL because only the database knows how many deliveries a fan-out writes:
 * time-led like `newId('del')` — 12 hex digits of the milliseconds now, then an md5 of two random UUIDs
 * (244 bits of pg_strong_random) so the id carries a full 128 random bits.
 */
const NEW_DELIVERY_ID = timeLedIdSql(
  'del',
  'clock_timestamp()',
  'md5(gen_random_uuid()::text || gen_random_uuid()::text)',
);

/**
 * The statement that follows `WITH <emitted> AS (INSERT INTO events … 'done' … RETURNING *)`: writes the
 * deliveries of the just-inserted events, in the same statement and so the same transaction. An endpoint
 * counts when the statement's snapshot sees it, as with the worker's fan-out at its own later moment.
 */
export function fanOutEmittedEventsSql(emitted: string): string {
  return `INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin)
    SELECT ${NEW_DELIVERY_ID}, ev.id, ep.id, ev.merchant_id, ev.livemode, 'event'
      FROM ${emitted} ev JOIN webhook_endpoints ep ON ${ENDPOINT_MATCHES_EVENT} AND ep.created_at <= ev.created_at`;
}

export type FanOutResult = {
  events: number;
  deliveries: number;
  /** Deliveries written already leased to the caller (their first attempt): send them now. */
  leased: ClaimedDelivery[];
};

/**
 * Turns up to `batchSize` pending events into delivery rows, oldest first, in ONE statement (so one round
 * trip, and atomic without an explicit transaction): marking the events done, and inserting their
 * deliveries, commit together. The row locks taken with SKIP LOCKED are the lease: other processes skip
 * these events meanwhile, and a crash rolls everything back for the next claimer. An endpoint receives
 * events created after it was (replaying older ones is what redelivery is for).
 *
 * The first `lease.count` deliveries are inserted already leased to the caller, with their first attempt
 * counted — the same state `claimDueDeliveries` would leave — which spares a claim round trip per delivery.
 * Only those come back with their event's payload; the others are left to the claim loop.
 *
 * The join starts from the claimed events (a CTE, so materialised): given a list of ids instead, the planner
 * may start from the endpoints and scan every event of the merchant. `targets` is materialised too (used
 * twice), so each delivery id is drawn once: the id inserted is the id returned.
 */
export async function fanOutPendingEvents(
  db: Queryable,
  batchSize: number,
  lease: { count: number; seconds: number; token: string } = { count: 0, seconds: 0, token: '' },
): Promise<FanOutResult> {
  const { rows } = await db.query<
    DeliveryTargetRow & {
      events: number;
      deliveries: number;
      id: string | null;
    }
  >(
    // `= ANY (ARRAY(…))` keeps the plan on the primary key; `IN (subquery)` may hash-join a scan of the table.
    `${PLANNED_PER_CALL}WITH fanned AS (
       UPDATE events SET fanout_state = 'done', fanout_lease_until = NULL
        WHERE id = ANY (ARRAY(SELECT id FROM events
                               WHERE fanout_state = 'pending' AND (fanout_lease_until IS NULL OR fanout_lease_until < now())
                               ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED))
       RETURNING id, seq, type, created_at, merchant_id, livemode, data, actor_type, actor_id, traceparent,
                 target_endpoint_id, object_id, object_version, order_id, checkout_id, payment_id
     ), targets AS (
       SELECT ${NEW_DELIVERY_ID} AS id, ev.id AS event_id, ev.type AS event_type, ev.created_at AS event_created_at,
              ev.data AS event_data, ev.actor_type AS event_actor_type, ev.actor_id AS event_actor_id, ev.merchant_id,
              ev.livemode, ev.traceparent, ${DELIVERED_EVENT_COLUMNS}, ep.id AS endpoint_id, ep.url, ep.api_version, ep.secret_encrypted,
              CASE WHEN ep.previous_secret_expires_at > now() THEN ep.previous_secret_encrypted END
                AS previous_secret_encrypted,
              row_number() OVER (ORDER BY ev.seq, ep.id) AS position
         FROM fanned ev JOIN webhook_endpoints ep ON ${ENDPOINT_MATCHES_EVENT} AND ep.created_at <= ev.created_at
     ), inserted AS (
       INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin,
           lease_until, lease_token, attempt_count)
       SELECT id, event_id, endpoint_id, merchant_id, livemode, 'event',
              CASE WHEN position <= $2 THEN now() + make_interval(secs => $3::float8) END,
              CASE WHEN position <= $2 THEN $4 END,
              CASE WHEN position <= $2 THEN 1 ELSE 0 END
         FROM targets
       ON CONFLICT DO NOTHING
       RETURNING id
     )
     SELECT counts.events, counts.deliveries, leased.*
       FROM (SELECT (SELECT count(*) FROM fanned)::int AS events, (SELECT count(*) FROM inserted)::int AS deliveries) counts
       LEFT JOIN (
         SELECT t.id, t.event_id, t.event_type, t.event_created_at, t.event_data::text AS event_data_json,
                t.event_actor_type, t.event_actor_id, t.event_livemode, t.event_object_id, t.event_object_version,
                t.event_order_id, t.event_checkout_id, t.event_payment_id, t.endpoint_id, t.url, t.api_version,
                encode(t.secret_encrypted, 'hex') AS secret_encrypted,
                encode(t.previous_secret_encrypted, 'hex') AS previous_secret_encrypted, t.traceparent, t.position
           FROM targets t WHERE t.position <= $2 AND t.id IN (SELECT id FROM inserted)
       ) leased ON true
      ORDER BY leased.position`,
    [batchSize, lease.count, lease.seconds, lease.token],
  );
  const counts = rows[0] ?? { events: 0, deliveries: 0 };
  const leased: ClaimedDelivery[] = rows
    .filter((row) => row.id !== null)
    .map((row) =>
      claimedDeliveryOfRow(row, {
        id: row.id!,
        leaseToken: lease.token,
        attemptNumber: 1,
        endpointActive: true,
      }),
    );
  return { events: counts.events, deliveries: counts.deliveries, leased };
}

/** The ids of the enabled endpoints an event goes to, whatever their age (for redelivery). */
export async function findMatchingEndpointIds(db: Queryable, eventId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT ep.id FROM events ev JOIN webhook_endpoints ep ON ${ENDPOINT_MATCHES_EVENT}
      WHERE ev.id = $1 ORDER BY ep.created_at, ep.id`,
    [eventId],
  );
  return rows.map((row) => row.id);
}
