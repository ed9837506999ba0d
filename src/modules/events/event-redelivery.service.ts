import type { Queryable } from '../../db/client.ts';
import { AppError, invalidStateError, notFoundError } from '../../lib/errors.ts';
import { findMatchingEndpointIds } from '../../outbox/fan-out.repository.ts';
import {
  findDeliveriesByIds,
  insertRedeliveries,
  type WebhookDelivery,
} from '../../outbox/webhook-delivery.repository.ts';
import { findWebhookEndpoint } from '../webhooks/webhook-endpoint.service.ts';
import { findEvent } from './event.repository.ts';

/**
 * Replay: new delivery rows for an event — to every enabled endpoint that subscribes to it (whatever its
 * age), or to one named endpoint. The receiver sees the same `webhook-id` as for the first delivery, so a
 * receiver that already processed the event can recognise the replay.
 */
export async function redeliverEvent(
  tx: Queryable,
  scope: { merchantId: string; livemode: boolean },
  eventId: string,
  endpointId?: string,
): Promise<WebhookDelivery[]> {
  const event = await findEvent(tx, scope, eventId);
  if (!event) throw notFoundError('event', eventId);
  let endpointIds: string[];
  if (endpointId !== undefined) {
    const endpoint = await findWebhookEndpoint(tx, scope, endpointId);
    if (!endpoint) throw notFoundError('webhook endpoint', endpointId);
    if (endpoint.status !== 'enabled') {
      throw invalidStateError('webhook endpoint', 'DISABLED', ['ENABLED'], 'redeliver an event to');
    }
    endpointIds = [endpoint.id];
  } else {
    endpointIds = await findMatchingEndpointIds(tx, event.id);
    if (endpointIds.length === 0) {
      throw new AppError(
        'conflict',
        'No enabled webhook endpoint subscribes to this event; pass webhook_endpoint_id to send it to one endpoint',
      );
    }
  }
  const ids = await insertRedeliveries(tx, event, endpointIds);
  return findDeliveriesByIds(tx, ids);
}
