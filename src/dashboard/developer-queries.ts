import type { Queryable } from '../db/client.ts';
import { toStoredEvent } from '../modules/events/event.repository.ts';
import type { StoredEvent } from '../modules/events/event.types.ts';
import { findDeliveriesByIds, type WebhookDelivery } from '../outbox/webhook-delivery.repository.ts';

/**
 * Read-only queries of the dashboard's developer pages that the API has no list for: one endpoint's
 * deliveries (the API lists deliveries per event), each with the event it carried, so the page can show the
 * request that was sent. Scoped by merchant and mode like every dashboard query.
 */

type Scope = { merchantId: string; livemode: boolean };

export const DELIVERIES_PER_PAGE = 25;

export type EndpointDelivery = WebhookDelivery & { event: StoredEvent | undefined };

/** The newest deliveries to one endpoint (`limit`), newest first, with their attempts and events. */
export async function listEndpointDeliveries(
  db: Queryable,
  scope: Scope,
  endpointId: string,
  limit = DELIVERIES_PER_PAGE,
): Promise<EndpointDelivery[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM webhook_deliveries
      WHERE endpoint_id = $1 AND merchant_id = $2 AND livemode = $3
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [endpointId, scope.merchantId, scope.livemode, limit],
  );
  const deliveries = await findDeliveriesByIds(
    db,
    rows.map((row) => row.id),
  );
  const events = await findEventsByIds(db, scope, [...new Set(deliveries.map((d) => d.eventId))]);
  const order = new Map(rows.map((row, index) => [row.id, index]));
  return deliveries
    .map((delivery) => ({ ...delivery, event: events.get(delivery.eventId) }))
    .sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

async function findEventsByIds(
  db: Queryable,
  scope: Scope,
  ids: string[],
): Promise<Map<string, StoredEvent>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<Parameters<typeof toStoredEvent>[0]>(
    'SELECT * FROM events WHERE id = ANY ($1) AND merchant_id = $2 AND livemode = $3',
    [ids, scope.merchantId, scope.livemode],
  );
  return new Map(rows.map((row) => [row.id, toStoredEvent(row)]));
}

/** The event and endpoint of one delivery of this merchant and mode; undefined when there is none. */
export async function findDeliveryTarget(
  db: Queryable,
  scope: Scope,
  deliveryId: string,
): Promise<{ eventId: string; endpointId: string } | undefined> {
  const { rows } = await db.query<{ event_id: string; endpoint_id: string }>(
    'SELECT event_id, endpoint_id FROM webhook_deliveries WHERE id = $1 AND merchant_id = $2 AND livemode = $3',
    [deliveryId, scope.merchantId, scope.livemode],
  );
  return rows[0] ? { eventId: rows[0].event_id, endpointId: rows[0].endpoint_id } : undefined;
}
