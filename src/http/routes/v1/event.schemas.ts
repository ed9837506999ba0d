import { z } from 'zod';
import { LATEST_API_VERSION } from '../../../lib/api-versions.ts';
import type { ListedEvent } from '../../../modules/events/event.repository.ts';
import { EVENT_TYPES } from '../../../modules/events/event.types.ts';

/** The event object, apart from its routes so that expansions (src/http/expansions.ts) can show it. */
export const ZEventActor = z
  .object({
    type: z
      .enum(['credential', 'user', 'system', 'shopper'])
      .describe(
        '`credential`: an API key or OAuth client; `shopper`: a shopper on a hosted page, payment link or client token; `user`: a dashboard user; `system`: Kassa itself (expiry, recovery, the CLI)',
      ),
    id: z
      .string()
      .describe(
        'The API key (`key_…`) or OAuth client (`cli_…`); the checkout or payment link; the user; or the worker or command',
      ),
  })
  .meta({ id: 'EventActor' });

export const ZEvent = z
  .object({
    id: z.string().describe('Also the `webhook-id` of every delivery of this event'),
    object: z.literal('event'),
    type: z.enum(EVENT_TYPES),
    api_version: z.string().describe('The Kassa-Version this event object (and its data) is rendered in'),
    livemode: z.boolean(),
    created_at: z.string(),
    object_id: z.string().nullable().describe('The object the event is about'),
    object_version: z.number().int().nullable().describe("That object's version after the change"),
    order_id: z.string().nullable(),
    checkout_id: z.string().nullable(),
    payment_id: z.string().nullable(),
    actor: ZEventActor.nullable().describe(
      'Who caused the event; null only for events recorded before Kassa recorded actors',
    ),
    data: z.record(z.string(), z.unknown()).describe('The snapshot delivered as the webhook body `data`'),
    pending_webhooks: z.number().int().describe('Deliveries of this event not yet succeeded or given up'),
  })
  .meta({ id: 'Event' });

/** The event rendered in `apiVersion` (the request's; a delivery uses its endpoint's). */
export function presentEvent(
  event: ListedEvent,
  apiVersion: string = LATEST_API_VERSION,
): z.infer<typeof ZEvent> {
  return {
    id: event.id,
    object: 'event',
    type: event.type,
    api_version: apiVersion,
    livemode: event.livemode,
    created_at: event.createdAt.toISOString(),
    object_id: event.objectId,
    object_version: event.objectVersion,
    order_id: event.orderId,
    checkout_id: event.checkoutId,
    payment_id: event.paymentId,
    actor: event.actor,
    data: event.data,
    pending_webhooks: event.pendingWebhooks,
  };
}
