import { currentActor, type Actor } from '../lib/actor-context.ts';
import { currentTraceparent } from '../metrics/trace-context.ts';
import { newId } from '../lib/ids.ts';
import { fanOutEmittedEventsSql } from './fan-out.repository.ts';

/**
 * An event as a business change emits it (`uow.emit`): what the outbox writes into `events`, fanned out to
 * webhook deliveries in the same statement. `type` is one of the catalogue in
 * `modules/events/event.types.ts` (`NewEvent` is this type narrowed to it).
 */
export type OutboxEvent = {
  merchantId: string;
  livemode: boolean;
  type: string;
  objectId?: string;
  objectVersion?: number;
  orderId?: string;
  checkoutId?: string;
  paymentId?: string;
  data: Record<string, unknown>;
  /** A test event: sent to this webhook endpoint only, whatever its subscriptions (fan-out.repository.ts). */
  targetEndpointId?: string;
  /**
   * Who caused the change (src/lib/actor-context.ts). Left out, it is the actor of the work emitting the
   * event: the credential of the request, the shopper, or the worker.
   */
  actor?: Actor;
};

/**
 * The columns the event insert writes, in the order of its values, with each placeholder's type: inside a
 * WITH, PostgreSQL does not infer the types of placeholders from the target columns.
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
  actor_type: 'text',
  actor_id: 'text',
  traceparent: 'text',
  target_endpoint_id: 'text',
} as const;
const EVENT_COLUMNS = Object.keys(EVENT_COLUMN_TYPES);
const EVENT_PLACEHOLDER_TYPES = Object.values(EVENT_COLUMN_TYPES);

export type EventWithId = OutboxEvent & { id: string; actor: Actor; traceparent: string | null };

/**
 * Gives an event its id when it is emitted, so the emitter can name it before it is written, its actor (the
 * one the emitter named, or the actor of the work emitting it) and the trace of that work, which the webhooks
 * and callback notifications sent for the event later carry on (src/metrics/trace-context.ts). Both are read
 * now, inside the emitting work's context.
 */
export function withEventId(event: OutboxEvent): EventWithId {
  return {
    ...event,
    id: newId('evt'),
    actor: event.actor ?? currentActor(),
    traceparent: currentTraceparent() ?? null,
  };
}

/**
 * The events of one change as common table expressions (`emitted AS (…), fanned_out AS (…)`), in the order
 * given, with parameters numbered from `firstParameter`: the events are inserted already fanned out
 * (`fanOutEmittedEventsSql`), so the outbox worker never has to rewrite them. Data-modifying CTEs run
 * whether or not the statement reads them.
 */
export function eventEmissionSql(
  events: readonly EventWithId[],
  firstParameter: number,
): { ctes: string; values: unknown[] } {
  const values: unknown[] = [];
  const tuples = events.map((event, index) => {
    values.push(
      event.id,
      event.merchantId,
      event.livemode,
      event.type,
      event.objectId ?? null,
      event.objectVersion ?? null,
      event.orderId ?? null,
      event.checkoutId ?? null,
      event.paymentId ?? null,
      JSON.stringify(event.data),
      event.actor.type,
      event.actor.id,
      event.traceparent,
      event.targetEndpointId ?? null,
    );
    const base = firstParameter + index * EVENT_COLUMNS.length;
    return `(${EVENT_PLACEHOLDER_TYPES.map((type, column) => `$${base + column}::${type}`).join(', ')}, 'done')`;
  });
  const ctes = `emitted AS (
       INSERT INTO events (${EVENT_COLUMNS.join(', ')}, fanout_state)
       VALUES ${tuples.join(', ')}
       RETURNING id, merchant_id, livemode, type, data, created_at, target_endpoint_id
     ), fanned_out AS (
       ${fanOutEmittedEventsSql('emitted')}
     )`;
  return { ctes, values };
}

/** One statement that writes `events` (in order) and their webhook deliveries. */
export function eventsStatement(events: readonly EventWithId[]): { text: string; values: unknown[] } {
  const emission = eventEmissionSql(events, 1);
  return { text: `WITH ${emission.ctes} SELECT 1`, values: emission.values };
}
