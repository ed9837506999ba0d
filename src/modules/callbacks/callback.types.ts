import type { Metadata } from '../orders/order.types.ts';

/** The callbacks that answer the shopper's browser (the callbacks flow): the merchant's page or redirect is shown. */
export const SHOPPER_CALLBACK_KINDS = ['ok', 'fail', 'open'] as const;
export type ShopperCallbackKind = (typeof SHOPPER_CALLBACK_KINDS)[number];

export const CALLBACK_KINDS = ['ok', 'fail', 'open', 'notification', 'verify_order'] as const;
export type CallbackKind = (typeof CALLBACK_KINDS)[number];

/**
 * What a shopper callback came to:
 * - `html`: the merchant answered 2xx text/html; `html` is the page AFTER sanitising and rewriting, safe to
 *   serve with `callbackPageHeaders` (never the raw answer);
 * - `redirect`: the merchant answered 30x; `location` is absolute, http(s), and passed the redirect-URL checks
 *   (it was not followed);
 * - `error`: no usable answer (no connection in time, no answer in time, 4xx / 5xx, refused address, …).
 */
export type CallbackResult =
  | { type: 'html'; html: string; callbackUrl: string; formOrigins: string[] }
  | { type: 'redirect'; location: string }
  | { type: 'error'; reason: string };

export type VerifyOrderVerdict = { ok: true } | { ok: false; reason: string };

/** The decline code of a payment stopped by `verify_order` (its failure_message is the merchant's reason). */
export const ORDER_VERIFICATION_DECLINE_CODE = 'order_verification_failed';

/** Who and what a callback is about: the fields of the form body, in one neutral shape. */
export type CallbackSubject = {
  kind: CallbackKind;
  livemode: boolean;
  checkoutId: string;
  orderId: string;
  merchantOrderId: string;
  paymentId: string;
  /** The payment's status (PENDING, AUTHORIZED, SUCCEEDED, REJECTED, CANCELED). */
  status: string;
  /** The order's status when the request is built (CREATED, PENDING, AUTHORIZED, PAID, CANCELED, …). */
  orderStatus: string;
  amount: number;
  currency: string;
  method: string;
  card: { brand: string; last4: string } | null;
  declineCode: string | null;
  failureMessage: string | null;
  metadata: Metadata;
  /** When the payment reached this status. */
  timestamp: Date;
};

export type CallbackAttemptResult =
  'html' | 'redirect' | 'error' | 'accepted' | 'refused' | 'delivered' | 'failed';

/** One request Kassa made to a callback URL, as stored in `callback_attempts`. */
export type CallbackAttempt = {
  id: number;
  merchantId: string;
  livemode: boolean;
  checkoutId: string;
  orderId: string;
  paymentId: string;
  kind: CallbackKind;
  notificationId: number | null;
  attemptNumber: number;
  webhookId: string;
  url: string;
  statusCode: number | null;
  durationMs: number;
  result: CallbackAttemptResult;
  error: string | null;
  responseExcerpt: string | null;
  responseTruncated: boolean;
  nextAttemptAt: Date | null;
  createdAt: Date;
};
