import type { Queryable, UnitOfWork } from '../../db/client.ts';
import {
  fetchPage,
  mergedSourceQuery,
  positionColumns,
  renderConditions,
  type MergedRowPosition,
  type MergedWindow,
  type PageRequest,
  type Sql,
} from '../../db/pagination.ts';
import type { Actor } from '../../lib/actor-context.ts';
import type { NewEvent, StoredEvent } from './event.types.ts';

/**
 * Emits `events` (`uow.emit`, the one way events are written: with the change, in its transaction) and
 * writes them now rather than with the COMMIT, for work that reads them back before committing.
 */
export async function emitEvents(uow: UnitOfWork, events: NewEvent[]): Promise<{ id: string }[]> {
  const emitted = events.map((event) => uow.emit(event));
  await uow.flush();
  return emitted;
}

/** `emitEvents` for one event. */
export async function emitEvent(uow: UnitOfWork, event: NewEvent): Promise<{ id: string }> {
  const [emitted] = await emitEvents(uow, [event]);
  return emitted!;
}

export type EventRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  type: StoredEvent['type'];
  object_id: string | null;
  object_version: number | null;
  order_id: string | null;
  checkout_id: string | null;
  payment_id: string | null;
  data: Record<string, unknown>;
  actor_type: Actor['type'] | null;
  actor_id: string | null;
  created_at: Date;
};

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    type: row.type,
    objectId: row.object_id,
    objectVersion: row.object_version,
    orderId: row.order_id,
    checkoutId: row.checkout_id,
    paymentId: row.payment_id,
    data: row.data,
    actor:
      row.actor_type !== null && row.actor_id !== null ? { type: row.actor_type, id: row.actor_id } : null,
    createdAt: row.created_at,
  };
}

export async function findEvent(db: Queryable, scope: { merchantId: string; livemode: boolean }, id: string) {
  const { rows } = await db.query<EventRow>(
    'SELECT * FROM events WHERE id = $1 AND merchant_id = $2 AND livemode = $3',
    [id, scope.merchantId, scope.livemode],
  );
  return rows[0] ? toStoredEvent(rows[0]) : undefined;
}

// --- Queries for the events API -------------------------------------------------------------------------

/**
 * Deliveries of `events` still being tried; one branch per origin so each uses its partial index on event_id.
 * The status is tested in a FILTER, not in WHERE: a WHERE saying `status = 'pending'` lets the planner use the
 * worker's queue index (`webhook_deliveries_due_idx`, partial on that predicate) with no condition on the
 * event, which it does when the last ANALYZE saw no pending delivery — and then every event listed reads the
 * whole backlog (docs/performance.md, "Scale with data"). An event has one delivery per endpoint at most
 * (plus redeliveries), so reading them all is bounded.
 */
export const PENDING_WEBHOOKS = `((SELECT count(*) FILTER (WHERE d.status = 'pending') FROM webhook_deliveries d
     WHERE d.event_id = events.id AND d.origin = 'event')
  + (SELECT count(*) FILTER (WHERE d.status = 'pending') FROM webhook_deliveries d
     WHERE d.event_id = events.id AND d.origin = 'redelivery'))::int`;

export type EventFilters = {
  type?: StoredEvent['type'] | undefined;
  orderId?: string | undefined;
  checkoutId?: string | undefined;
  /** Only events about this object (the dashboard's events log). */
  objectId?: string | undefined;
};

export type ListedEvent = StoredEvent & { pendingWebhooks: number };

/**
 * A page of events, newest first (`limit + 1` rows: src/db/pagination.ts), each with its count of deliveries
 * still pending. Events written by one transaction share created_at; `seq`, the order they were written in,
 * breaks the tie.
 */
