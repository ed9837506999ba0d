import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks 1.0 signing, done by the reference `standardwebhooks` library so that what we send is
 * exactly what every Standard Webhooks verifier checks:
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

/** The body of every webhook: `{type, timestamp, data}` — `timestamp` is when the event happened. */
export function buildWebhookPayload(event: { type: string; createdAt: Date; data: unknown }): string {
  return JSON.stringify({ type: event.type, timestamp: event.createdAt.toISOString(), data: event.data });
}

export function signWebhookPayload(input: {
  webhookId: string;
  timestamp: Date;
  payload: string;
  /** Active secrets, current first. */
  secrets: readonly string[];
}): string {
  if (input.secrets.length === 0) throw new Error('signWebhookPayload needs at least one secret');
  return input.secrets
    .map((secret) => new Webhook(secret).sign(input.webhookId, input.timestamp, input.payload))
    .join(' ');
}

/** The three Standard Webhooks headers plus the content type, for one attempt. */
export function buildWebhookHeaders(input: {
  webhookId: string;
  timestamp: Date;
  payload: string;
  secrets: readonly string[];
}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': input.webhookId,
    'webhook-timestamp': String(Math.floor(input.timestamp.getTime() / 1000)),
    'webhook-signature': signWebhookPayload(input),
  };
}
