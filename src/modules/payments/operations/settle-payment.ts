import type { UnitOfWork } from '../../../db/client.ts';
import { notFoundError } from '../../../lib/errors.ts';
import {
  closeLockedCheckout,
  lockCheckoutOfPayment,
  setActivePayment,
} from '../../checkouts/checkout.service.ts';
import { lockOrderOfPayment } from '../../orders/order.service.ts';
import { orderEvent } from '../../orders/order.service.ts';
import { decideOrderMove, transitionOrder, writeOrderMoves } from '../../orders/order.transitions.ts';
import { paymentEvent } from '../payment.events.ts';
import { automaticCaptureId } from '../payment.keys.ts';
import { orderFollowing } from '../payment.order-moves.ts';
import {
  GIVEN_UP_STATUSES,
  outcomeOf,
  TARGET_STATUS,
  type AuthorizationOutcome,
  type Settlement,
} from '../payment.outcomes.ts';
import {
  applyPaymentChange,
  changePayment,
  lockPayment,
  writePayment,
  type PaymentChange,
} from '../payment.repository.ts';
import { recordCapture } from '../money-operation.repository.ts';
import { paymentStateMachine } from '../payment.states.ts';
import type { Payment } from '../payment.types.ts';
import { isFinished } from './finish-attempt.ts';
import type { AttemptRecord, PaymentContext } from './payment-context.ts';

/**
 * Step 3: move the payment (and its order and session) to what the processor said. Locks session then
 * payment (the order of every path, so paths never deadlock); a no-op when the payment has already moved
 * past `outcome` — which is how duplicates, late notifications and concurrent recoveries are absorbed.
 *
 * An `automatic` payment that becomes AUTHORIZED gets its capture row (PENDING, fixed id) in the same
 * transaction, so step 4 goes straight to the processor. Should the process die before the capture is
 * settled, recovery finds the PENDING row and asks again with the same key, as for any capture. A sale
 * that captured writes that row SUCCEEDED instead and moves the payment on to SUCCEEDED here.
 *
 * The events are those of the steps one by one, in that order, written in one statement at the end.
 */
export async function settle(
  context: PaymentContext,
  paymentId: string,
  outcome: AuthorizationOutcome,
  record?: AttemptRecord,
): Promise<Settlement> {
  return context.db.transaction(async (tx) => {
    const settled = await settleInTransaction(context, tx, paymentId, outcome);
    // The attempt's answer, when this is it, is recorded with the state it describes.
    if (record && isFinished(settled))
      record.complete(tx, { payment: settled.payment, outcome: outcomeOf(settled.payment) });
    return settled;
  });
}

