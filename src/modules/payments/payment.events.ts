import type { EventType, NewEvent } from '../events/event.types.ts';
import { presentPayment, presentRefund } from './payment.presenter.ts';
import type { PaymentStatus } from './payment.states.ts';
import type { Payment, Refund } from './payment.types.ts';

/** The events of the payment operations, each with its snapshot, for `uow.emit`. */

const PAYMENT_EVENT: Record<PaymentStatus, EventType> = {
  PENDING: 'payment.pending',
  REQUIRES_ACTION: 'payment.requires_action',
  AUTHORIZED: 'payment.authorized',
  SUCCEEDED: 'payment.succeeded',
  REJECTED: 'payment.rejected',
  CANCELED: 'payment.canceled',
};

export function paymentEvent(payment: Payment, type: EventType = PAYMENT_EVENT[payment.status]): NewEvent {
  return {
    merchantId: payment.merchantId,
    livemode: payment.livemode,
    type,
    objectId: payment.id,
    objectVersion: payment.version,
    orderId: payment.orderId,
    checkoutId: payment.checkoutId,
    paymentId: payment.id,
    data: presentPayment(payment),
  };
}

/** `refund.succeeded` / `refund.failed`: the refund with its currency, and the payment's amounts after it. */
export function refundEvent(
  payment: Payment,
  refund: Refund,
  type: 'refund.succeeded' | 'refund.failed',
): NewEvent {
  return {
    merchantId: payment.merchantId,
    livemode: payment.livemode,
    type,
    objectId: refund.id,
    objectVersion: payment.version,
    orderId: payment.orderId,
    checkoutId: payment.checkoutId,
    paymentId: payment.id,
    data: { ...presentRefundWithCurrency(refund, payment.currency), payment: presentPayment(payment) },
  };
}

/** The API form of a refund: the child row plus the payment's currency (money travels with its currency). */
export function presentRefundWithCurrency(refund: Refund, currency: string) {
  return { ...presentRefund(refund), currency };
}
