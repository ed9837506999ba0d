import type { ConnectorPaymentStatus, OperationResult } from '../../../connectors/connector.ts';
import { releaseIdempotencyKey } from '../payment.keys.ts';
import { GIVEN_UP_STATUSES } from '../payment.outcomes.ts';
import { changePayment, findPaymentById, type PaymentChange } from '../payment.repository.ts';
import type { Payment } from '../payment.types.ts';
import { connectorOf, type PaymentContext } from './payment-context.ts';

/**
 * Releases what the processor holds for a given-up payment whose release is owed: asks the processor what
 * it holds now (the late answer may be stale, or the release already done), voids an authorization with
 * nothing captured or refunds what was captured, with fixed keys, then clears the mark. Outside any
 * transaction; never throws — on any failure the mark stays and recovery runs it again.
 */
export async function releaseGivenUpPayment(context: PaymentContext, payment: Payment): Promise<Payment> {
  try {
    const connector = await connectorOf(context, payment);
    const status = payment.connectorReference
      ? await connector.getPaymentStatus({ connectorReference: payment.connectorReference })
      : await connector.lookupPayment({ paymentId: payment.id });
    if (status && (status.status === 'pending' || status.status === 'requires_action')) {
      context.logger.warn({ paymentId: payment.id }, 'release waits: the processor has not decided yet');
      return await postponeRelease(context, payment.id);
    }
    // A sale captured the whole amount, so nothing of the authorization is left to void: refund it all.
    const refundable = status?.status === 'authorized' ? status.capturedAmount - status.refundedAmount : 0;
    let result: OperationResult | undefined;
    let held = status;
    if (status?.status === 'authorized' && refundable > 0) {
      result = await connector.refund({
        idempotencyKey: releaseIdempotencyKey(payment.id, 'refund'),
        connectorReference: status.connectorReference,
        amount: refundable,
        currency: status.currency,
      });
      held = { ...status, refundedAmount: status.capturedAmount };
    } else if (status?.status === 'authorized' && status.capturedAmount === 0) {
      result = await connector.void({
        idempotencyKey: releaseIdempotencyKey(payment.id, 'void'),
        connectorReference: status.connectorReference,
      });
      held = { ...status, status: 'voided' };
    }
    if (result && result.status !== 'succeeded') {
      // Pending: the processor answers later, so recovery asks again with the same key. A refusal should
      // not happen (its state was just read); it stays owed and reported until someone looks.
      const message = 'the processor did not release a given-up payment (yet); recovery will try again';
      if (result.status === 'pending') context.logger.warn({ paymentId: payment.id, result }, message);
      else context.logger.error({ paymentId: payment.id, result }, message);
      return await postponeRelease(context, payment.id);
    }
    if (result) {
      context.logger.warn(
        { paymentId: payment.id, operationReference: result.operationReference },
        'released a given-up payment at the processor',
      );
    }
    return await finishRelease(context, payment.id, releaseNote(held));
  } catch (error) {
    context.logger.error(
      { err: error, paymentId: payment.id },
      'could not release a given-up payment; recovery will try again',
    );
    return (await postponeRelease(context, payment.id).catch(() => undefined)) ?? payment;
  }
}

/**
 * A release that did not finish goes to the back of recovery's queue (its mark restarts its age), so one
 * the processor keeps refusing is retried every recovery age without holding up the other work recovery
 * takes oldest first.
 */
async function postponeRelease(context: PaymentContext, paymentId: string): Promise<Payment> {
  return context.db.transaction(async (tx) => {
    const payment = (await findPaymentById(tx, paymentId, { forUpdate: true }))!;
    if (!payment.processingSince || !GIVEN_UP_STATUSES.has(payment.status)) return payment;
    return changePayment(tx, payment, { processingSince: context.clock.now() }, context.clock.now());
  });
}

/** Clears the mark of a finished release (once: under the row lock) and notes it on the payment. */
async function finishRelease(
  context: PaymentContext,
  paymentId: string,
  note: string | undefined,
): Promise<Payment> {
  return context.db.transaction(async (tx) => {
    const payment = (await findPaymentById(tx, paymentId, { forUpdate: true }))!;
    if (!payment.processingSince || !GIVEN_UP_STATUSES.has(payment.status)) return payment;
    const change: PaymentChange = { processingSince: null };
    if (note && !payment.failureMessage?.includes(note))
      change.failureMessage = payment.failureMessage ? `${payment.failureMessage}. ${note}` : note;
    return changePayment(tx, payment, change, context.clock.now());
  });
}

/**
 * What the processor holds after a release, noted on the given-up payment (its `failure_message`). Derived
 * from the processor's state rather than from the call made, so a release finished by recovery after a crash
 * (the call done, its answer lost) is noted alike.
 */
function releaseNote(held: ConnectorPaymentStatus | null): string | undefined {
  if (!held) return undefined;
  if (held.status === 'voided')
    return 'The processor approved this payment after it was given up; the authorization was voided';
  if (held.status === 'authorized' && held.capturedAmount > 0 && held.refundedAmount >= held.capturedAmount) {
    return `The processor captured this payment after it was given up; the ${held.capturedAmount} captured was refunded`;
  }
  return undefined;
}
