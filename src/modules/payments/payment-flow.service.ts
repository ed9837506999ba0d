import type { Database, UnitOfWork } from '../../db/client.ts';
import {
  isConnectorError,
  type Connector,
  type ConnectorPaymentStatus,
  type ConnectorStatusUpdate,
  type OperationFailureCode,
  type OperationResult,
  type PaymentMethodData,
  type SaleResult,
} from '../../connectors/connector.ts';
import type { ConnectorRegistry } from '../../connectors/registry.ts';
import { cardFingerprint, cardLast4, detectCardBrand } from '../../lib/card.ts';
import type { Clock } from '../../lib/clock.ts';
import { AppError, invalidStateError, notFoundError } from '../../lib/errors.ts';
import { createHash } from 'node:crypto';
import { newId } from '../../lib/ids.ts';
import type { Keyring } from '../../lib/keyring.ts';
import { lockCheckout, lockCheckoutOfPayment, setActivePayment } from '../checkouts/checkout.repository.ts';
import { closeLockedCheckout, type CheckoutServiceDeps } from '../checkouts/checkout.service.ts';
import type { Checkout, Scope } from '../checkouts/checkout.types.ts';
import { ORDER_VERIFICATION_DECLINE_CODE } from '../callbacks/callback.types.ts';
import type { PaymentMethodSettingsCache } from '../payment-methods/payment-method-settings.cache.ts';
import type { EventType, NewEvent } from '../events/event.types.ts';
import { lockOrderOfPayment, readOrderOfCheckout } from '../orders/order.repository.ts';
import { orderEvent } from '../orders/order.service.ts';
import { transitionOrder } from '../orders/order.transitions.ts';
import type { Order } from '../orders/order.types.ts';
import { evaluatePaymentMethods, type Device } from '../payment-methods/eligibility.ts';
import { createPaymentOperations, followPaymentWithOrder } from './payment-operations.service.ts';
import { callAndSettleMoneyOperation } from './money-operation.ts';
import { presentPayment } from './payment.presenter.ts';
import {
  findAbandonedActionPayments,
  findPaymentById,
  findPendingMoneyOperations,
  findStuckProcessingPayments,
  findUncapturedAutomaticPayments,
  insertCapture,
  insertPayment,
  listCaptures,
  lockPayment,
  recordCapture,
  recordConnectorNotification,
  settleMoneyOperation,
  sumCommittedAmount,
  applyPaymentChange,
  changePayment,
  writePayment,
  type PaymentChange,
} from './payment.repository.ts';
import { paymentStateMachine, type PaymentStatus } from './payment.states.ts';
import type { Capture, Payment, PaymentCard, PaymentChannel } from './payment.types.ts';

/**
 * Paying a checkout: one pipeline per attempt (ARCHITECTURE rule 3).
 *
 *   1. start    — one transaction: lock the session, check it is OPEN, unexpired, with no attempt in flight
 *                 and the method eligible; insert the payment as PENDING + `processing_since`, and mark it
 *                 as the session's active attempt. At most one attempt per session is ever in flight (row
 *                 lock + conditional update + a partial unique index), so double clicks, reloads, two tabs
 *                 and parallel API calls end in ONE authorization at the processor.
 *   2. authorize — the processor call, outside any transaction, with the payment id as idempotency key
 *                 (a retried call returns the first answer, never a second charge). Retryable failures are
 *                 retried briefly; if the answer stays unknown the payment stays "processing".
 *   3. settle   — one transaction: record the outcome, move payment / order / session forward, emit events.
 *                 Every path that learns an outcome (the direct answer, the shopper returning from 3-D
 *                 Secure, a processor notification, the recovery worker) goes through the same `settle`,
 *                 which ignores anything that would not move the payment forward — so duplicates and late
 *                 answers are harmless.
 *   4. capture  — `automatic` sessions capture right after authorization (a separate processor call, with
 *                 its own child row and idempotency key); if that is interrupted, recovery finishes it.
 *                 Usually there is nothing left to do here: an automatic payment is sent as a sale (step 2
 *                 authorizes and captures in one processor call, the capture keyed by the automatic capture's
 *                 id) and step 3 records the authorization and the capture in one transaction, with the very
 *                 events the two steps would have written. Only a payment the processor could not decide at
 *                 once (3-D Secure, wallet, pending) is captured here after its authorization, as before.
 *
 * Recovery (`recover`) reconciles what a crash or a lost answer left behind: payments processing for longer
 * than PROCESSING_RECOVERY_MS are looked up at the processor by payment id; actions the shopper abandoned
 * for ACTION_TIMEOUT_MS are canceled; automatic captures that never ran are run; pending captures retried.
 *
 * Release of money held for a payment Kassa gave up: recovery may settle a payment REJECTED (the processor
 * knew nothing of it yet) or CANCELED (3-D Secure abandoned) while its `authorize`/`sale` is still on its way,
 * and the processor may then approve it. Statuses never move back, so `settle` does not record that answer;
 * instead it marks the given-up payment `processing` (the release is owed, durably, in the same transaction)
 * and, outside the transaction, `releaseGivenUpPayment` voids the authorization or refunds the capture at the
 * processor under fixed keys (`releaseIdempotencyKey`), then clears the mark and notes it in
 * `failure_message`. A release whose call fails or whose process dies stays marked: recovery finds it among
 * the processing payments and runs it again; the fixed keys make every repetition a replay.
 */

