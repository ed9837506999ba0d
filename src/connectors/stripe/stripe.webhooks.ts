/**
 * Stripe's webhooks into Kassa: the `Stripe-Signature` check and the normalization of the events Kassa acts
 * on. The signature is `t=<unix seconds>,v1=<hex>[,v1=…]`: HMAC-SHA256 of `<t>.<raw body>` under the
 * endpoint's signing secret (`whsec_…`), accepted within 5 minutes of `t` (Stripe's own default tolerance).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import { ProcessorWebhookError, type ProcessorNotification, type VerifiedWebhook } from '../processor.ts';
import { mapDeclineCode, type StripeErrorView, type StripeIntentView } from './stripe.mapping.ts';
import { STRIPE_METADATA_PAYMENT_ID } from './stripe.requests.ts';

export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;
export const STRIPE_WEBHOOK_ACKNOWLEDGEMENT = { contentType: 'application/json', body: '{"received":true}' };

/** The events Kassa applies; register these on the Stripe webhook endpoint. Others are acknowledged and ignored. */
export const STRIPE_WEBHOOK_EVENTS = [
  'payment_intent.succeeded',
  'payment_intent.amount_capturable_updated',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'charge.refunded',
  'refund.created',
  'refund.updated',
  'refund.failed',
] as const;