export async function listEvents(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  filters: EventFilters,
  page: PageRequest,
): Promise<ListedEvent[]> {
  const conditions: Sql[] = [];
  if (filters.type) conditions.push((p) => `events.type = ${p(filters.type)}`);
  if (filters.orderId) conditions.push((p) => `events.order_id = ${p(filters.orderId)}`);
  if (filters.checkoutId) conditions.push((p) => `events.checkout_id = ${p(filters.checkoutId)}`);
  if (filters.objectId) conditions.push((p) => `events.object_id = ${p(filters.objectId)}`);
  const rows = await fetchPage<EventRow & { pending_webhooks: number }>(
    db,
    {
      alias: 'events',
      from: 'events',
      columns: `events.*, ${PENDING_WEBHOOKS} AS pending_webhooks`,
      scope: [
        (p) => `events.merchant_id = ${p(scope.merchantId)}`,
        (p) => `events.livemode = ${p(scope.livemode)}`,
      ],
      filters: conditions,
      tiebreak: 'seq',
    },
    page,
  );
  return rows.map((row) => ({ ...toStoredEvent(row), pendingWebhooks: row.pending_webhooks }));
}

export async function findEventWithDeliveryCounts(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  id: string,
): Promise<ListedEvent | undefined> {
  const { rows } = await db.query<EventRow & { pending_webhooks: number }>(
    `SELECT events.*,
            ${PENDING_WEBHOOKS} AS pending_webhooks
       FROM events WHERE id = $1 AND merchant_id = $2 AND livemode = $3`,
    [id, scope.merchantId, scope.livemode],
  );
  return rows[0] ? { ...toStoredEvent(rows[0]), pendingWebhooks: rows[0].pending_webhooks } : undefined;
}

/** Several events with their pending counts (expansions of a list page); missing ids are left out. */
export async function findEventsWithDeliveryCounts(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  ids: string[],
): Promise<ListedEvent[]> {
  const { rows } = await db.query<EventRow & { pending_webhooks: number }>(
    `SELECT events.*, ${PENDING_WEBHOOKS} AS pending_webhooks
       FROM events WHERE id = ANY($1) AND merchant_id = $2 AND livemode = $3`,
    [ids, scope.merchantId, scope.livemode],
  );
  return rows.map((row) => ({ ...toStoredEvent(row), pendingWebhooks: row.pending_webhooks }));
}

/** Where a row sits in a merged list: its time as text and in microseconds, and its key. */
/** One order's events for its timeline, in the window's direction (src/db/pagination.ts `MergedWindow`). */
export async function listOrderEvents(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  orderId: string,
  window: MergedWindow,
  rank: number,
): Promise<{ event: ListedEvent; position: MergedRowPosition }[]> {
  const { conditions, orderBy } = mergedSourceQuery(window, rank, 'events.created_at', ['events.seq']);
  const values: unknown[] = [orderId, scope.merchantId, scope.livemode];
  const terms = renderConditions(conditions, values);
  values.push(window.limit);
  const { rows } = await db.query<
    EventRow & { seq: string; pending_webhooks: number; position_time: string; position_us: string }
  >(
    `SELECT events.*, ${PENDING_WEBHOOKS} AS pending_webhooks, ${positionColumns('events.created_at')}
       FROM events WHERE events.order_id = $1 AND events.merchant_id = $2 AND events.livemode = $3
       ${terms.map((term) => `AND ${term}`).join(' ')}
      ORDER BY ${orderBy} LIMIT $${values.length}`,
    values,
  );
  return rows.map((row) => ({
    event: { ...toStoredEvent(row), pendingWebhooks: row.pending_webhooks },
    position: { time: row.position_time, us: BigInt(row.position_us), key: [String(row.seq)] },
  }));
}

/** An event of one order as a timeline cursor, or undefined when it is not one. */
export async function findOrderEventPosition(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  orderId: string,
  id: string,
): Promise<{ time: string; key: unknown[] } | undefined> {
  const { rows } = await db.query<{ time: string; seq: string }>(
    `SELECT created_at::text AS time, seq FROM events
      WHERE id = $1 AND order_id = $2 AND merchant_id = $3 AND livemode = $4`,
    [id, orderId, scope.merchantId, scope.livemode],
  );
  return rows[0] && { time: rows[0].time, key: [String(rows[0].seq)] };
}
