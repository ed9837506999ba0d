import type { Metadata } from '../../../lib/metadata.ts';
import { AppError, invalidStateError, notFoundError } from '../../../lib/errors.ts';
import { newId } from '../../../lib/ids.ts';
import type { Scope } from '../../checkouts/checkout.types.ts';
import { lockOrderOfPayment } from '../../orders/order.service.ts';
import { callAndSettleMoneyOperation } from '../money-operation.ts';
import { refundEvent } from '../payment.events.ts';
import { followPaymentWithOrder } from '../payment.order-moves.ts';
import { changePayment, findPayment, findPaymentById, lockPayment } from '../payment.repository.ts';
import {
  findPendingMoneyOperations,
  insertRefund,
  listRefunds,
  rememberOperationReference,
  settleMoneyOperation,
  sumCommittedAmount,
} from '../money-operation.repository.ts';
import type { ProcessorRefusal } from '../money-operation.ts';
import type { Payment, Refund } from '../payment.types.ts';
import { connectorOf, type PaymentContext } from './payment-context.ts';

/**
 * Order management after authorization (docs/payments.md): void and refund. Each has its file here (capture-payment.ts,
 * void-payment.ts, refund-payment.ts); all three follow the same pipeline (ARCHITECTURE rules 3 and 4):
 *
 *   1. one short transaction: lock the payment row, check its status and the remaining amount — counting
 *      PENDING child rows, so parallel requests can never commit more than allowed — and write the intent
 *      (a PENDING refund row; for a void, `processing_since` on the payment);
 *   2. the processor call, outside any transaction, with a stable idempotency key (the refund's row id;
 *      `<payment id>:void`), so asking again never acts twice;
 *   3. one transaction: settle the row, move the payment's amounts and its order, emit the events.
 *
 * If step 2's answer is lost (timeout, crash), the intent stays PENDING and recovery asks again with the same
 * key: refunds through `resumePendingRefunds`, voids through the payment flow's "processing" reconciliation
 * (`lookupPayment` reports the authorization `voided` or still `authorized`).
 */

export type RefundAttempt = { payment: Payment; refund: Refund; refusal?: ProcessorRefusal };

export type RefundInput = {
  amount?: number | undefined;
  reason?: string | null | undefined;
  metadata?: Metadata | undefined;
};

/**
 * Refunds `amount` (default: all that remains refundable) of what was captured. The refund row is written
 * under the payment's lock after checking Σ refunds (PENDING included) + amount ≤ captured; an existing
 * `refundId` resumes that row (PENDING) or answers it as settled.
 */
export async function refundPayment(
  context: PaymentContext,
  scope: Scope,
  paymentId: string,
  input: RefundInput,
  refundId = newId('ref'),
): Promise<RefundAttempt> {
  const refund = await context.db.transaction(async (tx) => {
    const payment = await findPayment(tx, scope, paymentId, { forUpdate: true });
    if (!payment) throw notFoundError('payment', paymentId);
    const previous = (await listRefunds(tx, payment.id)).find((row) => row.id === refundId);
    if (previous) return previous;
    if (payment.status !== 'SUCCEEDED')
      throw invalidStateError('payment', payment.status, ['SUCCEEDED'], 'refund');
    const refundable = payment.capturedAmount - (await sumCommittedAmount(tx, 'refunds', payment.id));
    const amount = input.amount ?? refundable;
    if (refundable < 1 || amount < 1 || amount > refundable) {
      throw new AppError(
        'amount_exceeds_refundable',
        `At most ${Math.max(0, refundable)} can still be refunded`,
        {
          extensions: { refundable_amount: Math.max(0, refundable), currency: payment.currency },
        },
      );
    }
    return insertRefund(tx, {
      id: refundId,
      payment,
      amount,
      reason: input.reason ?? null,
      metadata: input.metadata ?? {},
      now: context.clock.now(),
    });
  });
  if (refund.status !== 'PENDING')
    return { payment: (await findPaymentById(context.db, refund.paymentId))!, refund };
  return executeRefund(context, refund);
}

/** Steps 2 and 3 of a PENDING refund; safe to run again (same processor key, conditional settle). */
async function executeRefund(context: PaymentContext, refund: Refund): Promise<RefundAttempt> {
  const payment = (await findPaymentById(context.db, refund.paymentId))!;
  return callAndSettleMoneyOperation({
    call: async () =>
      (await connectorOf(context, payment)).refund({
        idempotencyKey: refund.id,
        connectorReference: payment.connectorReference!,
        amount: refund.amount,
        currency: payment.currency,
      }),
    settle: (outcome) => settleRefund(context, refund, outcome),
    unsettled: () => ({ payment, refund }),
    failureMessage: 'The payment processor could not process this refund',
    remember: (reference) => rememberOperationReference(context.db, 'refunds', refund.id, reference),
  });
}

/** Records a refund's outcome (the processor's answer or its notification); a no-op once settled. */
export async function settleRefund(
  context: PaymentContext,
  refund: Refund,
  outcome: { status: 'SUCCEEDED' | 'FAILED'; connectorReference?: string; failureMessage?: string },
): Promise<RefundAttempt> {
  return context.db.transaction(async (tx) => {
    const [payment, order] = await tx.load(
      lockPayment(refund.paymentId),
      lockOrderOfPayment(refund.paymentId),
    );
    const locked = payment!;
    const settled = (await settleMoneyOperation(tx, 'refunds', refund.id, outcome, context.clock.now())) as
      Refund | undefined;
    if (!settled) {
      // Settled concurrently (the request and recovery both asked): answer with what is stored.
      const stored = (await listRefunds(tx, locked.id)).find((row) => row.id === refund.id) ?? refund;
      return { payment: locked, refund: stored };
    }
    if (settled.status !== 'SUCCEEDED') {
      tx.emit(refundEvent(locked, settled, 'refund.failed'));
      return { payment: locked, refund: settled };
    }
    const now = context.clock.now();
    const updated = changePayment(
      tx,
      locked,
      { refundedAmount: locked.refundedAmount + settled.amount },
      now,
    );
    followPaymentWithOrder(tx, order!, updated, now);
    tx.emit(refundEvent(updated, settled, 'refund.succeeded'));
    return { payment: updated, refund: settled };
  });
}

/** Recovery: PENDING refunds last touched before `before` are asked again. Returns how many were tried. */
export async function resumePendingRefunds(
  context: PaymentContext,
  before: Date,
  limit: number,
): Promise<number> {
  const pending = (await findPendingMoneyOperations(context.db, 'refunds', before, limit)) as Refund[];
  for (const refund of pending) await executeRefund(context, refund).catch(() => undefined);
  return pending.length;
}
