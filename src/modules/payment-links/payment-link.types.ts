import type { CreateCheckoutRequest } from '../checkouts/checkout.schemas.ts';
import type { CaptureMode } from '../checkouts/checkout.types.ts';
import type { Metadata } from '../orders/order.types.ts';
import type { PaymentMethodType } from '../payment-methods/eligibility.ts';
import type { PaymentLinkStatus } from './payment-link.states.ts';

export type PaymentLinkUsage = 'single' | 'reusable';

/** The order as the checkout schema parses it (the same type `createCheckout` takes). */
export type PaymentLinkOrder = CreateCheckoutRequest['order'];

export type PaymentLink = {
  id: string;
  merchantId: string;
  livemode: boolean;
  status: PaymentLinkStatus;
  /** The order every session of the link starts from (validated, totals checked). */
  order: PaymentLinkOrder;
  /** Null: the shopper ends on Kassa's own status page of the session (docs/payment-links.md). */
  completedRedirectUrl: string | null;
  canceledRedirectUrl: string | null;
  /** The merchant's own landing page (browser SDK `initFromQR`); null = Kassa's hosted page. */
  landingUrl: string | null;
  /** null = the merchant's default when a session is opened. */
  locale: string | null;
  capture: CaptureMode | null;
  paymentMethods: PaymentMethodType[] | null;
  metadata: Metadata;
  usage: PaymentLinkUsage;
  maxCompletions: number;
  /** Paid sessions so far. */
  completions: number;
  activationWindowSeconds: number;
  expiresAt: Date;
  /** The first visit; it starts the activation window. */
  firstOpenedAt: Date | null;
  /** least(expiresAt, firstOpenedAt + window): no session of the link can be paid after it. */
  completableUntil: Date | null;
  completedAt: Date | null;
  expiredAt: Date | null;
  deactivatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  version: number;
};

/** The moment after which the link can no longer be paid: the activation window's end once opened. */
export function paymentLinkDeadline(link: Pick<PaymentLink, 'expiresAt' | 'completableUntil'>): Date {
  return link.completableUntil ?? link.expiresAt;
}
