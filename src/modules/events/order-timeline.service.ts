import type { Queryable } from '../../db/client.ts';
import {
  invalidCursorError,
  splitPage,
  type MergedPosition,
  type MergedRowPosition,
  type MergedWindow,
  type PageRequest,
} from '../../db/pagination.ts';
import { notFoundError } from '../../lib/errors.ts';
import {
  findOrderDeliveryAttemptPosition,
  listOrderDeliveryAttempts,
  type DeliveryAttempt,
} from '../../outbox/webhook-delivery-history.repository.ts';
import type { CallbackAttempt } from '../callbacks/callback.types.ts';
import {
  findOrderCallbackAttemptPosition,
  listOrderCallbackAttemptsWindow,
} from '../callbacks/callback.repository.ts';
import { findOrderEventPosition, listOrderEvents, type ListedEvent } from './event.repository.ts';
import { ID_BODY, idPattern } from '../../lib/ids.ts';

/**
 * One timeline per order: its state changes (events), every webhook attempt about them and every call to the
 * merchant's callback URLs — a list like any other (docs/api-conventions.md §7): newest first, paged with
 * `starting_after` / `ending_before` on entry ids, `created_*` bounds on the entries' times. Each kind of
 * entry comes from a `TimelineSource`; another kind is a member of `TimelineEntry`, a source in
 * `TIMELINE_SOURCES` (and the matching union member of the route's response schema in
 * src/http/routes/v1/orders.routes.ts).
 *
 * Entry ids: an event's is the event id (`evt_…`); a webhook attempt's its delivery id and attempt number
 * (`del_….2`); a callback attempt's `cba_<n>`.
 *
 * It lives with the events rather than in modules/orders because it reads the events, the outbox's deliveries
 * and the callbacks' attempts: modules/callbacks depends on modules/orders, so an orders-side timeline would
 * close a cycle between the two.
 */

export type WebhookAttemptEntry = DeliveryAttempt & {
  eventId: string;
  eventType: string;
  endpointId: string;
};

export type TimelineEntry = { id: string; at: Date } & (
  | { kind: 'event'; event: ListedEvent }
  | { kind: 'webhook_attempt'; attempt: WebhookAttemptEntry }
  | { kind: 'callback_attempt'; attempt: CallbackAttempt }
);

type Scope = { merchantId: string; livemode: boolean };

type PositionedEntry = { entry: TimelineEntry; position: MergedRowPosition; rank: number };

/**
 * One kind of entry. `rank` orders kinds at the same instant (higher: newer), so that oldest first a state
 * change comes before the notifications about it; `find` places an entry id of this kind as a cursor.
 */
type TimelineSource = {
  rank: number;
  list(db: Queryable, scope: Scope, orderId: string, window: MergedWindow): Promise<PositionedEntry[]>;
  find(
    db: Queryable,
    scope: Scope,
    orderId: string,
    id: string,
  ): Promise<{ time: string; key: unknown[] } | undefined> | undefined;
};

const EVENT_ID = idPattern('evt');
const WEBHOOK_ATTEMPT_ID = new RegExp(`^(del_${ID_BODY})\\.([1-9][0-9]{0,8})$`);
const CALLBACK_ATTEMPT_ID = /^cba_([1-9][0-9]{0,17})$/;

const eventSource: TimelineSource = {
  rank: 0,
  list: async (db, scope, orderId, window) =>
    (await listOrderEvents(db, scope, orderId, window, 0)).map(({ event, position }) => ({
      entry: { id: event.id, kind: 'event', at: event.createdAt, event },
      position,
      rank: 0,
    })),
  find: (db, scope, orderId, id) =>
    EVENT_ID.test(id) ? findOrderEventPosition(db, scope, orderId, id) : undefined,
};