/**
 * Longer than the slowest legitimate step before the processor answers: `verify_order` may take up to 28 s
 * (seed 001's response timeout) before `authorize` is even sent, so recovery must not conclude earlier.
 */
export const PROCESSING_RECOVERY_MS = 60_000;
export const ACTION_TIMEOUT_MS = 15 * 60_000;
const AUTHORIZE_RETRY_DELAYS_MS = [100, 400];

/**
 * Terminal failures: Kassa has told the merchant that no money moved, so none may stay held at the processor.
 * REJECTED/CANCELED + `processing_since` means a release of a late authorization is owed (see above).
 */
const GIVEN_UP_STATUSES: ReadonlySet<PaymentStatus> = new Set(['REJECTED', 'CANCELED']);

export type PaymentFlowLogger = {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
};

/** Without an application logger, releases are still reported (stderr; the only console use lint allows). */
const stderrLogger: PaymentFlowLogger = {
  warn: (object, message) => console.error(`warning: ${message}`, object),
  error: (object, message) => console.error(`error: ${message}`, object),
};

/**
 * The processor key of the void or refund that releases a given-up payment. Fixed per payment (and per kind,
 * since a key may never name two different requests), so every path that releases it — the late answer, a
 * duplicate, a concurrent notification, recovery after a crash — sends the same request, which acts once.
 */
export function releaseIdempotencyKey(paymentId: string, kind: 'void' | 'refund'): string {
  return kind === 'void' ? `${paymentId}:release` : `${paymentId}:release-refund`;
}

export type PaymentFlowDeps = {
  db: Database;
  clock: Clock;
  keyring: Keyring;
  connectors: ConnectorRegistry;
  checkoutDeps: CheckoutServiceDeps;
  /** The merchant's payment-method settings, through this process's cache (≤ 1 s old). */
  paymentMethodSettings: PaymentMethodSettingsCache;
  /**
   * `callbacks.verify_order` (seed 001): asked after an attempt started and before the processor is called. A
   * refusal settles the payment REJECTED (decline_code `order_verification_failed`, failure_message = the
   * merchant's reason) and no money moves. Not asked again when an interrupted attempt is resumed: it may
   * already be at the processor. Absent = no verification.
   */
  verifyOrder?: (
    payment: Payment,
    checkout: Checkout,
    order: Order,
  ) => Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Age after which `recover` settles interrupted work (default PROCESSING_RECOVERY_MS; shorter in fault tests). */
  processingRecoveryMs?: number;
  /** Where releases of late authorizations are reported (warn) and failed ones (error). Default: stderr. */
  logger?: PaymentFlowLogger;
};

export type PayCheckoutInput = {
  scope: Scope;
  checkoutId: string;
  /**
   * A deterministic id (from `paymentIdForIdempotencyKey`) makes the call resumable: if a payment with this
   * id exists, the call continues it (re-asking the processor with the same idempotency key) instead of
   * starting another. Without it, a fresh id is drawn.
   */
  paymentId?: string;
  channel: PaymentChannel;
  method: PaymentMethodData;
  device: Device;
  /** Where the shopper lands after a 3-D Secure challenge or wallet approval. */
  returnUrl: (paymentId: string) => string;
  /** The saved card being charged (its data is in `method`, as a stored credential), recorded on the payment. */
  savedPaymentMethodId?: string | null;
};

/** What an attempt came to, for the caller to answer the shopper or the API client. */
export type PaymentOutcome =
  'succeeded' | 'authorized' | 'pending' | 'requires_action' | 'rejected' | 'canceled' | 'processing';

export type PaymentAttempt = { payment: Payment; outcome: PaymentOutcome };

/** A capture's row after `capturePayment`; `refusal` when the processor refused it (the row is FAILED). */
export type CaptureAttempt = {
  payment: Payment;
  capture: Capture;
  refusal?: { code: OperationFailureCode; message: string };
};

