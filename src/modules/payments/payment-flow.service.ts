import type { Metadata } from '../../lib/metadata.ts';
import type { ConnectorStatusUpdate } from '../../connectors/connector.ts';
import { cardFingerprintCandidates } from '../../lib/card.ts';
import { AppError, notFoundError } from '../../lib/errors.ts';
import { checkoutEvent, closeCheckout, findCheckoutWithOrder } from '../checkouts/checkout.service.ts';
import type { AttemptRefusal } from './attempt-limits.ts';
import { ORDER_VERIFICATION_DECLINE_CODE } from '../callbacks/callback.types.ts';
import type { Checkout, Scope } from '../checkouts/checkout.types.ts';
import type { Order } from '../orders/order.types.ts';
import type { ProcessorNotification } from '../../connectors/processor.ts';
import { applyProcessorNotification } from './operations/apply-processor-notification.ts';
import { authorize, authorizeBoundMs } from './operations/authorize-payment.ts';
import { capturePayment } from './operations/capture-payment.ts';
import { finishAttempt } from './operations/finish-attempt.ts';
import {
  connectorOf,
  createPaymentContext,
  type PayCheckoutInput,
  type PaymentContext,
  type PaymentFlowDeps,
  type PaymentFlowLogger,
  RecordRefused,
} from './operations/payment-context.ts';
import { recoverPayments } from './operations/recover-payments.ts';
import { refundPayment, type RefundInput } from './operations/refund-payment.ts';
import { settle, settleInTransaction } from './operations/settle-payment.ts';
import { startAttempt } from './operations/start-payment.ts';
import { cancelPayment } from './operations/void-payment.ts';
import {
  fromPaymentStatus,
  GIVEN_UP_STATUSES,
  outcomeOf,
  type AuthorizationOutcome,
  type PaymentAttempt,
} from './payment.outcomes.ts';
import { findPaymentById, markOrderVerified, recordConnectorNotification } from './payment.repository.ts';
import type { Payment } from './payment.types.ts';

export type {
  AttemptRecord,
  PayCheckoutInput,
  PaymentFlowDeps,
  PaymentFlowLogger,
} from './operations/payment-context.ts';
export { PROCESSOR_CALL_TIMEOUT_MS } from './operations/payment-context.ts';
export { paymentEvent } from './payment.events.ts';
export { automaticCaptureId, paymentIdForIdempotencyKey, releaseIdempotencyKey } from './payment.keys.ts';
export {
  ACTION_TIMEOUT_MS,
  outcomeOf,
  PROCESSING_RECOVERY_MS,
  type CaptureAttempt,
  type PaymentAttempt,
  type PaymentOutcome,
} from './payment.outcomes.ts';

/**
 * Paying a checkout: one pipeline per attempt (docs/ARCHITECTURE.md, 'Payments'). This file composes the
 * steps; each step is a file of `operations/` (start-payment, authorize-payment, settle-payment,
 * capture-payment, void-payment, refund-payment, release-payment, recover-payments).
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

export type PaymentFlow = ReturnType<typeof createPaymentFlow>;

/**
 * `verify_order` before the processor is called: a refusal settles the attempt REJECTED (no money moves); an
 * OKAY is recorded on the payment (`order_verified_at`) before the processor is called, so a resumed attempt
 * knows whether it was verified. `proceed: false` carries the attempt's answer.
 */
async function verifyBeforeAuthorizing(
  context: PaymentContext,
  payment: Payment,
  checkout: Checkout,
  order: Order,
): Promise<{ proceed: true } | { proceed: false; attempt: PaymentAttempt }> {
  if (!context.verifyOrder || !checkout.callbacks.verify_order) return { proceed: true };
  const verdict = await context.verifyOrder(payment, checkout, order);
  if (!verdict.ok) {
    const refused = await settle(context, payment.id, {
      status: 'declined',
      declineCode: ORDER_VERIFICATION_DECLINE_CODE,
      message: verdict.reason,
    });
    return { proceed: false, attempt: await finishAttempt(context, refused) };
  }
  // Verification can be slow: if recovery settled the attempt meanwhile, do not send it to the processor.
  const current = await markOrderVerified(context.db, payment.id, context.clock.now());
  if (!current?.processingSince || GIVEN_UP_STATUSES.has(current.status))
    return { proceed: false, attempt: await finishAttempt(context, { payment: current ?? payment }) };
  return { proceed: true };
}

