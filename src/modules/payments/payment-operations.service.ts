import { callAndSettleMoneyOperation, type ProcessorRefusal } from './money-operation.ts';
import { createHash } from 'node:crypto';
import {
  isConnectorError,
  toAppError,
  type Connector,
  type OperationResult,
} from '../../connectors/connector.ts';
import type { ConnectorRegistry } from '../../connectors/registry.ts';
import type { Database, UnitOfWork } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import { AppError, invalidStateError, notFoundError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import type { EventType } from '../events/event.types.ts';
import { lockOrderOfPayment } from '../orders/order.repository.ts';
import { orderEvent } from '../orders/order.service.ts';
import type { OrderStatus } from '../orders/order.states.ts';
import { transitionOrder } from '../orders/order.transitions.ts';
import type { Order } from '../orders/order.types.ts';
import { presentPayment, presentRefund } from './payment.presenter.ts';
import {
  findPayment,
  findPaymentById,
  findPendingMoneyOperations,
  insertRefund,
  listRefunds,
  lockPayment,
  changePayment,
  settleMoneyOperation,
  sumCommittedAmount,
} from './payment.repository.ts';
import { paymentStateMachine } from './payment.states.ts';
import type { Payment, Refund } from './payment.types.ts';

/**
 * Order management after authorization (SPEC §7): void and refund. Capture lives in payment-flow.service.ts
 * next to automatic capture; all three follow the same pipeline (ARCHITECTURE rules 3 and 4):
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

export type PaymentOperationsDeps = { db: Database; clock: Clock; connectors: ConnectorRegistry };

export type { ProcessorRefusal } from './money-operation.ts';

export type CancelAttempt = {
  payment: Payment;
  /** True when the processor's answer is unknown: the payment stays `processing` until recovery settles it. */
  pending: boolean;
};

export type RefundAttempt = { payment: Payment; refund: Refund; refusal?: ProcessorRefusal };

export type RefundInput = { amount?: number | undefined; reason?: string | null | undefined };

/**
 * The order status that mirrors a payment after capture, void or refund, or undefined when the payment says
 * nothing about its order (an attempt still in progress or refused leaves the order where it is).
 *
 * REFUNDED means everything authorised was captured and refunded; a refund of a partial capture, with part of
 * the authorization still capturable, is PARTIALLY_REFUNDED.
 */
export function orderStatusForPayment(payment: Payment): OrderStatus | undefined {
  switch (payment.status) {
    case 'AUTHORIZED':
      return 'AUTHORIZED';
    case 'SUCCEEDED':
      if (payment.refundedAmount === 0) return 'PAID';
      return payment.refundedAmount >= payment.authorizedAmount ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    case 'CANCELED':
      return 'CANCELED';
    case 'PENDING':
    case 'REQUIRES_ACTION':
    case 'REJECTED':
      return undefined;
    default: {
      const unreachable: never = payment.status;
      throw new Error(`unhandled payment status ${String(unreachable)}`);
    }
  }
}

/**
 * Moves the payment's order (loaded under its row lock) to the status and amounts the payment implies
 * (`orderStatusForPayment`), through the orders module's `transitionOrder`, and emits `order.updated` when
 * it moved. A same-status change moves only the amounts (a second partial capture or refund); a move the
 * order table refuses (the order is already terminal) changes nothing. Answers the order as it now is.
 */
export function followPaymentWithOrder(tx: UnitOfWork, order: Order, payment: Payment, now: Date): Order {
  const target = orderStatusForPayment(payment);
  if (!target) return order;
  const moved = transitionOrder(
    tx,
    order,
    {
      to: target,
      sameStatusWhenAmountsDiffer: true,
      authorizedAmount: payment.authorizedAmount,
      capturedAmount: payment.capturedAmount,
      refundedAmount: payment.refundedAmount,
    },
    now,
  );
  if (!moved) return order;
  tx.emit(orderEvent(moved, 'order.updated'));
  return moved;
}

/** A refund id derived from an Idempotency-Key: a retry after a crash resumes the same refund row. */
export function refundIdForIdempotencyKey(scope: Scope, paymentId: string, idempotencyKey: string): string {
  return `ref_${digest(`refund:${scope.merchantId}:${scope.livemode}:${paymentId}:${idempotencyKey}`)}`;
}

/** A capture id derived from an Idempotency-Key: a retry after a crash resumes the same capture row. */
export function captureIdForIdempotencyKey(scope: Scope, paymentId: string, idempotencyKey: string): string {
  return `cap_${digest(`capture:${scope.merchantId}:${scope.livemode}:${paymentId}:${idempotencyKey}`)}`;
}

