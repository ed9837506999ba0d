import { EVENT_TYPES, type EventType } from '../events/event.types.ts';

/**
 * A merchant's webhook endpoint. `enabled` endpoints receive the events they subscribe to; `disabled` ones
 * receive nothing (the merchant paused it, or the receiver answered 410 Gone). A deleted endpoint is gone
 * from the API but its delivery history stays.
 */
export const WEBHOOK_ENDPOINT_STATUSES = ['enabled', 'disabled'] as const;
export type WebhookEndpointStatus = (typeof WEBHOOK_ENDPOINT_STATUSES)[number];

/** Which status may follow which (PATCH `status`); staying in the same status is always allowed. */
export const WEBHOOK_ENDPOINT_TRANSITIONS: Record<WebhookEndpointStatus, readonly WebhookEndpointStatus[]> = {
  enabled: ['disabled'],
  disabled: ['enabled'],
};

/** `enabled_events: ["*"]` subscribes to every event type, including ones added later. */
export const ALL_EVENTS = '*';

/** `ping` is not subscribable: it is sent only by POST /v1/webhook-endpoints/{id}/test, to that endpoint. */
export const SUBSCRIBABLE_EVENT_TYPES = EVENT_TYPES.filter(
  (type): type is Exclude<EventType, 'ping'> => type !== 'ping',
);

/** A bound on fan-out per event (API4: unrestricted resource consumption). */
export const MAX_WEBHOOK_ENDPOINTS_PER_MODE = 16;
export const DEFAULT_SECRET_OVERLAP_SECONDS = 86_400;
export const MAX_SECRET_OVERLAP_SECONDS = 7 * 86_400;

export type WebhookEndpoint = {
  id: string;
  merchantId: string;
  livemode: boolean;
  url: string;
  description: string | null;
  enabledEvents: string[];
  status: WebhookEndpointStatus;
  disabledReason: string | null;
  disabledAt: Date | null;
  /** While set and in the future, the previous secret still signs every delivery. */
  previousSecretExpiresAt: Date | null;
  /** The Kassa-Version its deliveries are rendered in (default: the merchant's at creation). */
  apiVersion: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

export type MerchantScope = { merchantId: string; livemode: boolean };
