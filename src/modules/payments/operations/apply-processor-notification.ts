import type { ProcessorNotification } from '../../../connectors/processor.ts';
import { AppError } from '../../../lib/errors.ts';
import { findMoneyOperationForNotification } from '../money-operation.repository.ts';
import type { AuthorizationOutcome } from '../payment.outcomes.ts';
import { findPaymentByConnectorReference, findPaymentById } from '../payment.repository.ts';
import type { Capture, Payment, Refund } from '../payment.types.ts';
import { settleCapture } from './capture-payment.ts';
import { finishAttempt } from './finish-attempt.ts';
import type { PaymentContext } from './payment-context.ts';
import { settleRefund } from './refund-payment.ts';
import { settle } from './settle-payment.ts';
import { settleVoid } from './void-payment.ts';

/**
 * A processor's verified, stored notification, applied through the same state machines as the synchronous
 * answers: an authorization settles like the processor's direct answer; a capture, void or refund settles
 * the PENDING row (or the void in flight) it is about, with the same events as a synchronous outcome — a
 * refund can fail later. Every step is a no-op once the payment or row has moved on, so a duplicate or an
 * out-of-order delivery changes nothing twice.
 *
 * `unmatched`: no payment (or row) of this account is known by the notification's references yet — its
 * answer may still be on its way; the caller keeps the notification and tries again later.
 */
export async function applyProcessorNotification(
  context: PaymentContext,
  accountId: string,
  notification: ProcessorNotification,
): Promise<'applied' | 'unmatched'> {
  const payment = await paymentOfNotification(context, accountId, notification);
  if (!payment) return 'unmatched';
  if (notification.kind === 'authorization') {
    const outcome = authorizationOutcome(notification, payment);
    await finishAttempt(context, await settle(context, payment.id, outcome));
    return 'applied';
  }
  if (notification.kind === 'void') {
    try {
      await settleVoid(
        context,
        payment.id,
        notification.status === 'succeeded'
          ? {
              status: 'succeeded',
              connectorReference: notification.connectorReference,
              operationReference: notification.operationReference,
            }
          : {
              status: 'failed',
              connectorReference: notification.connectorReference,
              operationReference: notification.operationReference,
              failureCode: notification.failureCode ?? 'invalid_state',
              message: 'The payment processor refused to cancel this payment',
            },
      );
    } catch (error) {
      // A refused void is the merchant's answer, not this notification's failure: it is recorded.
      if (!(error instanceof AppError)) throw error;
    }
    return 'applied';
  }
  const table = notification.kind === 'capture' ? 'captures' : 'refunds';
  const row = await findMoneyOperationForNotification(
    context.db,
    table,
    payment.id,
    notification.operationReference,
  );
  if (!row) return 'unmatched';
  if (row.status !== 'PENDING') return 'applied'; // settled already (a duplicate, or the direct answer)
  const outcome =
    notification.status === 'succeeded'
      ? { status: 'SUCCEEDED' as const, connectorReference: notification.operationReference }
      : {
          status: 'FAILED' as const,
          connectorReference: notification.operationReference,
          failureMessage: `The payment processor refused this ${notification.kind}`,
        };
  if (notification.kind === 'capture') await settleCapture(context, payment.id, row as Capture, outcome);
  else await settleRefund(context, row as Refund, outcome);
  return 'applied';
}

/** By Kassa's payment id when the processor echoed it (and this account took it), else by its reference. */
async function paymentOfNotification(
  context: PaymentContext,
  accountId: string,
  notification: ProcessorNotification,
): Promise<Payment | undefined> {
  if (notification.paymentId) {
    const payment = await findPaymentById(context.db, notification.paymentId);
    if (payment && payment.connectorId === accountId) return payment;
  }
  return findPaymentByConnectorReference(context.db, accountId, notification.connectorReference);
}

function authorizationOutcome(
  notification: Extract<ProcessorNotification, { kind: 'authorization' }>,
  payment: Payment,
): AuthorizationOutcome {
  const connectorReference = notification.connectorReference;
  switch (notification.status) {
    case 'authorized':
      return { status: 'authorized', connectorReference };
    case 'captured':
      return { status: 'captured', connectorReference, capturedAmount: payment.amount };
    case 'declined':
      return {
        status: 'declined',
        connectorReference,
        declineCode: notification.declineCode ?? 'payment_rejected',
        message: 'The payment was declined',
      };
    default: {
      const unreachable: never = notification.status;
      throw new Error(`unhandled notification status ${String(unreachable)}`);
    }
  }
}
