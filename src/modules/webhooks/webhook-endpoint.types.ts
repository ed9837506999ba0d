import type { Metadata } from '../../lib/metadata.ts';
import { EVENT_TYPES, type EventType } from '../events/event.types.ts';

/**
 * A merchant's webhook endpoint. `enabled` endpoints receive the events they subscribe to; `disabled` ones
 * receive nothing (the merchant paused it, or the receiver answered 410 Gone). A deleted endpoint is gone
 * from the API but its delivery history stays.
 *
 * The stored (and domain) values are lower case; the API shows them UPPER_CASE like every status
 * (docs/api-conventions.md §3) through `API_WEBHOOK_ENDPOINT_STATUS`. The rows keep their values because the
 * fan-out, claim and metrics SQL — and, during a rolling upgrade, the previous release — match on them.
 */
export const WEBHOOK_ENDPOINT_STATUSES = ['enabled', 'disabled'] as const;
export type WebhookEndpointStatus = (typeof WEBHOOK_ENDPOINT_STATUSES)[number];

/** The API's spelling of each status, and back. */
export const API_WEBHOOK_ENDPOINT_STATUS = { enabled: 'ENABLED', disabled: 'DISABLED' } as const;
export type ApiWebhookEndpointStatus = (typeof API_WEBHOOK_ENDPOINT_STATUS)[WebhookEndpointStatus];
export const API_WEBHOOK_ENDPOINT_STATUSES = WEBHOOK_ENDPOINT_STATUSES.map(
  (status) => API_WEBHOOK_ENDPOINT_STATUS[status],
) as [ApiWebhookEndpointStatus, ...ApiWebhookEndpointStatus[]];
export function webhookEndpointStatusOf(api: ApiWebhookEndpointStatus): WebhookEndpointStatus {
  return api === 'ENABLED' ? 'enabled' : 'disabled';
}

/**
 * Why an endpoint is disabled: a code (`disabled_reason`, stored as is) and a sentence for people
 * (`disabled_message`, derived from the code). Adding a code is not a breaking change (it is not a status).
 */
export const WEBHOOK_ENDPOINT_DISABLED_REASONS = ['disabled_by_merchant', 'endpoint_gone'] as const;
export type WebhookEndpointDisabledReason = (typeof WEBHOOK_ENDPOINT_DISABLED_REASONS)[number];
export const DISABLED_REASON_MESSAGES: Record<WebhookEndpointDisabledReason, string> = {
  disabled_by_merchant: 'Disabled by the merchant',
  endpoint_gone: 'HTTP 410: the endpoint answered Gone to a webhook delivery and has been disabled',
};

/**
 * The code of a stored `disabled_reason`. Rows written before reasons were codes hold the sentence the code
 * replaced; an unknown value (none is written) reads as the merchant's doing rather than failing the read.
 */
export function disabledReasonOf(stored: string): WebhookEndpointDisabledReason {
  if ((WEBHOOK_ENDPOINT_DISABLED_REASONS as readonly string[]).includes(stored))
    return stored as WebhookEndpointDisabledReason;
  return /410|gone/i.test(stored) ? 'endpoint_gone' : 'disabled_by_merchant';
}

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
  disabledReason: WebhookEndpointDisabledReason | null;
  /** The sentence for people that goes with `disabledReason`. */
  disabledMessage: string | null;
  disabledAt: Date | null;
  /** While set and in the future, the previous secret still signs every delivery. */
  previousSecretExpiresAt: Date | null;
  /** The Kassa-Version its deliveries are rendered in (default: the merchant's at creation). */
  apiVersion: string;
  /** The merchant's own data (docs/api-conventions.md, Metadata). */
  metadata: Metadata;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

export type MerchantScope = { merchantId: string; livemode: boolean };
