import { isConnectorError, toAppError, type OperationResult } from '../../../connectors/connector.ts';
import { AppError, invalidStateError, notFoundError } from '../../../lib/errors.ts';
import type { Scope } from '../../checkouts/checkout.types.ts';
import { lockOrderOfPayment } from '../../orders/order.service.ts';
import { refusalError } from '../money-operation.ts';
import { paymentEvent } from '../payment.events.ts';
import { voidIdempotencyKey } from '../payment.keys.ts';
import { followPaymentWithOrder } from '../payment.order-moves.ts';
import { changePayment, findPayment, findPaymentById, lockPayment } from '../payment.repository.ts';
import { sumCommittedAmount } from '../money-operation.repository.ts';
import { paymentStateMachine } from '../payment.states.ts';
import type { Payment } from '../payment.types.ts';
import { connectorOf, type PaymentContext } from './payment-context.ts';

export type CancelAttempt = {
  payment: Payment;
  /** True when the processor's answer is unknown: the payment stays `processing` until recovery settles it. */
  pending: boolean;
};

/**
 * Voids an authorization with nothing captured: payment CANCELED, order CANCELED. While the processor is
 * asked, the payment is marked `processing` so a capture cannot start (and a PENDING capture refuses the
 * void): at most one of capture and void ever reaches the processor for real.
 */
export async function cancelPayment(
  context: PaymentContext,
  scope: Scope,
  paymentId: string,
): Promise<CancelAttempt> {
  const started = await context.db.transaction(async (tx) => {
    const payment = await findPayment(tx, scope, paymentId, { forUpdate: true });
    if (!payment) throw notFoundError('payment', paymentId);
    if (payment.status !== 'AUTHORIZED')
      throw invalidStateError('payment', payment.status, ['AUTHORIZED'], 'cancel');
    if (payment.processingSince) {
      throw new AppError('conflict', 'A cancellation of this payment is already in progress', {
        extensions: { current_status: payment.status, processing: true },
      });
    }
    const capturing = await sumCommittedAmount(tx, 'captures', payment.id);
    if (capturing > 0) {
      throw new AppError(
        'conflict',
        'A capture of this payment is in progress; refund it once captured instead',
        {
          extensions: { current_status: payment.status, pending_capture_amount: capturing },
        },
      );
    }
    return changePayment(tx, payment, { processingSince: context.clock.now() }, context.clock.now());
  });

  return executeVoid(context, started);
}

/** Steps 2 and 3 of a void; safe to run again (same processor key, conditional settle). */
async function executeVoid(context: PaymentContext, started: Payment): Promise<CancelAttempt> {
  let result: OperationResult;
  try {
    result = await (
      await connectorOf(context, started)
    ).void({
      idempotencyKey: voidIdempotencyKey(started.id),
      connectorReference: started.connectorReference!,
    });
  } catch (error) {
    if (!isConnectorError(error)) throw error; // left `processing`: recovery asks again
    if (error.retryable) return { payment: started, pending: true };
    await clearProcessing(context, started.id);
    throw toAppError(error);
  }
  if (result.status === 'pending') return { payment: started, pending: true };
  return settleVoid(context, started.id, result);
}

/**
 * Records a void's outcome (the processor's answer, or its notification for a void it decided later): the
 * payment CANCELED with its order, or — refused — left AUTHORIZED with the `processing` mark cleared. A
 * no-op when the payment already moved on.
 */
export async function settleVoid(
  context: PaymentContext,
  paymentId: string,
  result: Exclude<OperationResult, { status: 'pending' }>,
): Promise<CancelAttempt> {
  const settled = await context.db.transaction(async (tx) => {
    const [locked, order] = await tx.load(lockPayment(paymentId), lockOrderOfPayment(paymentId));
    const payment = locked!;
    if (result.status === 'failed') {
      const cleared = payment.processingSince
        ? changePayment(tx, payment, { processingSince: null }, context.clock.now())
        : payment;
      return { payment: cleared, refusal: { code: result.failureCode, message: result.message } };
    }
    // Settled concurrently (the request and recovery both asked): nothing more to do.
    if (paymentStateMachine.check(payment.status, 'CANCELED') !== 'advance') return { payment };
    const now = context.clock.now();
    const canceled = changePayment(tx, payment, { status: 'CANCELED', processingSince: null }, now);
    followPaymentWithOrder(tx, order!, canceled, now);
    tx.emit(paymentEvent(canceled, 'payment.canceled'));
    return { payment: canceled };
  });
  if ('refusal' in settled && settled.refusal) throw refusalError('cancel', settled.payment, settled.refusal);
  return { payment: settled.payment, pending: false };
}

async function clearProcessing(context: PaymentContext, paymentId: string): Promise<void> {
  await context.db.transaction(async (tx) => {
    const payment = await findPaymentById(tx, paymentId, { forUpdate: true });
    if (payment?.processingSince && payment.status === 'AUTHORIZED') {
      changePayment(tx, payment, { processingSince: null }, context.clock.now());
    }
  });
}

/**
 * Recovery of a void whose answer was lost: an AUTHORIZED payment marked `processing` is a void in flight
 * (an authorization in flight is PENDING). Asking again with the same key finishes what the merchant asked.
 */
export async function resumeCancel(context: PaymentContext, payment: Payment): Promise<CancelAttempt> {
  if (payment.status !== 'AUTHORIZED' || !payment.processingSince) return { payment, pending: false };
  return executeVoid(context, payment);
}
