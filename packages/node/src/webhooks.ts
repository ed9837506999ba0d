import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { KassaWebhookError } from './errors.ts';
import type { webhooks } from './openapi.ts';

/** Every event type Kassa sends (the `webhooks` section of /openapi.json). */
export type WebhookEventType = keyof webhooks;

type BodyOf<Operation> = Operation extends { requestBody: { content: { 'application/json': infer Body } } }
  ? Body
  : never;

/** A webhook's parsed body, narrowed by its `type`: `if (event.type === 'payment.succeeded') event.data…`. */
export type WebhookEvent = { [Type in WebhookEventType]: BodyOf<webhooks[Type]['post']> }[WebhookEventType];

/** Headers as Node's `IncomingMessage`, the Fetch API's `Headers`, or a plain object give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function header(headers: WebhookHeaders, name: string): string {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  const single = Array.isArray(value) ? value[0] : value;
  if (!single) throw new KassaWebhookError(`the ${name} header is missing`);
  return single;
}

/**
 * Verifies a webhook from Kassa (Standard Webhooks: the `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` headers, HMAC-SHA256 with the endpoint's `whsec_…` secret, timestamps within five
 * minutes) with the reference `standardwebhooks` library, and returns the parsed event. `payload` must be the
 * raw body exactly as received: parsing and re-serialising it changes the bytes and fails the check.
 * Throws KassaWebhookError when it does not verify. `webhook-id` is the event id, the same on every retry:
 * use it to process each event once.
 */
export function verifyWebhook(
  secret: string,
  payload: string | Buffer,
  headers: WebhookHeaders,
): WebhookEvent {
  const signed = {
    'webhook-id': header(headers, 'webhook-id'),
    'webhook-timestamp': header(headers, 'webhook-timestamp'),
    'webhook-signature': header(headers, 'webhook-signature'),
  };
  try {
    return new Webhook(secret).verify(payload, signed) as WebhookEvent;
  } catch (error) {
    if (error instanceof WebhookVerificationError)
      throw new KassaWebhookError(`webhook ${signed['webhook-id']} does not verify: ${error.message}`, {
        cause: error,
      });
    throw error;
  }
}
