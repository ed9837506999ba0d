import type { Metadata } from '../../../lib/metadata.ts';
import { AppError, invalidStateError } from '../../../lib/errors.ts';
import { newId } from '../../../lib/ids.ts';
import { lockOrderOfPayment } from '../../orders/order.service.ts';
import { callAndSettleMoneyOperation } from '../money-operation.ts';
import { paymentEvent } from '../payment.events.ts';
import { automaticCaptureId } from '../payment.keys.ts';
import { followPaymentWithOrder } from '../payment.order-moves.ts';
import type { CaptureAttempt, Settlement } from '../payment.outcomes.ts';
import { changePayment, findPaymentById, lockPayment } from '../payment.repository.ts';
import {
  insertCapture,
  listCaptures,
  rememberOperationReference,
  settleMoneyOperation,
  sumCommittedAmount,
} from '../money-operation.repository.ts';
import type { Capture, Payment } from '../payment.types.ts';
import { connectorOf, type PaymentContext } from './payment-context.ts';

/**
 * Step 4 for automatic capture: the row `settle` wrote, or (a payment authorized before that existed, or
 * whose capture step was interrupted) the row with the fixed id, found or inserted. Failures leave the
 * payment AUTHORIZED for recovery to capture later.
 */
export async function captureAutomatically(
  context: PaymentContext,
  { payment, automaticCapture }: Settlement,
): Promise<Payment> {
  if (payment.status !== 'AUTHORIZED' || payment.captureMode !== 'automatic') return payment;
  try {
    const { payment: captured } = automaticCapture
      ? await captureAtProcessor(context, payment, await automaticCapture.result())
      : await capturePayment(context, payment, payment.authorizedAmount, automaticCaptureId(payment.id));
    return captured;
  } catch {
    return (await findPaymentById(context.db, payment.id)) ?? payment;
  }
}

/**
 * Captures `amount` of an authorization (default: all that remains capturable). A capture row is inserted
 * under the payment's row lock after checking what remains (PENDING captures count, so parallel captures
 * can never exceed the authorization), then the processor is called outside any transaction with the row id
 * as idempotency key, then the row, the payment and its order are settled under the lock again.
 *
 * Answers with the row: SUCCEEDED; FAILED with the processor's `refusal`; or PENDING when the processor's
 * answer is unknown (timeout) — recovery retries the same key, which never captures twice. Calling it
 * again with the id of an existing row resumes that row (PENDING) or answers it as settled.
 */
export async function capturePayment(
  context: PaymentContext,
  payment: Payment,
  amount?: number,
  captureId = newId('cap'),
  metadata?: Metadata,
): Promise<CaptureAttempt> {
  const { multipleCaptures } = (await connectorOf(context, payment)).capabilities;
  // The payment as locked is still current at commit: this transaction does not change it.
  const { locked, capture } = await context.db.transaction(async (tx) => {
    const locked = (await findPaymentById(tx, payment.id, { forUpdate: true }))!;
    const captures = await listCaptures(tx, locked.id);
    const previous = captures.find((row) => row.id === captureId);
    if (previous) return { locked, capture: previous };
    if (locked.status !== 'AUTHORIZED' && locked.status !== 'SUCCEEDED') {
      throw invalidStateError('payment', locked.status, ['AUTHORIZED', 'SUCCEEDED'], 'capture');
    }
    // A void in flight marks the payment `processing`; capturing now could race it at the processor.
    if (locked.processingSince) {
      throw new AppError(
        'conflict',
        'A cancellation of this payment is in progress; it cannot be captured now',
        {
          extensions: { current_status: locked.status, processing: true },
        },
      );
    }
    // A processor that takes one capture per authorization (Stripe, Adyen by default) releases what a partial
    // capture left: a second capture is refused here, before the processor is asked. A FAILED one took nothing.
    if (!multipleCaptures && captures.some((row) => row.status !== 'FAILED')) {
      throw new AppError(
        'amount_exceeds_capturable',
        "This payment's processor takes one capture per payment: it was captured, and the rest of the authorization was released",
        { extensions: { capturable_amount: 0, currency: locked.currency } },
      );
    }
    const remaining = locked.authorizedAmount - (await sumCommittedAmount(tx, 'captures', locked.id));
    const requested = amount ?? remaining;
    if (remaining < 1 || requested < 1 || requested > remaining) {
      throw new AppError(
        'amount_exceeds_capturable',
        `At most ${Math.max(0, remaining)} can still be captured`,
        {
          extensions: { capturable_amount: Math.max(0, remaining), currency: locked.currency },
        },
      );
    }
    const inserted = await insertCapture(tx, {
      id: captureId,
      payment: locked,
      amount: requested,
      now: context.clock.now(),
      ...(metadata ? { metadata } : {}),
    });
    return { locked, capture: inserted };
  });
  if (capture.status !== 'PENDING') return { payment: locked, capture };
  return captureAtProcessor(context, locked, capture);
}

/** Asks the processor for a PENDING capture row (its id is the idempotency key), then settles the row. */
async function captureAtProcessor(
  context: PaymentContext,
  payment: Payment,
  capture: Capture,
): Promise<CaptureAttempt> {
  return callAndSettleMoneyOperation({
    call: async () =>
      (await connectorOf(context, payment)).capture({
        idempotencyKey: capture.id,
        connectorReference: payment.connectorReference!,
        amount: capture.amount,
        currency: payment.currency,
      }),
    settle: (outcome) => settleCapture(context, payment.id, capture, outcome),
    unsettled: () => ({ payment, capture }),
    failureMessage: 'The payment processor could not process this capture',
    remember: (reference) => rememberOperationReference(context.db, 'captures', capture.id, reference),
  });
}

/** Records a capture's outcome; a no-op answer when it was settled concurrently (the request and recovery). */
export async function settleCapture(
  context: PaymentContext,
  paymentId: string,
  capture: Capture,
  outcome: { status: 'SUCCEEDED' | 'FAILED'; connectorReference?: string; failureMessage?: string },
): Promise<CaptureAttempt> {
  return context.db.transaction(async (tx) => {
    const [payment, order] = await tx.load(lockPayment(paymentId), lockOrderOfPayment(paymentId));
    const locked = payment!;
    const settled = (await settleMoneyOperation(tx, 'captures', capture.id, outcome, context.clock.now())) as
      Capture | undefined;
    if (!settled) {
      const stored = (await listCaptures(tx, locked.id)).find((row) => row.id === capture.id) ?? capture;
      return { payment: locked, capture: stored };
    }
    if (settled.status !== 'SUCCEEDED') return { payment: locked, capture: settled };
    const now = context.clock.now();
    const updated = changePayment(
      tx,
      locked,
      { status: 'SUCCEEDED', capturedAmount: locked.capturedAmount + settled.amount },
      now,
    );
    // PAID on the first capture; later partial captures only move the order's amounts.
    followPaymentWithOrder(tx, order!, updated, now);
    tx.emit(paymentEvent(updated, 'payment.captured'));
    if (locked.status === 'AUTHORIZED') tx.emit(paymentEvent(updated, 'payment.succeeded'));
    return { payment: updated, capture: settled };
  });
}
