import { createHmac, createSecretKey, KeyObject, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks 1.0 signing with node:crypto's native HMAC (the reference `standardwebhooks` library
 * signs in JavaScript, ~7× slower: 9 % of the delivery worker's CPU). The tests verify every delivery with
 * that reference library, so the two cannot drift apart:
 * - `webhook-id`: the EVENT id — identical on every attempt and redelivery, the receiver's idempotency key;
 * - `webhook-timestamp`: unix seconds of THIS attempt (receivers reject stale ones, ±5 min by default);
 * - `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per active secret,
 *   space-separated (current secret first; during a rotation overlap the previous one too).
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** 32 random bytes: inside the 24–64 bytes the specification asks for. */
const WEBHOOK_SECRET_BYTES = 32;

export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(WEBHOOK_SECRET_BYTES).toString('base64')}`;
}

/** The event a delivery carries: the event object's fields (docs/events.md), `data` aside. */
export type WebhookEventFields = {
  id: string;
  type: string;
  /** The Kassa-Version the body is rendered in (the endpoint's). */
  apiVersion: string;
  livemode: boolean;
  createdAt: Date;
  objectId: string | null;
  objectVersion: number | null;
  orderId: string | null;
  checkoutId: string | null;
  paymentId: string | null;
  /** Who caused it (null for events recorded before events named their actor). */
  actor?: { type: string; id: string } | null;
};

/**
 * The body of every webhook: the event object as `GET /v1/events/{id}` shows it in the endpoint's version —
 * without `pending_webhooks`, a count that moves while the event is delivered — plus the Standard Webhooks
 * member `timestamp`, equal to `created_at` (docs/webhooks.md, docs/api-conventions.md §14).
 */
export function buildWebhookPayload(event: WebhookEventFields & { data: unknown }): string {
  return buildWebhookPayloadFromJson({ ...event, dataJson: JSON.stringify(event.data) });
}

/**
 * The same body around `data` that is JSON text already (the delivery worker reads it from the database as
 * text: parsing and re-serialising it cost more than signing). `dataJson` must be one valid JSON value.
 */
export function buildWebhookPayloadFromJson(event: WebhookEventFields & { dataJson: string }): string {
  const json = JSON.stringify;
  const actor = event.actor ? json({ type: event.actor.type, id: event.actor.id }) : 'null';
  const at = json(event.createdAt.toISOString());
  return (
    `{"id":${json(event.id)},"object":"event","type":${json(event.type)},"api_version":${json(event.apiVersion)},` +
    `"livemode":${event.livemode},"created_at":${at},"timestamp":${at},"object_id":${json(event.objectId)},` +
    `"object_version":${json(event.objectVersion)},"order_id":${json(event.orderId)},` +
    `"checkout_id":${json(event.checkoutId)},"payment_id":${json(event.paymentId)},"actor":${actor},` +
    `"data":${event.dataJson}}`
  );
}

export function signWebhookPayload(input: {
  webhookId: string;
  timestamp: Date;
  payload: string;
  /** Active secrets, current first: `whsec_…` text, or the key `webhookSigningKey` made of one. */
  secrets: readonly (string | KeyObject)[];
}): string {
  if (input.secrets.length === 0) throw new Error('signWebhookPayload needs at least one secret');
  const timestamp = Math.floor(input.timestamp.getTime() / 1000);
  // "{id}.{timestamp}.{body}", fed in two parts rather than copying the body into a new string.
  const prefix = `${input.webhookId}.${timestamp}.`;
  return input.secrets
    .map(
      (secret) =>
        `v1,${createHmac('sha256', secret instanceof KeyObject ? secret : webhookSigningKey(secret))
          .update(prefix)
          .update(input.payload)
          .digest('base64')}`,
    )
    .join(' ');
}

/**
 * The HMAC key of a `whsec_…` secret: the base64 after the prefix (as the specification defines it). A
 * sender that signs many deliveries with one secret keeps this key instead of decoding it on every attempt.
 */
export function webhookSigningKey(secret: string): KeyObject {
  return createSecretKey(
    Buffer.from(
      secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret,
      'base64',
    ),
  );
}

/** The three Standard Webhooks headers plus the content type, for one attempt. */
export function buildWebhookHeaders(input: {
  webhookId: string;
  timestamp: Date;
  payload: string;
  secrets: readonly (string | KeyObject)[];
}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': input.webhookId,
    'webhook-timestamp': String(Math.floor(input.timestamp.getTime() / 1000)),
    'webhook-signature': signWebhookPayload(input),
  };
}
