import type { Queryable, Transaction } from '../../db/client.ts';
import { newId } from '../../lib/ids.ts';
import { fanOutEmittedEventsSql } from '../../outbox/fan-out.repository.ts';
import type { NewEvent, StoredEvent } from './event.types.ts';

/**
 * Writes an event row. MUST be called with the transaction that makes the change it describes — that is
 * what makes the outbox transactional: the event exists if and only if the change committed. The same
 * statement fans the event out (its webhook deliveries), so both commit or roll back with the change;
 * ring the outbox signal after the commit when the deliveries should start at once.
 */
export async function emitEvent(tx: Queryable, event: NewEvent): Promise<{ id: string }> {
  const [emitted] = await emitEvents(tx, [event]);
  return emitted!;
}

/**
 * The columns `emitEvents` writes, in the order of its values, with each placeholder's type: inside a WITH,
 * PostgreSQL does not infer the types of placeholders from the target columns.
 */
const EVENT_COLUMN_TYPES = {
  id: 'text',
  merchant_id: 'text',
  livemode: 'boolean',
  type: 'text',
  object_id: 'text',
  object_version: 'integer',
  order_id: 'text',
  checkout_id: 'text',
  payment_id: 'text',
  data: 'json',
} as const;
const EVENT_COLUMNS = Object.keys(EVENT_COLUMN_TYPES);
const EVENT_PLACEHOLDER_TYPES = Object.values(EVENT_COLUMN_TYPES);

/**
 * Several events of one change in a single statement (one round trip), in the order given, already fanned
 * out (`fanOutEmittedEventsSql`), so the outbox worker never has to rewrite them.
 */
export async function emitEvents(tx: Queryable, events: NewEvent[]): Promise<{ id: string }[]> {
  if (events.length === 0) return [];
  const emission = eventEmissionSql(events, 1);
  await tx.query(`WITH ${emission.ctes} SELECT 1`, emission.values);
  return emission.ids.map((id) => ({ id }));
}

/**
 * `emitEvents` for the LAST writes of a transaction: the statement is deferred (`tx.defer`), so it travels
 * with the COMMIT (or the next statement) instead of costing a round trip of its own. A failure surfaces
 * there, and rolls the change back with its events.
 */
export function deferEvents(tx: Transaction, events: NewEvent[]): void {
  if (events.length === 0) return;
  const emission = eventEmissionSql(events, 1);
  tx.defer(`WITH ${emission.ctes} SELECT 1`, emission.values);
}

/**
 * What `emitEvents` runs, as common table expressions (`emitted AS (…), fanned_out AS (…)`) with parameters
 * numbered from `firstParameter`, for a statement that makes its change and writes its events in the same
 * round trip (creating a checkout). Data-modifying CTEs run whether or not the statement reads them.
 */
export function eventEmissionSql(
  events: NewEvent[],
  firstParameter: number,
): { ctes: string; values: unknown[]; ids: string[] } {
  const ids = events.map(() => newId('evt'));
  const values: unknown[] = [];
  const tuples = events.map((event, index) => {
    values.push(
      ids[index],
      event.merchantId,
      event.livemode,
      event.type,
      event.objectId ?? null,
      event.objectVersion ?? null,
      event.orderId ?? null,
      event.checkoutId ?? null,
      event.paymentId ?? null,
      JSON.stringify(event.data),
    );
    const base = firstParameter + index * EVENT_COLUMNS.length;
    return `(${EVENT_PLACEHOLDER_TYPES.map((type, column) => `$${base + column}::${type}`).join(', ')}, 'done')`;
  });
  const ctes = `emitted AS (
       INSERT INTO events (${EVENT_COLUMNS.join(', ')}, fanout_state)
       VALUES ${tuples.join(', ')}
       RETURNING id, merchant_id, livemode, type, data, created_at
     ), fanned_out AS (
       ${fanOutEmittedEventsSql('emitted')}
     )`;
  return { ctes, values, ids };
}

type EventRow = {
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
const PENDING_WEBHOOKS = `((SELECT count(*) FROM webhook_deliveries d
     WHERE d.event_id = events.id AND d.origin = 'event' AND d.status = 'pending')
  + (SELECT count(*) FROM webhook_deliveries d
     WHERE d.event_id = events.id AND d.origin = 'redelivery' AND d.status = 'pending'))::int`;

export type EventFilters = {
  type?: StoredEvent['type'];
  orderId?: string;
  checkoutId?: string;
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