export async function settleInTransaction(
  context: PaymentContext,
  tx: UnitOfWork,
  paymentId: string,
  outcome: AuthorizationOutcome,
): Promise<Settlement> {
  // Load: the session, the payment and its order, locked in that order (every path's lock order).
  const [checkout, payment, order] = await tx.load(
    lockCheckoutOfPayment(paymentId),
    lockPayment(paymentId),
    lockOrderOfPayment(paymentId),
  );
  if (!payment) throw notFoundError('payment', paymentId);
  if (!checkout || !order) throw notFoundError('order of checkout', payment.checkoutId);
  // Given up, so never moved again; but money the processor holds for it is released (and a release
  // already owed is not cleared by a late decline).
  if (GIVEN_UP_STATUSES.has(payment.status)) {
    if (outcome.status !== 'authorized' && outcome.status !== 'captured') return { payment };
    return { payment: oweRelease(context, tx, payment, outcome), releaseOwed: true };
  }
  const scope = { merchantId: payment.merchantId, livemode: payment.livemode };
  const target = TARGET_STATUS[outcome.status];
  const transition = paymentStateMachine.check(payment.status, target);
  const finishesProcessing = payment.processingSince !== null && transition === 'same';
  if (transition === 'refused' || (transition === 'same' && !finishesProcessing)) return { payment };

  // Decide, then apply: every write below is queued and sent with the events and COMMIT.
  const now = context.clock.now();
  const change: PaymentChange = { status: target, processingSince: null };
  if ('connectorReference' in outcome && outcome.connectorReference)
    change.connectorReference = outcome.connectorReference;
  if (target === 'AUTHORIZED') change.authorizedAmount = payment.amount;
  if (outcome.status === 'requires_action') change.actionUrl = outcome.actionUrl;
  if (outcome.status === 'declined') {
    change.declineCode = outcome.declineCode;
    change.failureMessage = outcome.message;
  }
  if (outcome.status === 'failed' || outcome.status === 'abandoned') change.failureMessage = outcome.message;
  const updated = applyPaymentChange(payment, change, now);
  // A sale that captured goes through AUTHORIZED (with its events) to SUCCEEDED: two states, one write.
  const captured =
    outcome.status === 'captured'
      ? applyPaymentChange(
          updated,
          {
            status: 'SUCCEEDED',
            capturedAmount: payment.capturedAmount + Math.min(outcome.capturedAmount, payment.amount),
          },
          now,
        )
      : undefined;
  writePayment(tx, payment, captured ?? updated);

  // The order's moves of this settlement (a sale's two: AUTHORIZED, then PAID), decided one after another and
  // written once, at the end.
  let currentOrder = order;
  const sessionIsOpenForThis = checkout.status === 'OPEN' && checkout.activePaymentId === payment.id;
  switch (updated.status) {
    case 'AUTHORIZED':
    case 'PENDING': {
      const moved = decideOrderMove(
        order,
        {
          to: updated.status,
          authorizedAmount: updated.status === 'AUTHORIZED' ? updated.amount : undefined,
        },
        now,
      );
      if (moved) tx.emit(orderEvent(moved, 'order.updated'));
      currentOrder = moved ?? order;
      // Authorized, or accepted for later (pending): the session's job is done (docs/redirects.md).
      if (sessionIsOpenForThis) {
        await closeLockedCheckout(
          tx,
          context.checkoutDeps,
          scope,
          { checkout, order: currentOrder },
          'COMPLETED',
          { action: 'complete', refuseWhilePaymentActive: false },
        );
      }
      break;
    }
    case 'REJECTED':
    case 'CANCELED':
      // The shopper may try again on an open session; a session already completed (pending payment
      // declined later) leaves its order with nothing to pay: CANCELED.
      if (sessionIsOpenForThis) setActivePayment(tx, scope, updated.checkoutId, null, now);
      else {
        const moved = transitionOrder(tx, order, { to: 'CANCELED' }, now);
        if (moved) tx.emit(orderEvent(moved, 'order.updated'));
      }
      break;
    case 'REQUIRES_ACTION':
    case 'SUCCEEDED':
      break;
    default: {
      const unreachable: never = updated.status;
      throw new Error(`unhandled payment status ${String(unreachable)}`);
    }
  }
  tx.emit(paymentEvent(updated));
  if (captured) {
    // The capture half of a sale: the automatic capture's row written SUCCEEDED (the id the sale's capture
    // was keyed by), the order moved to PAID, and the events exactly as `settleCapture` records a capture
    // the processor confirmed.
    recordCapture(tx, {
      id: automaticCaptureId(updated.id),
      payment: updated,
      amount: captured.capturedAmount - payment.capturedAmount,
      now,
      made: {
        connectorReference: outcome.status === 'captured' ? (outcome.operationReference ?? null) : null,
      },
    });
    const paid = orderFollowing(currentOrder, captured, now);
    if (paid) tx.emit(orderEvent(paid, 'order.updated'));
    currentOrder = paid ?? currentOrder;
    if (currentOrder !== order) writeOrderMoves(tx, order, currentOrder);
    tx.emit(paymentEvent(captured, 'payment.captured'));
    tx.emit(paymentEvent(captured, 'payment.succeeded'));
    return { payment: captured };
  }
  if (currentOrder !== order) writeOrderMoves(tx, order, currentOrder);
  // Nothing has been captured yet (a payment is authorized once), so the whole authorization is capturable.
  const automaticCapture =
    updated.status === 'AUTHORIZED' && updated.captureMode === 'automatic'
      ? recordCapture(tx, {
          id: automaticCaptureId(updated.id),
          payment: updated,
          amount: updated.authorizedAmount,
          now,
        })
      : undefined;
  return { payment: updated, automaticCapture };
}

/**
 * The processor approved a payment Kassa already gave up (its answer came after recovery settled it):
 * records, in settle's transaction, that a release is owed — `processing_since` on the given-up payment,
 * which recovery finds if the release below does not finish. The status, the order and the session stay
 * as they are: the shopper was told the attempt failed and may have paid otherwise since.
 */
function oweRelease(
  context: PaymentContext,
  tx: UnitOfWork,
  payment: Payment,
  outcome: Extract<AuthorizationOutcome, { status: 'authorized' | 'captured' }>,
): Payment {
  context.logger.warn(
    { paymentId: payment.id, status: payment.status, processorStatus: outcome.status },
    'the processor approved a payment Kassa had given up; releasing it at the processor',
  );
  if (payment.processingSince) return payment; // already owed: keep its age for recovery
  const change: PaymentChange = { processingSince: context.clock.now() };
  if (!payment.connectorReference) change.connectorReference = outcome.connectorReference;
  return changePayment(tx, payment, change, context.clock.now());
}