/**
 * What `settle` recorded: the payment, and the capture row it wrote when an automatic payment was authorized;
 * `releaseOwed` when the processor approved a payment Kassa had given up (money to void or refund).
 */
type Settlement = {
  payment: Payment;
  automaticCapture?: { result(): Promise<Capture> } | undefined;
  releaseOwed?: boolean;
};

/** What the processor said about an authorization, normalised for `settle`. */
type AuthorizationOutcome =
  | { status: 'authorized'; connectorReference: string }
  /** Authorized and captured by one sale; `operationReference` is the capture's, when the answer names it. */
  | { status: 'captured'; connectorReference: string; capturedAmount: number; operationReference?: string }
  | { status: 'pending'; connectorReference: string }
  | { status: 'requires_action'; connectorReference: string; actionUrl: string }
  | { status: 'declined'; connectorReference?: string; declineCode: string; message: string }
  | { status: 'failed'; message: string }
  | { status: 'abandoned'; message: string };

const TARGET_STATUS: Record<AuthorizationOutcome['status'], PaymentStatus> = {
  authorized: 'AUTHORIZED',
  // A sale moves through AUTHORIZED (with its events) to SUCCEEDED in the same transaction.
  captured: 'AUTHORIZED',
  pending: 'PENDING',
  requires_action: 'REQUIRES_ACTION',
  declined: 'REJECTED',
  failed: 'REJECTED',
  abandoned: 'CANCELED',
};

const PAYMENT_EVENT: Record<PaymentStatus, EventType> = {
  PENDING: 'payment.pending',
  REQUIRES_ACTION: 'payment.requires_action',
  AUTHORIZED: 'payment.authorized',
  SUCCEEDED: 'payment.succeeded',
  REJECTED: 'payment.rejected',
  CANCELED: 'payment.canceled',
};

export function outcomeOf(payment: Payment): PaymentOutcome {
  // A given-up payment that is `processing` is releasing a late authorization: its own outcome is final.
  if (payment.processingSince && !GIVEN_UP_STATUSES.has(payment.status)) return 'processing';
  switch (payment.status) {
    case 'SUCCEEDED':
      return 'succeeded';
    case 'AUTHORIZED':
      return 'authorized';
    case 'PENDING':
      return 'pending';
    case 'REQUIRES_ACTION':
      return 'requires_action';
    case 'REJECTED':
      return 'rejected';
    case 'CANCELED':
      return 'canceled';
    default: {
      const unreachable: never = payment.status;
      return unreachable;
    }
  }
}

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

export type PaymentFlow = ReturnType<typeof createPaymentFlow>;