/** A payment is voided at most once, so its void has one fixed processor key. */
export function voidIdempotencyKey(paymentId: string): string {
  return `${paymentId}:void`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

async function emitPaymentSnapshot(tx: UnitOfWork, payment: Payment, type: EventType): Promise<void> {
  tx.emit({
    merchantId: payment.merchantId,
    livemode: payment.livemode,
    type,
    objectId: payment.id,
    objectVersion: payment.version,
    orderId: payment.orderId,
    checkoutId: payment.checkoutId,
    paymentId: payment.id,
    data: presentPayment(payment),
  });
}

/** `refund.succeeded` / `refund.failed`: the refund with its currency, and the payment's amounts after it. */
async function emitRefundEvent(
  tx: UnitOfWork,
  payment: Payment,
  refund: Refund,
  type: 'refund.succeeded' | 'refund.failed',
) {
  tx.emit({
    merchantId: payment.merchantId,
    livemode: payment.livemode,
    type,
    objectId: refund.id,
    objectVersion: payment.version,
    orderId: payment.orderId,
    checkoutId: payment.checkoutId,
    paymentId: payment.id,
    data: { ...presentRefundWithCurrency(refund, payment.currency), payment: presentPayment(payment) },
  });
}

/** The API form of a refund: the child row plus the payment's currency (money travels with its currency). */
export function presentRefundWithCurrency(refund: Refund, currency: string) {
  return { ...presentRefund(refund), currency };
}

export type PaymentOperations = ReturnType<typeof createPaymentOperations>;

export function createPaymentOperations(deps: PaymentOperationsDeps) {
  const { db, clock } = deps;
  const connectorOf = (payment: Pick<Payment, 'connectorId'>): Connector =>
    deps.connectors.get(payment.connectorId);

  /**
   * Voids an authorization with nothing captured: payment CANCELED, order CANCELED. While the processor is
   * asked, the payment is marked `processing` so a capture cannot start (and a PENDING capture refuses the
   * void): at most one of capture and void ever reaches the processor for real.
   */
  async function cancelPayment(scope: Scope, paymentId: string): Promise<CancelAttempt> {
    const started = await db.transaction(async (tx) => {
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
      return changePayment(tx, payment, { processingSince: clock.now() }, clock.now());
    });

    return executeVoid(started);
  }

  /** Steps 2 and 3 of a void; safe to run again (same processor key, conditional settle). */
  async function executeVoid(started: Payment): Promise<CancelAttempt> {
    let result: OperationResult;
    try {
      result = await connectorOf(started).void({
        idempotencyKey: voidIdempotencyKey(started.id),
        connectorReference: started.connectorReference!,
      });
    } catch (error) {
      if (!isConnectorError(error)) throw error; // left `processing`: recovery asks again
      if (error.retryable) return { payment: started, pending: true };
      await clearProcessing(started.id);
      throw toAppError(error);
    }
    if (result.status === 'pending') return { payment: started, pending: true };

    const settled = await db.transaction(async (tx) => {
      const [locked, order] = await tx.load(lockPayment(started.id), lockOrderOfPayment(started.id));
      const payment = locked!;
      if (result.status === 'failed') {
        const cleared = payment.processingSince
          ? changePayment(tx, payment, { processingSince: null }, clock.now())
          : payment;
        return { payment: cleared, refusal: { code: result.failureCode, message: result.message } };
      }
      // Settled concurrently (the request and recovery both asked): nothing more to do.
      if (paymentStateMachine.check(payment.status, 'CANCELED') !== 'advance') return { payment };
      const now = clock.now();
      const canceled = changePayment(tx, payment, { status: 'CANCELED', processingSince: null }, now);
      followPaymentWithOrder(tx, order!, canceled, now);
      await emitPaymentSnapshot(tx, canceled, 'payment.canceled');
      return { payment: canceled };
    });
    if ('refusal' in settled && settled.refusal)
      throw refusalError('cancel', settled.payment, settled.refusal);
    return { payment: settled.payment, pending: false };
  }

  async function clearProcessing(paymentId: string): Promise<void> {
    await db.transaction(async (tx) => {
      const payment = await findPaymentById(tx, paymentId, { forUpdate: true });
      if (payment?.processingSince && payment.status === 'AUTHORIZED') {
        changePayment(tx, payment, { processingSince: null }, clock.now());
      }
    });
  }

  /**
   * Refunds `amount` (default: all that remains refundable) of what was captured. The refund row is written
   * under the payment's lock after checking Σ refunds (PENDING included) + amount ≤ captured; an existing
   * `refundId` resumes that row (PENDING) or answers it as settled.
   */
  async function refundPayment(
    scope: Scope,
    paymentId: string,
    input: RefundInput,
    refundId = newId('ref'),
  ): Promise<RefundAttempt> {
    const refund = await db.transaction(async (tx) => {
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
        now: clock.now(),
      });
    });
    if (refund.status !== 'PENDING')
      return { payment: (await findPaymentById(db, refund.paymentId))!, refund };
    return executeRefund(refund);
  }

  /** Steps 2 and 3 of a PENDING refund; safe to run again (same processor key, conditional settle). */
  async function executeRefund(refund: Refund): Promise<RefundAttempt> {
    const payment = (await findPaymentById(db, refund.paymentId))!;
    return callAndSettleMoneyOperation({
      call: () =>
        connectorOf(payment).refund({
          idempotencyKey: refund.id,
          connectorReference: payment.connectorReference!,
          amount: refund.amount,
          currency: payment.currency,
        }),
      settle: (outcome) => settleRefund(refund, outcome),
      unsettled: () => ({ payment, refund }),
      failureMessage: 'The payment processor could not process this refund',
    });
  }

  async function settleRefund(
    refund: Refund,
    outcome: { status: 'SUCCEEDED' | 'FAILED'; connectorReference?: string; failureMessage?: string },
  ): Promise<RefundAttempt> {
    return db.transaction(async (tx) => {
      const [payment, order] = await tx.load(
        lockPayment(refund.paymentId),
        lockOrderOfPayment(refund.paymentId),
      );
      const locked = payment!;
      const settled = (await settleMoneyOperation(tx, 'refunds', refund.id, outcome, clock.now())) as
        Refund | undefined;
      if (!settled) {
        // Settled concurrently (the request and recovery both asked): answer with what is stored.
        const stored = (await listRefunds(tx, locked.id)).find((row) => row.id === refund.id) ?? refund;
        return { payment: locked, refund: stored };
      }
      if (settled.status !== 'SUCCEEDED') {
        await emitRefundEvent(tx, locked, settled, 'refund.failed');
        return { payment: locked, refund: settled };
      }
      const now = clock.now();
      const updated = changePayment(
        tx,
        locked,
        { refundedAmount: locked.refundedAmount + settled.amount },
        now,
      );
      followPaymentWithOrder(tx, order!, updated, now);
      await emitRefundEvent(tx, updated, settled, 'refund.succeeded');
      return { payment: updated, refund: settled };
    });
  }

  return {
    cancelPayment,
    refundPayment,

    /**
     * Recovery of a void whose answer was lost: an AUTHORIZED payment marked `processing` is a void in flight
     * (an authorization in flight is PENDING). Asking again with the same key finishes what the merchant asked.
     */
    async resumeCancel(payment: Payment): Promise<CancelAttempt> {
      if (payment.status !== 'AUTHORIZED' || !payment.processingSince) return { payment, pending: false };
      return executeVoid(payment);
    },

    /** Recovery: PENDING refunds last touched before `before` are asked again. Returns how many were tried. */
    async resumePendingRefunds(before: Date, limit: number): Promise<number> {
      const pending = (await findPendingMoneyOperations(db, 'refunds', before, limit)) as Refund[];
      for (const refund of pending) await executeRefund(refund).catch(() => undefined);
      return pending.length;
    },
  };
}

