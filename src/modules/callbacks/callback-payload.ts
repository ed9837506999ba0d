import type { Queryable } from '../../db/client.ts';
import type { Keyring } from '../../lib/keyring.ts';
import { buildWebhookHeaders } from '../../outbox/webhook-signer.ts';
import type { Checkout, Scope } from '../checkouts/checkout.types.ts';
import { getSigningSecret } from '../merchants/signing-secret.service.ts';
import type { Order } from '../orders/order.types.ts';
import type { PaymentResource } from '../payments/payment.presenter.ts';
import type { Payment } from '../payments/payment.types.ts';
import type { CallbackKind, CallbackSubject } from './callback.types.ts';

/**
 * The body and signature of every callback request.
 *
 * Body: `application/x-www-form-urlencoded` (the callbacks flow posts forms), fields in this fixed order:
 *   callback, livemode, checkout_id, order_id, merchant_order_id, payment_id, status, amount, currency, method,
 *   card_brand, card_last4, decline_code, failure_message, metadata[<key>]…, timestamp, order_status
 * (`order_status` came last, so no earlier field moved.)
 * Amounts are integers of minor units; `timestamp` is RFC 3339 UTC; absent values are sent empty.
 *
 * Signature: the Standard Webhooks scheme, exactly as webhooks (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`), keyed with the merchant's
 * per-mode signing secret — the `kss_…` secret of `GET /v1/merchant/signing-secret` that also signs return
 * URLs. The HMAC key is that secret's UTF-8 bytes, which as a Standard Webhooks secret is
 * `whsec_` + base64(secret): `new Webhook('whsec_' + Buffer.from(secret).toString('base64'))`, or
 * `new Webhook(secret, { format: 'raw' })`. One secret, one place to rotate, no second secret to hand out.
 */

export const CALLBACK_CONTENT_TYPE = 'application/x-www-form-urlencoded';

export function buildCallbackForm(subject: CallbackSubject): string {
  const form = new URLSearchParams();
  form.append('callback', subject.kind);
  form.append('livemode', String(subject.livemode));
  form.append('checkout_id', subject.checkoutId);
  form.append('order_id', subject.orderId);
  form.append('merchant_order_id', subject.merchantOrderId);
  form.append('payment_id', subject.paymentId);
  form.append('status', subject.status);
  form.append('amount', String(subject.amount));
  form.append('currency', subject.currency);
  form.append('method', subject.method);
  form.append('card_brand', subject.card?.brand ?? '');
  form.append('card_last4', subject.card?.last4 ?? '');
  form.append('decline_code', subject.declineCode ?? '');
  form.append('failure_message', subject.failureMessage ?? '');
  for (const [key, value] of Object.entries(subject.metadata)) {
    form.append(`metadata[${key}]`, value === null ? '' : String(value));
  }
  form.append('timestamp', subject.timestamp.toISOString());
  form.append('order_status', subject.orderStatus);
  return form.toString();
}

/** The subject of a callback about a payment the flow holds (ok / fail / open / verify_order). */
export function subjectFromPayment(
  kind: CallbackKind,
  checkout: Checkout,
  order: Order,
  payment: Payment,
): CallbackSubject {
  return {
    kind,
    livemode: payment.livemode,
    checkoutId: checkout.id,
    orderId: order.id,
    merchantOrderId: order.merchantOrderId,
    paymentId: payment.id,
    status: payment.status,
    orderStatus: order.status,
    amount: payment.amount,
    currency: payment.currency,
    method: payment.method,
    card: payment.card ? { brand: payment.card.brand, last4: payment.card.last4 } : null,
    declineCode: payment.declineCode,
    failureMessage: payment.failureMessage,
    metadata: checkout.metadata,
    timestamp: payment.updatedAt,
  };
}

/**
 * The subject of a notification: the payment as the latest event of the delivery captured it (its final state
 * once nothing is left to happen), and the order as it is when the request is sent.
 */
export function subjectFromEventSnapshot(
  snapshot: PaymentResource,
  context: { checkout: Checkout; order: Order; eventCreatedAt: Date },
): CallbackSubject {
  return {
    kind: 'notification',
    livemode: snapshot.livemode,
    checkoutId: context.checkout.id,
    orderId: context.order.id,
    merchantOrderId: context.order.merchantOrderId,
    paymentId: snapshot.id,
    status: snapshot.status,
    orderStatus: context.order.status,
    amount: snapshot.amount,
    currency: snapshot.currency,
    method: snapshot.method,
    card: snapshot.card ? { brand: snapshot.card.brand, last4: snapshot.card.last4 } : null,
    declineCode: snapshot.decline_code,
    failureMessage: snapshot.failure_message,
    metadata: context.checkout.metadata,
    timestamp: context.eventCreatedAt,
  };
}

/** The Standard Webhooks secret form of the merchant's signing secret (see the module comment). */
export function toStandardWebhooksSecret(signingSecret: string): string {
  return `whsec_${Buffer.from(signingSecret, 'utf8').toString('base64')}`;
}

/**
 * The secrets that sign a callback: the merchant's signing secret, and during a roll-over also the previous
 * one (Standard Webhooks sends one signature per secret; a verifier accepts any that matches), so a merchant
 * verifying with either secret keeps working (docs/redirects.md, "Rolling the secret").
 */
export async function callbackSigningSecret(
  db: Queryable,
  keyring: Keyring,
  scope: Scope,
): Promise<string[]> {
  const { secret, previous } = await getSigningSecret(db, keyring, scope);
  return [secret, ...(previous ? [previous.secret] : [])].map(toStandardWebhooksSecret);
}

/** Headers of one callback request: the three Standard Webhooks headers and the form content type. */
export function buildCallbackHeaders(input: {
  webhookId: string;
  timestamp: Date;
  body: string;
  secret: string | string[];
  accept?: string;
}): Record<string, string> {
  const headers = buildWebhookHeaders({
    webhookId: input.webhookId,
    timestamp: input.timestamp,
    payload: input.body,
    secrets: Array.isArray(input.secret) ? input.secret : [input.secret],
  });
  headers['content-type'] = CALLBACK_CONTENT_TYPE;
  if (input.accept) headers.accept = input.accept;
  return headers;
}

/**
 * The `webhook-id` of a shopper callback or an order verification: one per payment and kind, so a repeated
 * post (the shopper reloading the return page) carries the same id and the merchant can deduplicate.
 * Notifications use the id of the event that finalised the payment.
 */
export function callbackWebhookId(paymentId: string, kind: CallbackKind): string {
  return `${paymentId}_${kind}`;
}