export function createPaymentFlow(deps: PaymentFlowDeps) {
  const { db, clock } = deps;
  const recoveryMs = deps.processingRecoveryMs ?? PROCESSING_RECOVERY_MS;
  let logger = deps.logger ?? stderrLogger;
  // Void and refund (order management) live in their own module; capture stays here, next to automatic capture.
  const operations = createPaymentOperations({ db, clock, connectors: deps.connectors });

  function connectorOf(payment: Pick<Payment, 'connectorId'>): Connector {
    return deps.connectors.get(payment.connectorId);
  }

  function describeCard(method: PaymentMethodData): PaymentCard | null {
    if (method.type !== 'card') return null;
    const { number, expMonth, expYear } = method.card;
    return {
      brand: detectCardBrand(number),
      last4: cardLast4(number),
      expMonth,
      expYear,
      fingerprint: cardFingerprint(number, deps.keyring.key('card-fingerprint')),
    };
  }

  /** Step 1: the guarded start of an attempt. Throws a coded error when the session cannot be paid now. */
  async function startAttempt(
    input: PayCheckoutInput,
  ): Promise<{ payment: Payment; checkout: Checkout; order: Order }> {
    const connector = deps.connectors.connectorFor({ livemode: input.scope.livemode });
    const { mark, started, order } = await db.transaction(async (tx) => {
      const now = clock.now();
      // Load: the session locked, then its order read under that lock (it is replaced only under it).
      const [checkout, order] = await tx.load(
        lockCheckout(input.scope, input.checkoutId),
        readOrderOfCheckout(input.scope, input.checkoutId),
      );
      if (!checkout) throw notFoundError('checkout', input.checkoutId);
      if (checkout.status !== 'OPEN') {
        throw new AppError(
          'invalid_state_transition',
          `This checkout is ${checkout.status} and accepts no payment`,
          {
            extensions: { current_status: checkout.status, allowed_statuses: ['OPEN'] },
          },
        );
      }
      if (checkout.expiresAt <= now)
        throw new AppError('gone', `This checkout expired at ${checkout.expiresAt.toISOString()}`);
      if (checkout.activePaymentId) {
        throw new AppError('payment_in_progress', 'A payment for this checkout is already in progress', {
          extensions: { payment_id: checkout.activePaymentId },
        });
      }
      if (!order) throw notFoundError('order of checkout', checkout.id);

      const settings = await deps.paymentMethodSettings.find(tx, input.scope);
      const { eligible } = evaluatePaymentMethods(settings, {
        country: order.countryCode,
        currency: order.currency,
        amount: order.totalAmount,
        device: input.device,
        allowedMethods: checkout.paymentMethods,
      });
      const setting = eligible.find((candidate) => candidate.method === input.method.type);
      if (!setting) {
        throw new AppError(
          'payment_method_not_available',
          `${input.method.type} is not available for this checkout`,
          {
            errors: [
              {
                pointer: '/payment_method',
                code: 'unavailable',
                message: `${input.method.type} is not offered here`,
              },
            ],
          },
        );
      }
      const card = describeCard(input.method);
      if (card && setting.card_brands && !setting.card_brands.includes(card.brand)) {
        throw new AppError('payment_method_not_available', `${card.brand} cards are not accepted here`, {
          errors: [
            {
              pointer: '/card/number',
              code: 'unsupported_brand',
              message: `${card.brand} cards are not accepted`,
            },
          ],
        });
      }

      // Apply: the session marks the attempt as its active one, and the payment is inserted as `processing`.
      const paymentId = input.paymentId ?? newId('pay');
      const mark = setActivePayment(tx, input.scope, checkout.id, paymentId, now);
      const started = insertPayment(tx, {
        id: paymentId,
        scope: input.scope,
        checkoutId: checkout.id,
        orderId: order.id,
        channel: input.channel,
        method: input.method.type,
        amount: order.totalAmount,
        currency: order.currency,
        captureMode: checkout.capture,
        connectorId: connector.id,
        card,
        savedPaymentMethodId: input.savedPaymentMethodId ?? null,
        now,
      });
      return { mark, started, order };
    });
    // Both writes are conditional on the session as locked: a session that changed anyway got neither.
    const [marked, payment] = [await mark.result(), await started.result()];
    if (!marked || !payment)
      throw new AppError('conflict', 'The checkout changed while the payment started; try again');
    return { payment, checkout: marked, order };
  }

  /**
   * Step 2: the processor call. Retryable failures are retried with the same idempotency key. An automatic
   * payment is sent as a sale: the processor captures in the same call when it approves at once, under the
   * automatic capture's id as key — the key step 4 and recovery would capture with, so whatever path asks
   * again after a crash, the money is captured once.
   */
  async function authorize(
    payment: Payment,
    input: PayCheckoutInput,
  ): Promise<AuthorizationOutcome | undefined> {
    const connector = connectorOf(payment);
    const request = {
      idempotencyKey: payment.id,
      paymentId: payment.id,
      amount: payment.amount,
      currency: payment.currency,
      livemode: payment.livemode,
      method: input.method,
      returnUrl: input.returnUrl(payment.id),
    };
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result =
          payment.captureMode === 'automatic'
            ? await connector.sale({ ...request, captureIdempotencyKey: automaticCaptureId(payment.id) })
            : await connector.authorize(request);
        return fromAuthorizeResult(result, payment.amount);
      } catch (error) {
        if (!isConnectorError(error)) throw error;
        if (!error.retryable)
          return { status: 'failed', message: 'The payment processor could not process this payment' };
        const delay = AUTHORIZE_RETRY_DELAYS_MS[attempt];
        // Outcome unknown: the processor may or may not have charged. Leave it "processing" for recovery.
        if (delay === undefined) return undefined;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

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
  async function settle(paymentId: string, outcome: AuthorizationOutcome): Promise<Settlement> {
    return db.transaction(async (tx) => settleInTransaction(tx, paymentId, outcome));
  }

  async function settleInTransaction(
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
      return { payment: oweRelease(tx, payment, outcome), releaseOwed: true };
    }
    const scope = { merchantId: payment.merchantId, livemode: payment.livemode };
    const target = TARGET_STATUS[outcome.status];
    const transition = paymentStateMachine.check(payment.status, target);
    const finishesProcessing = payment.processingSince !== null && transition === 'same';
    if (transition === 'refused' || (transition === 'same' && !finishesProcessing)) return { payment };

    // Decide, then apply: every write below is queued and sent with the events and COMMIT.
    const now = clock.now();
    const change: PaymentChange = { status: target, processingSince: null };
    if ('connectorReference' in outcome && outcome.connectorReference)
      change.connectorReference = outcome.connectorReference;
    if (target === 'AUTHORIZED') change.authorizedAmount = payment.amount;
    if (outcome.status === 'requires_action') change.actionUrl = outcome.actionUrl;
    if (outcome.status === 'declined') {
      change.declineCode = outcome.declineCode;
      change.failureMessage = outcome.message;
    }
    if (outcome.status === 'failed' || outcome.status === 'abandoned')
      change.failureMessage = outcome.message;
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

    let currentOrder = order;
    const sessionIsOpenForThis = checkout.status === 'OPEN' && checkout.activePaymentId === payment.id;
    switch (updated.status) {
      case 'AUTHORIZED':
      case 'PENDING': {
        const moved = transitionOrder(
          tx,
          order,
          {
            to: updated.status,
            authorizedAmount: updated.status === 'AUTHORIZED' ? updated.amount : undefined,
          },
          now,
        );
        if (moved) tx.emit(orderEvent(moved, 'order.updated'));
        currentOrder = moved ?? order;
        // Authorized or accepted for later: the session's job is done (docs/checkouts.md, "pending → completes").
        if (sessionIsOpenForThis) {
          await closeLockedCheckout(
            tx,
            deps.checkoutDeps,
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
      followPaymentWithOrder(tx, currentOrder, captured, now);
      tx.emit(paymentEvent(captured, 'payment.captured'));
      tx.emit(paymentEvent(captured, 'payment.succeeded'));
      return { payment: captured };
    }
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
    tx: UnitOfWork,
    payment: Payment,
    outcome: Extract<AuthorizationOutcome, { status: 'authorized' | 'captured' }>,
  ): Payment {
    logger.warn(
      { paymentId: payment.id, status: payment.status, processorStatus: outcome.status },
      'the processor approved a payment Kassa had given up; releasing it at the processor',
    );
    if (payment.processingSince) return payment; // already owed: keep its age for recovery
    const change: PaymentChange = { processingSince: clock.now() };
    if (!payment.connectorReference) change.connectorReference = outcome.connectorReference;
    return changePayment(tx, payment, change, clock.now());
  }

  /**
   * Releases what the processor holds for a given-up payment whose release is owed: asks the processor what
   * it holds now (the late answer may be stale, or the release already done), voids an authorization with
   * nothing captured or refunds what was captured, with fixed keys, then clears the mark. Outside any
   * transaction; never throws — on any failure the mark stays and recovery runs it again.
   */
  async function releaseGivenUpPayment(payment: Payment): Promise<Payment> {
    const connector = connectorOf(payment);
    try {
      const status = payment.connectorReference
        ? await connector.getPaymentStatus({ connectorReference: payment.connectorReference })
        : await connector.lookupPayment({ paymentId: payment.id });
      if (status && (status.status === 'pending' || status.status === 'requires_action')) {
        logger.warn({ paymentId: payment.id }, 'release waits: the processor has not decided yet');
        return await postponeRelease(payment.id);
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
        if (result.status === 'pending') logger.warn({ paymentId: payment.id, result }, message);
        else logger.error({ paymentId: payment.id, result }, message);
        return await postponeRelease(payment.id);
      }
      if (result) {
        logger.warn(
          { paymentId: payment.id, operationReference: result.operationReference },
          'released a given-up payment at the processor',
        );
      }
      return await finishRelease(payment.id, releaseNote(held));
    } catch (error) {
      logger.error(
        { err: error, paymentId: payment.id },
        'could not release a given-up payment; recovery will try again',
      );
      return (await postponeRelease(payment.id).catch(() => undefined)) ?? payment;
    }
  }

  /**
   * A release that did not finish goes to the back of recovery's queue (its mark restarts its age), so one
   * the processor keeps refusing is retried every recovery age without holding up the other work recovery
   * takes oldest first.
   */
  async function postponeRelease(paymentId: string): Promise<Payment> {
    return db.transaction(async (tx) => {
      const payment = (await findPaymentById(tx, paymentId, { forUpdate: true }))!;
      if (!payment.processingSince || !GIVEN_UP_STATUSES.has(payment.status)) return payment;
      return changePayment(tx, payment, { processingSince: clock.now() }, clock.now());
    });
  }

  /** Clears the mark of a finished release (once: under the row lock) and notes it on the payment. */
  async function finishRelease(paymentId: string, note: string | undefined): Promise<Payment> {
    return db.transaction(async (tx) => {
      const payment = (await findPaymentById(tx, paymentId, { forUpdate: true }))!;
      if (!payment.processingSince || !GIVEN_UP_STATUSES.has(payment.status)) return payment;
      const change: PaymentChange = { processingSince: null };
      if (note && !payment.failureMessage?.includes(note))
        change.failureMessage = payment.failureMessage ? `${payment.failureMessage}. ${note}` : note;
      return changePayment(tx, payment, change, clock.now());
    });
  }

  /**
   * Step 4 for automatic capture: the row `settle` wrote, or (a payment authorized before that existed, or
   * whose capture step was interrupted) the row with the fixed id, found or inserted. Failures leave the
   * payment AUTHORIZED for recovery to capture later.
   */
  async function captureAutomatically({ payment, automaticCapture }: Settlement): Promise<Payment> {
    if (payment.status !== 'AUTHORIZED' || payment.captureMode !== 'automatic') return payment;
    try {
      const { payment: captured } = automaticCapture
        ? await captureAtProcessor(payment, await automaticCapture.result())
        : await capturePayment(payment, payment.authorizedAmount, automaticCaptureId(payment.id));
      return captured;
    } catch {
      return (await findPaymentById(db, payment.id)) ?? payment;
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
  async function capturePayment(
    payment: Payment,
    amount?: number,
    captureId = newId('cap'),
  ): Promise<CaptureAttempt> {
    // The payment as locked is still current at commit: this transaction does not change it.
    const { locked, capture } = await db.transaction(async (tx) => {
      const locked = (await findPaymentById(tx, payment.id, { forUpdate: true }))!;
      const previous = (await listCaptures(tx, locked.id)).find((row) => row.id === captureId);
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
        now: clock.now(),
      });
      return { locked, capture: inserted };
    });
    if (capture.status !== 'PENDING') return { payment: locked, capture };
    return captureAtProcessor(locked, capture);
  }

  /** Asks the processor for a PENDING capture row (its id is the idempotency key), then settles the row. */
  async function captureAtProcessor(payment: Payment, capture: Capture): Promise<CaptureAttempt> {
    return callAndSettleMoneyOperation({
      call: () =>
        connectorOf(payment).capture({
          idempotencyKey: capture.id,
          connectorReference: payment.connectorReference!,
          amount: capture.amount,
          currency: payment.currency,
        }),
      settle: (outcome) => settleCapture(payment.id, capture, outcome),
      unsettled: () => ({ payment, capture }),
      failureMessage: 'The payment processor could not process this capture',
    });
  }

  /** Records a capture's outcome; a no-op answer when it was settled concurrently (the request and recovery). */
  async function settleCapture(
    paymentId: string,
    capture: Capture,
    outcome: { status: 'SUCCEEDED' | 'FAILED'; connectorReference?: string; failureMessage?: string },
  ): Promise<CaptureAttempt> {
    return db.transaction(async (tx) => {
      const [payment, order] = await tx.load(lockPayment(paymentId), lockOrderOfPayment(paymentId));
      const locked = payment!;
      const settled = (await settleMoneyOperation(tx, 'captures', capture.id, outcome, clock.now())) as
        Capture | undefined;
      if (!settled) {
        const stored = (await listCaptures(tx, locked.id)).find((row) => row.id === capture.id) ?? capture;
        return { payment: locked, capture: stored };
      }
      if (settled.status !== 'SUCCEEDED') return { payment: locked, capture: settled };
      const now = clock.now();
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

  /** Continues an attempt that already exists under the requested payment id (a retried request). */
  async function resume(existing: Payment, input: PayCheckoutInput): Promise<PaymentAttempt> {
    const sameOwner =
      existing.merchantId === input.scope.merchantId && existing.livemode === input.scope.livemode;
    if (!sameOwner || existing.checkoutId !== input.checkoutId)
      throw new AppError('conflict', 'This payment id belongs to another checkout');
    if (GIVEN_UP_STATUSES.has(existing.status))
      return finish({ payment: existing, releaseOwed: existing.processingSince !== null });
    if (!existing.processingSince) return finish({ payment: existing });
    // Interrupted before its outcome was recorded: ask again with the same processor idempotency key.
    const outcome = await authorize(existing, input);
    if (!outcome) return { payment: existing, outcome: 'processing' };
    return finish(await settle(existing.id, outcome));
  }

  /**
   * Answers an attempt whose outcome is recorded, after its automatic capture (step 4) if it has one, or the
   * release of a late authorization of a given-up payment.
   */
  async function finish(settled: Settlement): Promise<PaymentAttempt> {
    if (settled.releaseOwed) {
      const released = await releaseGivenUpPayment(settled.payment);
      return { payment: released, outcome: outcomeOf(released) };
    }
    const captured = await captureAutomatically(settled);
    return { payment: captured, outcome: outcomeOf(captured) };
  }

  return {
    /**
     * Reports through the application's logger from now on: the flow is built before the HTTP app that owns
     * the logger (`buildApp` calls this).
     */
    logTo(applicationLogger: PaymentFlowLogger): void {
      logger = applicationLogger;
    },

    /** Pays a checkout: start → authorize → settle → (automatic) capture. */
    async payCheckout(input: PayCheckoutInput): Promise<PaymentAttempt> {
      let started: Awaited<ReturnType<typeof startAttempt>>;
      try {
        started = await startAttempt(input);
      } catch (error) {
        // A retry of an attempt that exists (the id is derived from the Idempotency-Key) cannot start again:
        // its session has it in flight or is closed, or the insert collides with it. Only then is the id looked
        // up, so the first request pays for no extra round trip. Nothing else exists: the refusal stands.
        const existing = input.paymentId
          ? await findPaymentById(db, input.paymentId).catch(() => undefined)
          : undefined;
        if (!existing) throw error;
        return resume(existing, input);
      }
      const { payment, checkout, order } = started;
      const verdict = deps.verifyOrder
        ? await deps.verifyOrder(payment, checkout, order)
        : { ok: true as const };
      if (!verdict.ok) {
        return finish(
          await settle(payment.id, {
            status: 'declined',
            declineCode: ORDER_VERIFICATION_DECLINE_CODE,
            message: verdict.reason,
          }),
        );
      }
      // Verification can be slow: if recovery settled the attempt meanwhile, do not send it to the processor.
      // Without a verify_order callback nothing was awaited, so there is nothing to re-read.
      const current =
        deps.verifyOrder && checkout.callbacks.verify_order ? await findPaymentById(db, payment.id) : payment;
      if (!current?.processingSince || GIVEN_UP_STATUSES.has(current.status))
        return finish({ payment: current ?? payment });
      const outcome = await authorize(payment, input);
      if (!outcome) return { payment: (await findPaymentById(db, payment.id))!, outcome: 'processing' };
      return finish(await settle(payment.id, outcome));
    },

    /** The shopper came back from a 3-D Secure challenge or a wallet: ask the processor what happened. */
    async completeAction(scope: Scope, paymentId: string): Promise<PaymentAttempt> {
      const payment = await findPaymentById(db, paymentId);
      if (!payment || payment.merchantId !== scope.merchantId || payment.livemode !== scope.livemode) {
        throw notFoundError('payment', paymentId);
      }
      if (payment.status !== 'REQUIRES_ACTION' || !payment.connectorReference) return finish({ payment });
      const status = await connectorOf(payment).getPaymentStatus({
        connectorReference: payment.connectorReference,
      });
      const outcome = fromPaymentStatus(status);
      if (!outcome) return { payment, outcome: outcomeOf(payment) };
      return finish(await settle(payment.id, outcome));
    },

    /** A processor's asynchronous notification; duplicates (same notification id) are ignored. */
    async applyStatusUpdate(update: ConnectorStatusUpdate): Promise<void> {
      const settled = await db.transaction(async (tx) => {
        const fresh = await recordConnectorNotification(tx, {
          id: update.notificationId,
          connectorId: update.connectorId,
          paymentId: update.paymentId,
        });
        if (!fresh) return undefined;
        const outcome: AuthorizationOutcome =
          update.status === 'authorized'
            ? { status: 'authorized', connectorReference: update.connectorReference }
            : {
                status: 'declined',
                connectorReference: update.connectorReference,
                declineCode: update.declineCode ?? 'payment_rejected',
                message: 'The payment was declined',
              };
        return settleInTransaction(tx, update.paymentId, outcome);
      });
      if (settled) await finish(settled);
    },

    capturePayment,
    /** Voids an authorization with nothing captured (payment and order CANCELED). */
    cancelPayment: operations.cancelPayment,
    /** Refunds part or all of what was captured, as a child row. */
    refundPayment: operations.refundPayment,

    /** Reconciles interrupted work; safe to run in several processes at once. Returns what it settled. */
    async recover(): Promise<{ processing: number; abandoned: number; captures: number; refunds: number }> {
      const now = clock.now();
      let processing = 0;
      for (const payment of await findStuckProcessingPayments(db, new Date(now.getTime() - recoveryMs), 50)) {
        // Given up + processing is a release of a late authorization that did not finish: run it again.
        if (GIVEN_UP_STATUSES.has(payment.status)) {
          await releaseGivenUpPayment(payment);
          processing += 1;
          continue;
        }
        // AUTHORIZED + processing is a void in flight (see payment-operations.service.ts): finish it.
        if (payment.status === 'AUTHORIZED') {
          await operations.resumeCancel(payment).catch(() => undefined);
          processing += 1;
          continue;
        }
        const status = await connectorOf(payment)
          .lookupPayment({ paymentId: payment.id })
          .catch(() => undefined);
        if (status === undefined) continue; // processor unreachable: try again next round
        const outcome = status
          ? fromPaymentStatus(status)
          : ({
              status: 'failed',
              message: 'The payment was interrupted before the processor received it',
            } as const);
        if (!outcome) continue;
        await finish(await settle(payment.id, outcome));
        processing += 1;
      }
      let abandoned = 0;
      for (const payment of await findAbandonedActionPayments(
        db,
        new Date(now.getTime() - ACTION_TIMEOUT_MS),
        50,
      )) {
        const status = payment.connectorReference
          ? await connectorOf(payment)
              .getPaymentStatus({ connectorReference: payment.connectorReference })
              .catch(() => undefined)
          : undefined;
        const outcome = status ? fromPaymentStatus(status) : undefined;
        await finish(
          await settle(
            payment.id,
            outcome && outcome.status !== 'requires_action'
              ? outcome
              : { status: 'abandoned', message: 'The shopper did not complete the authentication in time' },
          ),
        );
        abandoned += 1;
      }
      let captures = 0;
      for (const payment of await findUncapturedAutomaticPayments(db, new Date(now.getTime() - 5_000), 50)) {
        await captureAutomatically({ payment });
        captures += 1;
      }
      for (const pending of await findPendingMoneyOperations(
        db,
        'captures',
        new Date(now.getTime() - recoveryMs),
        50,
      )) {
        const payment = await findPaymentById(db, pending.paymentId);
        if (!payment) continue;
        await capturePayment(payment, pending.amount, pending.id).catch(() => undefined);
        captures += 1;
      }
      // Refunds whose processor answer was lost: asked again with the same key (the refund's id).
      const refunds = await operations.resumePendingRefunds(new Date(now.getTime() - recoveryMs), 50);
      return { processing, abandoned, captures, refunds };
    },
  };
}

/** A payment id derived from an Idempotency-Key: a retried request finds and resumes the same payment. */
export function paymentIdForIdempotencyKey(scope: Scope, idempotencyKey: string): string {
  const digest = createHash('sha256')
    .update(`payment:${scope.merchantId}:${scope.livemode}:${idempotencyKey}`)
    .digest('hex');
  return `pay_${digest.slice(0, 32)}`;
}

/** The automatic capture of a payment has a fixed id, so a retry finds (and resumes) the same capture. */
export function automaticCaptureId(paymentId: string): string {
  return `cap_${createHash('sha256').update(`auto:${paymentId}`).digest('hex').slice(0, 32)}`;
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

function fromAuthorizeResult(result: SaleResult, amount: number): AuthorizationOutcome {
  switch (result.status) {
    case 'captured':
      return {
        status: 'captured',
        connectorReference: result.connectorReference,
        capturedAmount: amount,
        operationReference: result.operationReference,
      };
    case 'authorized':
      return { status: 'authorized', connectorReference: result.connectorReference };
    case 'pending':
      return { status: 'pending', connectorReference: result.connectorReference };
    case 'requires_action':
      return {
        status: 'requires_action',
        connectorReference: result.connectorReference,
        actionUrl: result.action.url,
      };
    case 'declined':
      return {
        status: 'declined',
        connectorReference: result.connectorReference,
        declineCode: result.declineCode,
        message: result.message,
      };
    default: {
      const unreachable: never = result;
      throw new Error(`unknown authorization result ${JSON.stringify(unreachable)}`);
    }
  }
}

function fromPaymentStatus(status: ConnectorPaymentStatus): AuthorizationOutcome | undefined {
  switch (status.status) {
    case 'authorized':
      // Money captured before Kassa recorded the authorization can only come from a sale (Kassa captures
      // only what it recorded as authorized): record it as captured, never ask to capture it again.
      return status.capturedAmount > 0
        ? {
            status: 'captured',
            connectorReference: status.connectorReference,
            capturedAmount: status.capturedAmount,
          }
        : { status: 'authorized', connectorReference: status.connectorReference };
    case 'pending':
      return { status: 'pending', connectorReference: status.connectorReference };
    case 'requires_action':
      return status.action
        ? {
            status: 'requires_action',
            connectorReference: status.connectorReference,
            actionUrl: status.action.url,
          }
        : undefined;
    case 'declined':
      return {
        status: 'declined',
        connectorReference: status.connectorReference,
        declineCode: status.declineCode ?? 'payment_rejected',
        message: 'The payment was declined',
      };
    case 'voided':
      return { status: 'abandoned', message: 'The authorization was voided' };
    default: {
      const unreachable: never = status.status;
      throw new Error(`unknown processor status ${String(unreachable)}`);
    }
  }
}