/**
 * A resumed attempt of a checkout with `verify_order` that has no recorded OKAY must not reach the processor on
 * the strength of the retry alone: the merchant may still be answering — and may refuse. While the first
 * request can still be waiting for the answer (the attempt is younger than the verification's timeout), the
 * retry is told to come back (409 `payment_in_progress` + `Retry-After`); after that, the first request is gone
 * (a crash), and the retry asks `verify_order` itself.
 */
async function verifyResumed(
  context: PaymentContext,
  existing: Payment,
): Promise<{ proceed: true } | { proceed: false; attempt: PaymentAttempt }> {
  if (!context.verifyOrder || existing.orderVerifiedAt) return { proceed: true };
  const session = await findCheckoutWithOrder(
    context.db,
    { merchantId: existing.merchantId, livemode: existing.livemode },
    existing.checkoutId,
  );
  if (!session?.checkout.callbacks.verify_order) return { proceed: true };
  const waitMs =
    existing.createdAt.getTime() + context.orderVerificationTimeoutMs - context.clock.now().getTime();
  if (waitMs > 0) {
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    throw new AppError(
      'payment_in_progress',
      'The merchant is still verifying this order (verify_order); retry with the same Idempotency-Key later',
      { headers: { 'retry-after': String(retryAfter) }, extensions: { payment_id: existing.id } },
    );
  }
  return verifyBeforeAuthorizing(context, existing, session.checkout, session.order);
}

/** Continues an attempt that already exists under the requested payment id (a retried request). */
async function resume(
  context: PaymentContext,
  existing: Payment,
  input: PayCheckoutInput,
): Promise<PaymentAttempt> {
  const sameOwner =
    existing.merchantId === input.scope.merchantId && existing.livemode === input.scope.livemode;
  if (!sameOwner || existing.checkoutId !== input.checkoutId)
    throw new AppError('conflict', 'This payment id belongs to another checkout');
  if (GIVEN_UP_STATUSES.has(existing.status))
    return finishAttempt(context, { payment: existing, releaseOwed: existing.processingSince !== null });
  if (!existing.processingSince) return finishAttempt(context, { payment: existing });
  // Never past a verification that has not said OKAY: a refusal always wins over a retry.
  const verified = await verifyResumed(context, existing);
  if (!verified.proceed) return verified.attempt;
  // Interrupted before its outcome was recorded: ask again with the same processor idempotency key.
  const outcome = await authorize(context, existing, input);
  if (!outcome) return { payment: existing, outcome: 'processing' };
  return finishAttempt(context, await settle(context, existing.id, outcome));
}

/** The last decline a checkout may have: cancel it, so the card tester's session is over. */
async function cancelForDeclines(context: PaymentContext, input: PayCheckoutInput): Promise<void> {
  await context.db
    .transaction((tx) =>
      closeCheckout(tx, context.checkoutDeps, input.scope, input.checkoutId, 'CANCELED', {
        action: 'cancel',
        cancellationReason: 'too_many_declines',
      }),
    )
    .catch((error: unknown) => {
      // Closed meanwhile (expired, canceled by the shopper): nothing left to do.
      if (!(error instanceof AppError)) throw error;
    });
}

/**
 * The first refusal of a limit's window: `checkout.attempts_limited`, so the merchant can see card testing
 * on its checkouts (data: the checkout, with `attempt_limit`).
 */
