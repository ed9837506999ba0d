import type { Queryable } from '../../db/client.ts';
import { notFoundError } from '../../lib/errors.ts';
import { listOrderDeliveryAttempts, type DeliveryAttempt } from '../../outbox/webhook-delivery.repository.ts';
import { listOrderCallbackAttempts } from '../callbacks/callback.repository.ts';
import type { CallbackAttempt } from '../callbacks/callback.types.ts';
import { listOrderEvents, type ListedEvent } from './event.repository.ts';

/**
 * One timeline per order: its state changes (events), every webhook attempt about them and every call to the
 * merchant's callback URLs, in time order. Each kind of entry comes from a `TimelineSource`; another kind is
 * a member of `TimelineEntry`, a source and an entry in `DEFAULT_TIMELINE_SOURCES` (and the matching union
 * member of the route's response schema in src/http/routes/v1/orders.routes.ts).
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

export type TimelineEntry =
  | { kind: 'event'; at: Date; event: ListedEvent }
  | { kind: 'webhook_attempt'; at: Date; attempt: WebhookAttemptEntry }
  | { kind: 'callback_attempt'; at: Date; attempt: CallbackAttempt };

type Scope = { merchantId: string; livemode: boolean };

/** Entries of one kind for an order, oldest first, at most `limit`. */
export type TimelineSource = (
  db: Queryable,
  scope: Scope,
  orderId: string,
  limit: number,
) => Promise<TimelineEntry[]>;

export const eventTimelineSource: TimelineSource = async (db, scope, orderId, limit) =>
  (await listOrderEvents(db, scope, orderId, limit)).map((event) => ({
    kind: 'event',
    at: event.createdAt,
    event,
  }));

export const webhookAttemptTimelineSource: TimelineSource = async (db, scope, orderId, limit) =>
  (await listOrderDeliveryAttempts(db, scope, orderId, limit)).map((attempt) => ({
    kind: 'webhook_attempt',
    at: attempt.attemptedAt,
    attempt,
  }));

export const callbackAttemptTimelineSource: TimelineSource = async (db, scope, orderId, limit) =>
  (await listOrderCallbackAttempts(db, scope, orderId, limit)).map((attempt) => ({
    kind: 'callback_attempt',
    at: attempt.createdAt,
    attempt,
  }));

export const DEFAULT_TIMELINE_SOURCES: readonly TimelineSource[] = [
  eventTimelineSource,
  webhookAttemptTimelineSource,
  callbackAttemptTimelineSource,
];

/** At the same instant, the state change comes before the notifications about it. */
const KIND_ORDER: Record<TimelineEntry['kind'], number> = {
  event: 0,
  webhook_attempt: 1,
  callback_attempt: 1,
};

export const MAX_TIMELINE_ENTRIES = 1_000;

export async function buildOrderTimeline(
  db: Queryable,
  scope: Scope,
  orderId: string,
  options: { sources?: readonly TimelineSource[]; limit?: number } = {},
): Promise<{ entries: TimelineEntry[]; hasMore: boolean }> {
  const { rowCount } = await db.query(
    'SELECT 1 FROM orders WHERE id = $1 AND merchant_id = $2 AND livemode = $3',
    [orderId, scope.merchantId, scope.livemode],
  );
  if (!rowCount) throw notFoundError('order', orderId);
  const limit = options.limit ?? MAX_TIMELINE_ENTRIES;
  const sources = options.sources ?? DEFAULT_TIMELINE_SOURCES;
  // Each source returns its oldest `limit + 1`; the merged oldest `limit` are then exact.
  const lists = await Promise.all(sources.map((source) => source(db, scope, orderId, limit + 1)));
  const entries = lists
    .flat()
    .sort((a, b) => a.at.getTime() - b.at.getTime() || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  return { entries: entries.slice(0, limit), hasMore: entries.length > limit };
}
