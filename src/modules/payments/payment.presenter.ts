import type { Capture, Payment, Refund } from './payment.types.ts';

/** The API (and event payload) form of a payment; amounts in minor units, never card numbers. */
export function presentPayment(payment: Payment) {
  return {
    object: 'payment' as const,
    id: payment.id,
    livemode: payment.livemode,
    checkout_id: payment.checkoutId,
    order_id: payment.orderId,
    status: payment.status,
    /** True while the processor's answer is awaited; the status is settled shortly (or by recovery). */
    processing: payment.processingSince !== null,
    channel: payment.channel,
    method: payment.method,
    amount: payment.amount,
    currency: payment.currency,
    capture_mode: payment.captureMode,
    authorized_amount: payment.authorizedAmount,
    captured_amount: payment.capturedAmount,
    refunded_amount: payment.refundedAmount,
    card: payment.card
      ? {
          brand: payment.card.brand,
          last4: payment.card.last4,
          exp_month: payment.card.expMonth,
          exp_year: payment.card.expYear,
        }
      : null,
    saved_payment_method_id: payment.savedPaymentMethodId,
    metadata: payment.metadata,
    next_action:
      payment.status === 'REQUIRES_ACTION' && payment.actionUrl
        ? { type: 'redirect' as const, url: payment.actionUrl }
        : null,
    decline_code: payment.declineCode,
    failure_message: payment.failureMessage,
    version: payment.version,
    created_at: payment.createdAt.toISOString(),
    updated_at: payment.updatedAt.toISOString(),
  };
}

export type PaymentResource = ReturnType<typeof presentPayment>;

export function presentCapture(capture: Capture) {
  return {
    object: 'capture' as const,
    id: capture.id,
    livemode: capture.livemode,
    payment_id: capture.paymentId,
    amount: capture.amount,
    status: capture.status,
    failure_message: capture.failureMessage,
    metadata: capture.metadata,
    created_at: capture.createdAt.toISOString(),
    updated_at: capture.updatedAt.toISOString(),
  };
}

export function presentRefund(refund: Refund) {
  return { ...presentCapture(refund), object: 'refund' as const, reason: refund.reason };
}
