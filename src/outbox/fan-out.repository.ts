import type { Database, Queryable } from '../db/client.ts';
import { newId } from '../lib/ids.ts';
import type { ClaimedDelivery } from './webhook-delivery.repository.ts';

/**
 * Fan-out: each pending event becomes one delivery row per matching webhook endpoint.
 *
 * Invariant: at most one 'event' delivery per (event, endpoint) — the partial unique index
 * `webhook_deliveries_fanout_key` makes a repeated fan-out (a crashed or concurrent worker) insert nothing.
 */

/** Which endpoints an event goes to. `ping` goes only to the endpoint it names; `*` matches every other type. */
const ENDPOINT_MATCHES_EVENT = `ep.merchant_id = ev.merchant_id AND ep.livemode = ev.livemode
  AND ep.deleted_at IS NULL AND ep.status = 'enabled'
  AND CASE WHEN ev.type = 'ping' THEN ep.id = ev.data->>'webhook_endpoint_id'
           ELSE ('*' = ANY (ep.enabled_events) OR ev.type = ANY (ep.enabled_events)) END`;

export type FanOutResult = {
  events: number;
  deliveries: number;
  /** Deliveries written already leased to the caller (their first attempt): send them now. */
  leased: ClaimedDelivery[];
};

/**
 * Turns up to `batchSize` pending events into delivery rows, oldest first, in one transaction: marking the
 * events done, and inserting their deliveries, commit together. The row locks taken with SKIP LOCKED are
 * the lease: other processes skip these events meanwhile, and a crash rolls everything back for the next
 * claimer. An endpoint receives events created after it was (replaying older ones is what redelivery is for).
 *
 * The first `lease.count` deliveries are inserted already leased to the caller, with their first attempt
 * counted — the same state `claimDueDeliveries` would leave — which spares a claim round trip per delivery.
 */
export async function fanOutPendingEvents(
  db: Database,
  batchSize: number,
  lease: { count: number; seconds: number; token: string } = { count: 0, seconds: 0, token: '' },
): Promise<FanOutResult> {
  return db.transaction(async (tx) => {
    const { rows: events } = await tx.query<{ id: string }>(
      // `= ANY (ARRAY(…))` keeps the plan on the primary key; `IN (subquery)` may hash-join a scan of the table.
      `UPDATE events SET fanout_state = 'done', fanout_lease_until = NULL
        WHERE id = ANY (ARRAY(SELECT id FROM events
                               WHERE fanout_state = 'pending' AND (fanout_lease_until IS NULL OR fanout_lease_until < now())
                               ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED))
        RETURNING id`,
      [batchSize],
    );
    if (events.length === 0) return { events: 0, deliveries: 0, leased: [] };
    const { rows: targets } = await tx.query<{
      event_id: string;
      event_type: string;
      event_created_at: Date;
      event_data: unknown;
      merchant_id: string;
      livemode: boolean;
      endpoint_id: string;
      url: string;
      secret_encrypted: Buffer;
      previous_secret_encrypted: Buffer | null;
    }>(
      `SELECT ev.id AS event_id, ev.type AS event_type, ev.created_at AS event_created_at, ev.data AS event_data,
              ev.merchant_id, ev.livemode, ep.id AS endpoint_id, ep.url, ep.secret_encrypted,
              CASE WHEN ep.previous_secret_expires_at > now() THEN ep.previous_secret_encrypted END
                AS previous_secret_encrypted
         FROM events ev JOIN webhook_endpoints ep ON ${ENDPOINT_MATCHES_EVENT} AND ep.created_at <= ev.created_at
        WHERE ev.id = ANY ($1)
        ORDER BY ev.seq, ep.id`,
      [events.map((event) => event.id)],
    );
    if (targets.length === 0) return { events: events.length, deliveries: 0, leased: [] };
    const ids = targets.map(() => newId('del'));
    const leasedFlags = targets.map((_, index) => index < lease.count);
    const { rows: inserted } = await tx.query<{ id: string; lease_token: string | null }>(
      `INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin,
           lease_until, lease_token, attempt_count)
       SELECT id, event_id, endpoint_id, merchant_id, livemode, 'event',
              CASE WHEN leased THEN now() + make_interval(secs => $7::float8) END,
              CASE WHEN leased THEN $8 END,
              CASE WHEN leased THEN 1 ELSE 0 END
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::boolean[])
           AS t (id, event_id, endpoint_id, merchant_id, livemode, leased)
       ON CONFLICT DO NOTHING
       RETURNING id, lease_token`,
      [
        ids,
        targets.map((t) => t.event_id),
        targets.map((t) => t.endpoint_id),
        targets.map((t) => t.merchant_id),
        targets.map((t) => t.livemode),
        leasedFlags,
        lease.seconds,
        lease.token,
      ],
    );
    const insertedLeased = new Set(inserted.filter((row) => row.lease_token !== null).map((row) => row.id));
    const leased: ClaimedDelivery[] = [];
    targets.forEach((target, index) => {
      const id = ids[index]!;
      if (!insertedLeased.has(id)) return;
      leased.push({
        id,
        leaseToken: lease.token,
        attemptNumber: 1,
        eventId: target.event_id,
        eventType: target.event_type,
        eventCreatedAt: target.event_created_at,
        eventData: target.event_data,
        endpointId: target.endpoint_id,
        url: target.url,
        endpointActive: true,
        secretsEncrypted: target.previous_secret_encrypted
          ? [target.secret_encrypted, target.previous_secret_encrypted]
          : [target.secret_encrypted],
      });
    });
    return { events: events.length, deliveries: inserted.length, leased };
  });
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
