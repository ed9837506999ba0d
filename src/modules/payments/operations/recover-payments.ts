import { isConnectorError } from '../../../connectors/connector.ts';
import {
  claimPendingPaymentsForStatusCheck,
  findAbandonedActionPayments,
  findStuckProcessingPayments,
  findUncapturedAutomaticPayments,
  postponeStatusCheck,
} from '../payment-recovery.repository.ts';
import { findPaymentById } from '../payment.repository.ts';
import { findPendingMoneyOperations } from '../money-operation.repository.ts';
import { ACTION_TIMEOUT_MS, GIVEN_UP_STATUSES } from '../payment.outcomes.ts';
import { fromPaymentStatus } from '../payment.outcomes.ts';
import { captureAutomatically, capturePayment } from './capture-payment.ts';
import { finishAttempt } from './finish-attempt.ts';
import { connectorOf, type PaymentContext } from './payment-context.ts';
import { releaseGivenUpPayment } from './release-payment.ts';
import { resumeCancel } from './void-payment.ts';
import { resumePendingRefunds } from './refund-payment.ts';
import { settle } from './settle-payment.ts';

/**
 * How long recovery leaves a pending payment alone after its processor refused to be asked in a way asking
 * again will not change (Adyen has no read API; a key the processor no longer accepts): the webhook is the
 * source of truth there, and a fixed key is noticed within this time.
 */
export const UNANSWERED_STATUS_CHECK_RETRY_MS = 60 * 60_000;

/** Reconciles interrupted work; safe to run in several processes at once. Returns what it settled. */
export async function recoverPayments(
  context: PaymentContext,
): Promise<{ processing: number; abandoned: number; captures: number; refunds: number; pending: number }> {
  const now = context.clock.now();
  let processing = 0;
  for (const payment of await findStuckProcessingPayments(
    context.db,
    new Date(now.getTime() - context.recoveryMs),
    50,
  )) {
    // Given up + processing is a release of a late authorization that did not finish: run it again.
    if (GIVEN_UP_STATUSES.has(payment.status)) {
      await releaseGivenUpPayment(context, payment);
      processing += 1;
      continue;
    }
    // AUTHORIZED + processing is a void in flight (see payment-service.ts): finish it.
    if (payment.status === 'AUTHORIZED') {
      await resumeCancel(context, payment).catch(() => undefined);
      processing += 1;
      continue;
    }
    const status = await connectorOf(context, payment)
      .then((connector) => connector.lookupPayment({ paymentId: payment.id }))
      .catch(() => undefined);
    if (status === undefined) continue; // processor unreachable: try again next round
    const outcome = status
      ? fromPaymentStatus(status)
      : ({
          status: 'failed',
          message: 'The payment was interrupted before the processor received it',
        } as const);
    if (!outcome) continue;
    await finishAttempt(context, await settle(context, payment.id, outcome));
    processing += 1;
  }
  let abandoned = 0;
  for (const payment of await findAbandonedActionPayments(
    context.db,
    new Date(now.getTime() - ACTION_TIMEOUT_MS),
    50,
  )) {
    const status = payment.connectorReference
      ? await connectorOf(context, payment)
          .then((connector) =>
            connector.getPaymentStatus({ connectorReference: payment.connectorReference! }),
          )
          .catch(() => undefined)
      : undefined;
    const outcome = status ? fromPaymentStatus(status) : undefined;
    await finishAttempt(
      context,
      await settle(
        context,
        payment.id,
        outcome && outcome.status !== 'requires_action'
          ? outcome
          : { status: 'abandoned', message: 'The shopper did not complete the authentication in time' },
      ),
    );
    abandoned += 1;
  }
  let captures = 0;
  for (const payment of await findUncapturedAutomaticPayments(
    context.db,
    new Date(now.getTime() - 5_000),
    50,
  )) {
    await captureAutomatically(context, { payment });
    captures += 1;
  }
  for (const pending of await findPendingMoneyOperations(
    context.db,
    'captures',
    new Date(now.getTime() - context.recoveryMs),
    50,
  )) {
    const payment = await findPaymentById(context.db, pending.paymentId);
    if (!payment) continue;
    await capturePayment(context, payment, pending.amount, pending.id).catch(() => undefined);
    captures += 1;
  }
  // Refunds whose processor answer was lost: asked again with the same key (the refund's id).
  const refunds = await resumePendingRefunds(context, new Date(now.getTime() - context.recoveryMs), 50);
  const pending = await reconcilePendingPayments(context, now);
  return { processing, abandoned, captures, refunds, pending };
}

/**
 * Payments the processor answered `pending` whose notification has not come: asked about with
 * `getPaymentStatus` once they have been unchanged for the recovery age, and then at most once per recovery
 * age each (the claim sets the next check, and is a lease other processes skip). A decision is applied like
 * the processor's notification (the same `settle`, then `finishAttempt`), so the webhook that comes late
 * afterwards finds the payment moved on and changes nothing. Still pending, or the processor unreachable:
 * asked again at the next check. A processor that cannot be asked (Adyen has no read API, its connector
 * refuses with a non-retryable error) is not asked again for `UNANSWERED_STATUS_CHECK_RETRY_MS`.
 */
async function reconcilePendingPayments(context: PaymentContext, now: Date): Promise<number> {
  const claimed = await claimPendingPaymentsForStatusCheck(context.db, {
    before: new Date(now.getTime() - context.recoveryMs),
    now,
    nextCheck: new Date(now.getTime() + context.recoveryMs),
    limit: 50,
  });
  let reconciled = 0;
  for (const payment of claimed) {
    const status = await connectorOf(context, payment)
      .then((connector) => connector.getPaymentStatus({ connectorReference: payment.connectorReference! }))
      .catch(async (error: unknown) => {
        if (isConnectorError(error) && !error.retryable) {
          const retryMs = Math.max(UNANSWERED_STATUS_CHECK_RETRY_MS, context.recoveryMs);
          await postponeStatusCheck(context.db, payment.id, new Date(now.getTime() + retryMs));
        }
        return undefined;
      });
    const outcome = status ? fromPaymentStatus(status) : undefined;
    // Still pending (or waiting for the shopper, which a pending payment cannot start): the next check.
    if (!outcome || outcome.status === 'pending' || outcome.status === 'requires_action') continue;
    await finishAttempt(context, await settle(context, payment.id, outcome));
    reconciled += 1;
  }
  return reconciled;
}
