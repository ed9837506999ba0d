import type { CallbackUrls } from '../merchants/merchant.types.ts';
import type { Metadata, Order } from '../orders/order.types.ts';
import type { PaymentMethodType } from '../payment-methods/eligibility.ts';
import type { CheckoutStatus } from './checkout.states.ts';

export type CaptureMode = 'automatic' | 'manual';

/** Why Kassa canceled a checkout on its own: too many declined payment attempts (card testing). */
export type CancellationReason = 'too_many_declines';

/** Which merchant and mode an operation acts for; every query filters by both. */
export type Scope = { merchantId: string; livemode: boolean };

export type Checkout = {
  id: string;
  merchantId: string;
  livemode: boolean;
  status: CheckoutStatus;
  completedRedirectUrl: string;
  canceledRedirectUrl: string;
  callbacks: CallbackUrls;
  capture: CaptureMode;
  allowSavePaymentMethods: boolean;
  /** `EN`, `ES_LATAM`, `DA` or a BCP 47 tag, as the merchant sent it. */
  locale: string;
  /**
   * Created without a locale: `locale` holds the merchant's default at creation, the API shows `locale: null`
   * and the pages follow the shopper's Accept-Language first.
   */
  localeIsDefault: boolean;
  /** The checkout's own restriction; null = every method the merchant's settings allow. */
  paymentMethods: PaymentMethodType[] | null;
  metadata: Metadata;
  /** True once a payment attempt was made: the order can no longer be replaced. */
  paymentStarted: boolean;
  /** A payment attempt in flight; the expiry sweep skips the session while it is set. */
  activePaymentId: string | null;
  /** The payment link whose visit opened this session (`pl_…`); null for sessions made with the API. */
  paymentLinkId: string | null;
  expiresAt: Date;
  completedAt: Date | null;
  canceledAt: Date | null;
  /** Why Kassa canceled the session itself (`too_many_declines`); null otherwise. */
  cancellationReason: CancellationReason | null;
  expiredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  version: number;
};

export type CheckoutWithOrder = { checkout: Checkout; order: Order };
