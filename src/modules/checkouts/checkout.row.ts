import type { CallbackUrls } from '../merchants/merchant.types.ts';
import type { Metadata } from '../orders/order.types.ts';
import type { PaymentMethodType } from '../payment-methods/eligibility.ts';
import type { CheckoutStatus } from './checkout.states.ts';
import type { CancellationReason, CaptureMode, Checkout } from './checkout.types.ts';

/** A `checkouts` row as the repository reads it, and its mapping to the domain's `Checkout`. */
export type CheckoutRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  status: CheckoutStatus;
  completed_redirect_url: string;
  canceled_redirect_url: string;
  callbacks: CallbackUrls;
  capture: CaptureMode;
  allow_save_payment_methods: boolean;
  locale: string;
  locale_is_default: boolean;
  payment_methods: PaymentMethodType[] | null;
  metadata: Metadata;
  payment_started: boolean;
  active_payment_id: string | null;
  payment_link_id: string | null;
  expires_at: Date;
  completed_at: Date | null;
  canceled_at: Date | null;
  cancellation_reason?: CancellationReason | null;
  expired_at: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
};

/**
 * Whether a payment has started: the stored flag, or an attempt in flight. Marking an attempt in flight sets
 * only `active_payment_id`, which no index reads, so the mark is a HOT update; `payment_started` is in the
 * predicate of the retention index (`checkouts_expired_unpaid_idx`), and changing it would write an entry into
 * every index of `checkouts`. Whatever clears `active_payment_id` (the attempt's end, the session's close) folds
 * it into the stored flag in the same UPDATE, so a closed session's flag is complete, as retention reads it.
 */
export const PAYMENT_STARTED = '(payment_started OR active_payment_id IS NOT NULL)';

// Every column but the token digest, which never leaves the repository.
export const COLUMNS = `id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url, callbacks, capture,
  allow_save_payment_methods, locale, locale_is_default, payment_methods, metadata,
  ${PAYMENT_STARTED} AS payment_started, active_payment_id,
  payment_link_id, expires_at, completed_at, canceled_at, expired_at, created_at, updated_at, version,
  cancellation_reason`;

export function toCheckout(row: CheckoutRow): Checkout {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    status: row.status,
    completedRedirectUrl: row.completed_redirect_url,
    canceledRedirectUrl: row.canceled_redirect_url,
    callbacks: row.callbacks,
    capture: row.capture,
    allowSavePaymentMethods: row.allow_save_payment_methods,
    locale: row.locale,
    localeIsDefault: row.locale_is_default,
    paymentMethods: row.payment_methods,
    metadata: row.metadata,
    paymentStarted: row.payment_started,
    activePaymentId: row.active_payment_id,
    paymentLinkId: row.payment_link_id,
    expiresAt: row.expires_at,
    completedAt: row.completed_at,
    canceledAt: row.canceled_at,
    cancellationReason: row.cancellation_reason ?? null,
    expiredAt: row.expired_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}