async function reportAttemptsLimited(
  context: PaymentContext,
  input: PayCheckoutInput,
  refusal: AttemptRefusal,
): Promise<void> {
  await context.db.transaction(async (tx) => {
    const session = await findCheckoutWithOrder(tx, input.scope, input.checkoutId);
    if (!session) return;
    const event = checkoutEvent(context.checkoutDeps, session, 'checkout.attempts_limited');
    tx.emit({
      ...event,
      data: {
        ...event.data,
        attempt_limit: {
          limit: refusal.limit,
          retry_after_seconds: refusal.retryAfterSeconds,
          channel: input.channel,
        },
      },
    });
  });
}

export function createPaymentFlow(deps: PaymentFlowDeps) {
  const context = createPaymentContext(deps);

  /** One attempt, or the resumption of the attempt that exists under `input.paymentId` (`track.resumed`). */
  async function payOnce(input: PayCheckoutInput, track: { resumed: boolean }): Promise<PaymentAttempt> {
    let started: Awaited<ReturnType<typeof startAttempt>>;
    try {
      started = await startAttempt(context, input);
    } catch (error) {
      if (error instanceof RecordRefused) throw error.refusal;
      // Only a refusal (AppError) commits the start's unit; anything else rolled its claim back.
      if (input.record && !(error instanceof AppError)) throw input.record.lost(error);
      // A retry of an attempt that exists (the id is derived from the Idempotency-Key) cannot start again:
      // its session has it in flight or is closed, or the insert collides with it. Only then is the id looked
      // up, so the first request pays for no extra round trip. Nothing else exists: the refusal stands.
      const existing = input.paymentId
        ? await findPaymentById(context.db, input.paymentId).catch(() => undefined)
        : undefined;
      if (!existing) throw error;
      track.resumed = true;
      return resume(context, existing, input);
    }
    const { payment, checkout, order } = started;
    const verified = await verifyBeforeAuthorizing(context, payment, checkout, order);
    if (!verified.proceed) return verified.attempt;
    const outcome = await authorize(context, payment, input);
    if (!outcome) return { payment: (await findPaymentById(context.db, payment.id))!, outcome: 'processing' };
    return finishAttempt(context, await settle(context, payment.id, outcome, input.record));
  }

  return {
    /**
     * The longest one `payCheckout` takes while its process lives, from the configured timeouts: the
     * `verify_order` exchange and the processor calls of step 2 (each try within its egress deadline). The
     * idempotency lease of the payment routes is derived from it (src/http/idempotency.ts), so a retry never
     * takes over an attempt whose verification may still answer "refused". Database work is not bounded here;
     * the lease adds a margin for it, and `verifyResumed` guards a retry that still comes in too early.
     */
    attemptBoundMs: context.orderVerificationTimeoutMs + authorizeBoundMs(context.processorCallTimeoutMs),

    /**
     * Reports through the application's logger from now on: the flow is built before the HTTP app that owns
     * the logger (`buildApp` calls this).
     */
    logTo(applicationLogger: PaymentFlowLogger): void {
      context.logger = applicationLogger;
    },

    /**
     * Pays a checkout: start → authorize → settle → (automatic) capture, within the card-testing limits
     * (`attempt-limits.ts`): refused (429 `too_many_attempts`) when its address or card is at its limit of
     * declines; a decline is counted, and the one that reaches the per-checkout limit cancels the checkout
     * (`cancellation_reason: "too_many_declines"`).
     */
    async payCheckout(input: PayCheckoutInput): Promise<PaymentAttempt> {
      const limiter = context.attemptLimits;
      if (!limiter) return payOnce(input, { resumed: false });
      const subject = {
        merchantId: input.scope.merchantId,
        livemode: input.scope.livemode,
        clientAddress: input.clientAddress,
        cardFingerprints:
          input.method.type === 'card'
            ? cardFingerprintCandidates(input.method.card.number, context.keyring)
            : undefined,
      };
      // A retry of a request already answered gets that answer, not a refusal, and reports nothing: the key's
      // record is otherwise read with the start, which a refusal never reaches.
      const refusal = await limiter.check(subject, context.clock.now(), input.record?.verdict);
      if (refusal) {
        if (refusal.first) await reportAttemptsLimited(context, input, refusal);
        throw new AppError(
          'too_many_attempts',
          `Too many declined payment attempts; retry in ${refusal.retryAfterSeconds} s`,
          {
            headers: { 'retry-after': String(refusal.retryAfterSeconds) },
            extensions: { limit: refusal.limit, retry_after_seconds: refusal.retryAfterSeconds },
          },
        );
      }
      const track = { resumed: false };
      const attempt = await payOnce(input, track);
      // A retry that resumed an attempt counted before is not a new decline; a refusal by `verify_order` is
      // the merchant's, not a sign of card testing.
      if (
        !track.resumed &&
        attempt.outcome === 'rejected' &&
        attempt.payment.declineCode !== ORDER_VERIFICATION_DECLINE_CODE
      ) {
        await limiter.recordDecline(subject, context.clock.now());
        if (await limiter.checkoutExhausted(input.checkoutId)) await cancelForDeclines(context, input);
      }
      return attempt;
    },

    /**
     * The shopper came back from a 3-D Secure challenge or a wallet: ask the processor what happened. A
     * connector that must finish the action itself (Adyen's `/payments/details`) gets the parameters the
     * processor appended to the return URL; the others are asked for the payment's status.
     */
    async completeAction(
      scope: Scope,
      paymentId: string,
      returnParameters: Record<string, string> = {},
    ): Promise<PaymentAttempt> {
      const payment = await findPaymentById(context.db, paymentId);
      if (!payment || payment.merchantId !== scope.merchantId || payment.livemode !== scope.livemode) {
        throw notFoundError('payment', paymentId);
      }
      if (payment.status !== 'REQUIRES_ACTION' || !payment.connectorReference)
        return finishAttempt(context, { payment });
      const connector = await connectorOf(context, payment);
      const status = connector.completeAction
        ? await connector.completeAction({
            connectorReference: payment.connectorReference,
            paymentId: payment.id,
            returnParameters,
          })
        : await connector.getPaymentStatus({ connectorReference: payment.connectorReference });
      const outcome = fromPaymentStatus(status);
      if (!outcome) return { payment, outcome: outcomeOf(payment) };
      return finishAttempt(context, await settle(context, payment.id, outcome));
    },

    /** A processor's asynchronous notification; duplicates (same notification id) are ignored. */
    async applyStatusUpdate(update: ConnectorStatusUpdate): Promise<void> {
      const settled = await context.db.transaction(async (tx) => {
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
        return settleInTransaction(context, tx, update.paymentId, outcome);
      });
      if (settled) await finishAttempt(context, settled);
    },

    /**
     * A processor account's verified and stored webhook notification (processor-notifications.ts), applied
     * through the same state machines; `unmatched` when its payment or row is not known yet.
     */
    applyProcessorNotification: (accountId: string, notification: ProcessorNotification) =>
      applyProcessorNotification(context, accountId, notification),

    /** Captures `amount` of an authorization (default: all that remains capturable), as a child row. */
    capturePayment: (payment: Payment, amount?: number, captureId?: string, metadata?: Metadata) =>
      capturePayment(context, payment, amount, captureId, metadata),
    /** Voids an authorization with nothing captured (payment and order CANCELED). */
    cancelPayment: (scope: Scope, paymentId: string) => cancelPayment(context, scope, paymentId),
    /** Refunds part or all of what was captured, as a child row. */
    refundPayment: (scope: Scope, paymentId: string, input: RefundInput, refundId?: string) =>
      refundPayment(context, scope, paymentId, input, refundId),

    /** Reconciles interrupted work; safe to run in several processes at once. Returns what it settled. */
    recover: () => recoverPayments(context),
  };
}
