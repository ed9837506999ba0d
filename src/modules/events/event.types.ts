import type { Actor } from '../../lib/actor-context.ts';
import type { OutboxEvent } from '../../outbox/event-writer.ts';

/** The closed catalogue of event types (docs/webhooks.md). Dot-namespaced, lower case. */
export const EVENT_TYPES = [
  'checkout.created',
  'checkout.updated',
  'checkout.completed',
  'checkout.canceled',
  'checkout.expired',
  'checkout.attempts_limited',
  'order.created',
  'order.updated',
  'payment.pending',
  'payment.requires_action',
  'payment.authorized',
  'payment.succeeded',
  'payment.rejected',
  'payment.canceled',
  'payment.captured',
  'refund.succeeded',
  'refund.failed',
  'payment_link.created',
  'payment_link.completed',
  'payment_link.expired',
  'payment_link.deactivated',
  'merchant.updated',
  'payment_method_settings.updated',
  'api_key.created',
  'api_key.rolled',
  'api_key.revoked',
  'oauth_client.created',
  'oauth_client.rolled',
  'oauth_client.revoked',
  'signing_secret.rolled',
  'processor_account.created',
  'processor_account.updated',
  'processor_account.deleted',
  'ping',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/**
 * An event of the catalogue as a business change emits it (the outbox's `OutboxEvent` with its type narrowed):
 * `objectId` / `objectVersion` name the object it is about and its version after the change; `data` is the
 * payload delivered to merchants, a snapshot of the object with amounts in minor units.
 */
export type NewEvent = Omit<OutboxEvent, 'type' | 'targetEndpointId' | 'actor'> & { type: EventType };

export type StoredEvent = {
  id: string;
  /** Who caused it (src/lib/actor-context.ts); null for events written before events named their actor. */
  actor: Actor | null;
  merchantId: string;
  livemode: boolean;
  type: EventType;
  objectId: string | null;
  objectVersion: number | null;
  orderId: string | null;
  checkoutId: string | null;
  paymentId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
};