const webhookAttemptSource: TimelineSource = {
  rank: 1,
  list: async (db, scope, orderId, window) =>
    (await listOrderDeliveryAttempts(db, scope, orderId, window, 1)).map(({ attempt, position }) => ({
      entry: {
        id: `${attempt.deliveryId}.${attempt.number}`,
        kind: 'webhook_attempt',
        at: attempt.attemptedAt,
        attempt,
      },
      position,
      rank: 1,
    })),
  find: (db, scope, orderId, id) => {
    const match = WEBHOOK_ATTEMPT_ID.exec(id);
    return match
      ? findOrderDeliveryAttemptPosition(db, scope, orderId, match[1]!, Number(match[2]))
      : undefined;
  },
};

const callbackAttemptSource: TimelineSource = {
  rank: 2,
  list: async (db, scope, orderId, window) =>
    (await listOrderCallbackAttemptsWindow(db, scope, orderId, window, 2)).map(({ attempt, position }) => ({
      entry: { id: `cba_${attempt.id}`, kind: 'callback_attempt', at: attempt.createdAt, attempt },
      position,
      rank: 2,
    })),
  find: (db, scope, orderId, id) => {
    const match = CALLBACK_ATTEMPT_ID.exec(id);
    return match ? findOrderCallbackAttemptPosition(db, scope, orderId, match[1]!) : undefined;
  },
};

const TIMELINE_SOURCES: readonly TimelineSource[] = [
  eventSource,
  webhookAttemptSource,
  callbackAttemptSource,
];

async function resolveTimelineCursor(
  db: Queryable,
  scope: Scope,
  orderId: string,
  id: string,
): Promise<MergedPosition> {
  for (const source of TIMELINE_SOURCES) {
    const found = source.find(db, scope, orderId, id);
    if (found === undefined) continue;
    const position = await found;
    if (!position) break;
    return { ...position, rank: source.rank };
  }
  throw invalidCursorError(id);
}

/** Oldest first by (time, rank); entries of one source at the same instant keep their query's order. */
function compareOldestFirst(a: PositionedEntry, b: PositionedEntry): number {
  if (a.position.us !== b.position.us) return a.position.us < b.position.us ? -1 : 1;
  return a.rank - b.rank;
}

/**
 * One page of an order's timeline, newest first; 404 for an order that is not the caller's, 400
 * `invalid_cursor` for a cursor that is not an entry of this order's timeline.
 */
export async function buildOrderTimeline(
  db: Queryable,
  scope: Scope,
  orderId: string,
  page: PageRequest,
): Promise<{ entries: TimelineEntry[]; hasMore: boolean; nextCursor: string | null }> {
  const { rowCount } = await db.query(
    'SELECT 1 FROM orders WHERE id = $1 AND merchant_id = $2 AND livemode = $3',
    [orderId, scope.merchantId, scope.livemode],
  );
  if (!rowCount) throw notFoundError('order', orderId);
  if (page.startingAfter !== undefined && page.endingBefore !== undefined)
    throw invalidCursorError(page.endingBefore);
  const cursor = page.startingAfter ?? page.endingBefore;
  const forward = page.endingBefore === undefined;
  const window: MergedWindow = {
    limit: page.limit + 1,
    forward,
    position: cursor === undefined ? undefined : await resolveTimelineCursor(db, scope, orderId, cursor),
    page,
  };
  // Each source answers its first `limit + 1` past the cursor; the merged first `limit + 1` are then exact.
  const lists = await Promise.all(TIMELINE_SOURCES.map((source) => source.list(db, scope, orderId, window)));
  const merged = lists
    .flat()
    .sort((a, b) => (forward ? compareOldestFirst(b, a) : compareOldestFirst(a, b)))
    .slice(0, page.limit + 1)
    .map(({ entry }) => entry);
  if (!forward) merged.reverse();
  const split = splitPage(merged, page, (entry) => entry.id);
  return { entries: split.rows, hasMore: split.hasMore, nextCursor: split.nextCursor };
}
