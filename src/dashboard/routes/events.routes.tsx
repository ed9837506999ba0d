import { pooledRandomHex } from '../../lib/random.ts';
import { findEventWithDeliveryCounts, listEvents } from '../../modules/events/event.repository.ts';
import { EVENT_TYPES, type EventType } from '../../modules/events/event.types.ts';
import { findWebhookEndpoint } from '../../modules/webhooks/webhook-endpoint.repository.ts';
import type { WebhookEndpoint } from '../../modules/webhooks/webhook-endpoint.types.ts';
import { listEventDeliveries } from '../../outbox/webhook-delivery.repository.ts';
import { roleAllows } from '../../modules/users/permissions.ts';
import { DashboardRefusal, queryText, pageFeedback } from '../kit.tsx';
import { EventPage, EventsPage, type EventLogFilters } from '../pages/events.tsx';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';

const EVENTS_PER_PAGE = 25;
const DELIVERIES_PER_EVENT = 100;
const ID = /^[A-Za-z0-9_]{1,100}$/;

const NOTICES: Record<string, string> = {
  redelivered: 'The event is being delivered again; the new delivery shows below.',
  already_sent: 'This form was already sent; its delivery is below.',
};

/**
 * The events log: this mode's events, newest first, filtered by type and object id in the URL; an event's
 * payload and its deliveries per endpoint. Events are read with the `webhooks` scope, as in the API.
 */
export function registerEventRoutes(scope: KassaApp, kit: DashboardKit) {
  const { db, sendPage, readPage } = kit;

  readPage(scope, '/dashboard/events', 'webhooks', async (request, reply, context) => {
    // What is not a valid filter is dropped, so a mistyped link shows every event rather than an error.
    const type = queryText(request, 'type');
    const object = queryText(request, 'object')?.trim();
    const cursor = queryText(request, 'starting_after');
    const filters: EventLogFilters = {
      type: type && (EVENT_TYPES as readonly string[]).includes(type) ? type : undefined,
      object: object && ID.test(object) ? object : undefined,
      startingAfter: cursor && ID.test(cursor) ? cursor : undefined,
    };
    const rows = await listEvents(
      db,
      context.scope,
      { type: filters.type as EventType | undefined, objectId: filters.object },
      { limit: EVENTS_PER_PAGE, startingAfter: filters.startingAfter },
    );
    return sendPage(reply, 200, (nonce) => (
      <EventsPage
        nonce={nonce}
        viewer={context.viewer}
        events={rows.slice(0, EVENTS_PER_PAGE)}
        filters={filters}
        hasMore={rows.length > EVENTS_PER_PAGE}
      />
    ));
  });

  readPage(scope, '/dashboard/events/:id', 'webhooks', async (request, reply, context) => {
    const id = (request.params as { id: string }).id;
    const event = await findEventWithDeliveryCounts(db, context.scope, id);
    if (!event) throw new DashboardRefusal(404, 'Not found', `There is no event ${id} in this mode.`);
    const deliveries = await listEventDeliveries(db, context.scope, id, { limit: DELIVERIES_PER_EVENT });
    const endpoints = new Map<string, WebhookEndpoint | undefined>();
    for (const endpointId of new Set(deliveries.map((delivery) => delivery.endpointId)))
      endpoints.set(endpointId, await findWebhookEndpoint(db, context.scope, endpointId));
    return sendPage(reply, 200, (nonce) => (
      <EventPage
        nonce={nonce}
        viewer={context.viewer}
        event={event}
        deliveries={deliveries.slice(0, DELIVERIES_PER_EVENT).map((delivery) => ({
          delivery,
          event,
          endpoint: endpoints.get(delivery.endpointId),
          formKey: pooledRandomHex(16),
        }))}
        canWrite={roleAllows(context.session.user.role, 'webhooks', 'write')}
        {...pageFeedback(request, NOTICES)}
      />
    ));
  });
}
