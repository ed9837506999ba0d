import type { Queryable, UnitOfWork } from '../../db/client.ts';
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

/** Deliveries of `events` still being tried; one branch per origin so each uses its partial index on event_id. */
export const PENDING_WEBHOOKS = `((SELECT count(*) FROM webhook_deliveries d
     WHERE d.event_id = events.id AND d.origin = 'event' AND d.status = 'pending')
  + (SELECT count(*) FROM webhook_deliveries d
     WHERE d.event_id = events.id AND d.origin = 'redelivery' AND d.status = 'pending'))::int`;

export type EventFilters = {
  type?: StoredEvent['type'];
  orderId?: string;
  checkoutId?: string;
  /** Only events about this object (the dashboard's events log). */
  objectId?: string;
  /** Inclusive bounds (`created[gte]`, `created[lte]`) and exclusive ones (`created_after`, `created_before`). */
  createdGte?: Date;
  createdLte?: Date;
  createdAfter?: Date;
  createdBefore?: Date;
};

export type ListedEvent = StoredEvent & { pendingWebhooks: number };

/** Newest first, `limit + 1` rows (see `toPage`), each with its count of deliveries still pending. */
export async function listEvents(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  filters: EventFilters,
  page: { limit: number; startingAfter?: string },
): Promise<ListedEvent[]> {
  const values: unknown[] = [scope.merchantId, scope.livemode];
  const conditions = ['events.merchant_id = $1', 'events.livemode = $2'];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    conditions.push(sql(`$${values.length}`));
  };
  if (filters.type) add((p) => `events.type = ${p}`, filters.type);
  if (filters.orderId) add((p) => `events.order_id = ${p}`, filters.orderId);
  if (filters.checkoutId) add((p) => `events.checkout_id = ${p}`, filters.checkoutId);
  if (filters.objectId) add((p) => `events.object_id = ${p}`, filters.objectId);
  if (filters.createdGte) add((p) => `events.created_at >= ${p}`, filters.createdGte);
  if (filters.createdLte) add((p) => `events.created_at <= ${p}`, filters.createdLte);
  if (filters.createdAfter) add((p) => `events.created_at > ${p}`, filters.createdAfter);
  if (filters.createdBefore) add((p) => `events.created_at < ${p}`, filters.createdBefore);
  if (page.startingAfter) {
    values.push(page.startingAfter);
    // The cursor compares (created_at, seq): events written by one transaction share created_at, and
    // seq is the order they were written in.
    conditions.push(
      `(events.created_at, events.seq) < (SELECT c.created_at, c.seq FROM events c WHERE c.id = $${values.length})`,
    );
  }
  values.push(page.limit + 1);
  const { rows } = await db.query<EventRow & { pending_webhooks: number }>(
    `SELECT events.*,
            ${PENDING_WEBHOOKS} AS pending_webhooks
       FROM events WHERE ${conditions.join(' AND ')}
      ORDER BY events.created_at DESC, events.seq DESC LIMIT $${values.length}`,
    values,
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

/** The events of one order, oldest first (the order timeline). */
export async function listOrderEvents(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  orderId: string,
  limit: number,
): Promise<ListedEvent[]> {
  const { rows } = await db.query<EventRow & { pending_webhooks: number }>(
    `SELECT events.*,
            ${PENDING_WEBHOOKS} AS pending_webhooks
       FROM events WHERE order_id = $1 AND merchant_id = $2 AND livemode = $3
      ORDER BY created_at, seq LIMIT $4`,
    [orderId, scope.merchantId, scope.livemode, limit],
  );
  return rows.map((row) => ({ ...toStoredEvent(row), pendingWebhooks: row.pending_webhooks }));
}