/**
 * How a processor's refusal of a capture, void or refund reaches the API: the same coded errors Kassa's own
 * checks give, so a client handles one set of codes whoever refused.
 */
export function refusalError(
  action: 'capture' | 'cancel' | 'refund',
  payment: Payment,
  refusal: ProcessorRefusal,
): AppError {
  const extensions = { current_status: payment.status, processor_message: refusal.message };
  switch (refusal.code) {
    case 'amount_exceeds_authorized':
      return new AppError('amount_exceeds_capturable', refusal.message, { extensions });
    case 'amount_exceeds_captured':
      return new AppError('amount_exceeds_refundable', refusal.message, { extensions });
    case 'invalid_state':
      return new AppError(
        'invalid_state_transition',
        `The payment processor refused to ${action} this payment: ${refusal.message}`,
        {
          extensions: {
            ...extensions,
            allowed_statuses:
              action === 'refund'
                ? ['SUCCEEDED']
                : action === 'cancel'
                  ? ['AUTHORIZED']
                  : ['AUTHORIZED', 'SUCCEEDED'],
          },
        },
      );
    case 'currency_mismatch':
      return new AppError('conflict', refusal.message, { extensions });
    default: {
      const unreachable: never = refusal.code;
      throw new Error(`unhandled refusal ${String(unreachable)}`);
    }
  }
}