/** Builds a `Stripe-Signature` header value (what Stripe sends; used by the fake and the tests). */
export function signStripePayload(payload: string | Buffer, secret: string, timestamp: number): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.`).update(payload).digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

export function verifyStripeSignature(input: {
  rawBody: Buffer;
  header: string | undefined;
  secret: string | undefined;
  now: Date;
}): void {
  const { header, secret } = input;
  if (!header || header.trim() === '') {
    throw new ProcessorWebhookError('missing_signature', 'The Stripe-Signature header is missing');
  }
  if (!secret) {
    throw new ProcessorWebhookError('invalid_signature', 'No webhook signing secret is set for this account');
  }
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const name = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (name === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (name === 'v1') signatures.push(value);
  }
  if (timestamp === null || signatures.length === 0) {
    throw new ProcessorWebhookError(
      'invalid_signature',
      'The Stripe-Signature header has no timestamp or v1 signature',
    );
  }
  const expected = Buffer.from(signStripePayload(input.rawBody, secret, timestamp).split('v1=')[1]!, 'hex');
  const matches = signatures.some((candidate) => {
    if (!/^[0-9a-f]+$/i.test(candidate)) return false;
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) {
    throw new ProcessorWebhookError('invalid_signature', 'No signature matches the payload');
  }
  const age = Math.abs(input.now.getTime() / 1000 - timestamp);
  if (age > STRIPE_SIGNATURE_TOLERANCE_SECONDS) {
    throw new ProcessorWebhookError(
      'stale_timestamp',
      'The signature timestamp is outside the 5-minute tolerance',
    );
  }
}

type StripeEventView = {
  id: string;
  type: string;
  created: number;
  data: { object: Record<string, unknown> };
};

type RefundView = {
  id: string;
  object: 'refund';
  amount?: number;
  status?: string | null;
  payment_intent?: string | { id: string } | null;
  metadata?: Record<string, string> | null;
};

function parseEvent(rawBody: Buffer): StripeEventView {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new ProcessorWebhookError('malformed', 'The body is not JSON');
  }
  const event = parsed as Partial<StripeEventView> & { object?: unknown };
  if (
    !event ||
    typeof event !== 'object' ||
    event.object !== 'event' ||
    typeof event.id !== 'string' ||
    typeof event.type !== 'string' ||
    typeof event.created !== 'number' ||
    !event.data ||
    typeof event.data.object !== 'object' ||
    event.data.object === null
  ) {
    throw new ProcessorWebhookError('malformed', 'The body is not a Stripe event');
  }
  return event as StripeEventView;
}

function intentOf(event: StripeEventView): StripeIntentView & { id: string } {
  const object = event.data.object as Partial<StripeIntentView> & { object?: string };
  if (object.object !== 'payment_intent' || typeof object.id !== 'string') {
    throw new ProcessorWebhookError('malformed', `${event.type} does not carry a PaymentIntent`);
  }
  return object as StripeIntentView & { id: string };
}

function paymentIdOf(metadata: Record<string, string> | null | undefined): { paymentId?: string } {
  const paymentId = metadata?.[STRIPE_METADATA_PAYMENT_ID];
  return typeof paymentId === 'string' && paymentId !== '' ? { paymentId } : {};
}

function refundNotification(
  eventId: string,
  refund: RefundView,
  occurredAt: Date,
): ProcessorNotification | null {
  const intent =
    typeof refund.payment_intent === 'string' ? refund.payment_intent : refund.payment_intent?.id;
  if (!intent) return null;
  let status: 'succeeded' | 'failed';
  if (refund.status === 'succeeded') status = 'succeeded';
  else if (refund.status === 'failed' || refund.status === 'canceled') status = 'failed';
  else return null; // pending, requires_action: nothing decided yet.
  return {
    eventId,
    kind: 'refund',
    ...paymentIdOf(refund.metadata),
    connectorReference: intent,
    operationReference: refund.id,
    status,
    ...(typeof refund.amount === 'number' ? { amount: refund.amount } : {}),
    ...(status === 'failed' ? { failureCode: 'invalid_state' as const } : {}),
    occurredAt,
  };
}

/** A verified event → what Kassa applies. Events Kassa does not act on give no notification. */
export function normalizeStripeEvent(event: StripeEventView): ProcessorNotification[] {
  const occurredAt = new Date(event.created * 1000);
  switch (event.type) {
    case 'payment_intent.succeeded':
    case 'payment_intent.amount_capturable_updated': {
      const intent = intentOf(event);
      if (event.type === 'payment_intent.amount_capturable_updated' && intent.status !== 'requires_capture') {
        return [];
      }
      return [
        {
          eventId: event.id,
          kind: 'authorization',
          ...paymentIdOf(intent.metadata),
          connectorReference: intent.id,
          status: event.type === 'payment_intent.succeeded' ? 'captured' : 'authorized',
          occurredAt,
        },
      ];
    }
    case 'payment_intent.payment_failed': {
      const intent = intentOf(event);
      return [
        {
          eventId: event.id,
          kind: 'authorization',
          ...paymentIdOf(intent.metadata),
          connectorReference: intent.id,
          status: 'declined',
          declineCode: mapDeclineCode(intent.last_payment_error as StripeErrorView | null | undefined),
          occurredAt,
        },
      ];
    }
    case 'payment_intent.canceled': {
      const intent = intentOf(event);
      return [
        {
          eventId: event.id,
          kind: 'void',
          ...paymentIdOf(intent.metadata),
          connectorReference: intent.id,
          operationReference: intent.id,
          status: 'succeeded',
          occurredAt,
        },
      ];
    }
    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed': {
      const refund = event.data.object as Partial<RefundView>;
      if (refund.object !== 'refund' || typeof refund.id !== 'string') {
        throw new ProcessorWebhookError('malformed', `${event.type} does not carry a refund`);
      }
      const notification = refundNotification(event.id, refund as RefundView, occurredAt);
      return notification ? [notification] : [];
    }
    case 'charge.refunded': {
      // Recent API versions leave `refunds` out of the charge; the refund.* events carry each refund then.
      const charge = event.data.object as { refunds?: { data?: RefundView[] } | null };
      const refunds = charge.refunds?.data ?? [];
      return refunds
        .map((refund) => refundNotification(`${event.id}:${refund.id}`, refund, occurredAt))
        .filter((notification): notification is ProcessorNotification => notification !== null);
    }
    default:
      return [];
  }
}

export function verifyStripeWebhook(input: {
  rawBody: Buffer;
  headers: Record<string, string | undefined>;
  webhookSecret: string | undefined;
  now: Date;
}): VerifiedWebhook {
  verifyStripeSignature({
    rawBody: input.rawBody,
    header: input.headers['stripe-signature'],
    secret: input.webhookSecret,
    now: input.now,
  });
  const event = parseEvent(input.rawBody);
  return {
    notifications: normalizeStripeEvent(event),
    acknowledgement: { ...STRIPE_WEBHOOK_ACKNOWLEDGEMENT },
  };
}
