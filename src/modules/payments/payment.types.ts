import type { Metadata } from '../../lib/metadata.ts';
import type { PaymentMethodType } from '../payment-methods/eligibility.ts';
import type { PaymentStatus } from './payment.states.ts';

export type PaymentChannel = 'hosted_page' | 'api';

/** Display data of the card used; never the number or the CVC. */
export type PaymentCard = {
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  fingerprint: string;
};

/** One attempt to pay a checkout. Captures and refunds are child rows; the amounts here are their sums. */
export type Payment = {
  id: string;
  merchantId: string;
  livemode: boolean;
  checkoutId: string;
  orderId: string;
  status: PaymentStatus;
  /** Set while a processor call is in flight and its outcome not yet recorded. */
  processingSince: Date | null;
  /** When `verify_order` answered OKAY for this attempt; null without verification or before the answer. */
  orderVerifiedAt: Date | null;
  channel: PaymentChannel;
  method: PaymentMethodType;
  amount: number;
  currency: string;
  captureMode: 'automatic' | 'manual';
  authorizedAmount: number;
  capturedAmount: number;
  refundedAmount: number;
  connectorId: string;
  connectorReference: string | null;
  actionUrl: string | null;
  declineCode: string | null;
  failureMessage: string | null;
  card: PaymentCard | null;
  savedPaymentMethodId: string | null;
  /** The merchant's own data (docs/api-conventions.md, Metadata). */
  metadata: Metadata;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

export type MoneyOperationStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

export type Capture = {
  id: string;
  paymentId: string;
  livemode: boolean;
  amount: number;
  status: MoneyOperationStatus;
  failureMessage: string | null;
  /** The merchant's own data (docs/api-conventions.md, Metadata). */
  metadata: Metadata;
  createdAt: Date;
  updatedAt: Date;
};

export type Refund = Capture & { reason: string | null };
