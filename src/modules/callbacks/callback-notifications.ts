import { continueTrace, runInTrace } from '../../metrics/index.ts';
import { newSecret } from '../../lib/ids.ts';
import { outcomeOfVerdict } from '../../outbox/delivery-queue.ts';
import { judgeAttempt, type AttemptObservation } from '../../outbox/retry-schedule.ts';
import { findCheckoutWithOrder } from '../checkouts/checkout.service.ts';
import type { PaymentResource } from '../payments/payment.presenter.ts';
import { RESPONSE_EXCERPT_BYTES } from './callback-answer.ts';
import type { CallbackExchange, CallbackServiceDeps } from './callback-exchange.ts';
import { buildCallbackForm, subjectFromEventSnapshot } from './callback-payload.ts';
import {
  claimDueNotifications,
  recordNotificationOutcome,
  type ClaimedNotification,
} from './callback.repository.ts';

/**
 * The notification callback's delivery: the latest state of a payment that was PENDING (its finalisation, then
 * a later capture or cancellation), claimed with a lease and retried on the webhook schedule until a 2xx.
 */

export function createCallbackNotifications(deps: CallbackServiceDeps, exchange: CallbackExchange) {
  const { db, clock } = deps;
  const { send, recordAttempt, attemptBase } = exchange;
  const leaseSeconds = Math.ceil(deps.attemptTimeoutMs / 1000) + 30;

  async function deliverNotification(claimed: ClaimedNotification): Promise<void> {
    const scope = { merchantId: claimed.merchantId, livemode: claimed.livemode };
    const found = await findCheckoutWithOrder(db, scope, claimed.checkoutId);
    if (!found) {
      await recordNotificationOutcome(db, {
        id: claimed.id,
        leaseToken: claimed.leaseToken,
        sentEventId: claimed.eventId,
        outcome: 'failed',
        retryInSeconds: null,
        error: 'The checkout no longer exists',
      });
      return;
    }
    const subject = subjectFromEventSnapshot(claimed.eventData as PaymentResource, {
      checkout: found.checkout,
      order: found.order,
      eventCreatedAt: claimed.eventCreatedAt,
    });
    const exchange = await send({
      scope,
      url: claimed.url,
      webhookId: claimed.eventId,
      body: buildCallbackForm(subject),
      accept: '*/*',
      maxResponseBytes: RESPONSE_EXCERPT_BYTES,
    });
    const observation: AttemptObservation =
      'error' in exchange
        ? { kind: 'error', error: exchange.error }
        : { kind: 'response', status: exchange.response.status, headers: exchange.response.headers };
    const verdict = judgeAttempt(observation, {
      attemptNumber: claimed.attemptNumber,
      schedule: deps.retrySchedule,
      now: clock.now(),
    });
    const { outcome, retryInSeconds } = outcomeOfVerdict(verdict);
    // 410 Gone ends the delivery as it ends a webhook's (nothing to disable here: the URL is the checkout's).
    const error =
      verdict.result === 'succeeded'
        ? null
        : verdict.disableEndpoint
          ? 'HTTP 410: the notification URL answered Gone; not retried'
          : verdict.error;
    await recordAttempt({
      ...attemptBase(
        'notification',
        claimed.url,
        claimed.eventId,
        { ...claimed, id: claimed.paymentId },
        exchange,
      ),
      notificationId: claimed.id,
      attemptNumber: claimed.attemptNumber,
      result: verdict.result === 'succeeded' ? 'delivered' : 'failed',
      error,
      nextAttemptAt: retryInSeconds === null ? null : new Date(clock.now().getTime() + retryInSeconds * 1000),
    });
    await recordNotificationOutcome(db, {
      id: claimed.id,
      leaseToken: claimed.leaseToken,
      sentEventId: claimed.eventId,
      outcome,
      retryInSeconds,
      error,
    });
  }

  /** One round of the notification worker: claims due deliveries and sends them in parallel. */
  async function deliverDueNotifications(limit = 20): Promise<number> {
    const claimed = await claimDueNotifications(db, { limit, leaseSeconds, leaseToken: newSecret(12) });
    // Each in the trace of the work that finalised its payment (src/metrics/trace-context.ts).
    const results = await Promise.allSettled(
      claimed.map((notification) =>
        runInTrace(continueTrace(notification.traceparent), () => deliverNotification(notification)),
      ),
    );
    for (const result of results) {
      // The lease expires and another round retries; nothing is lost.
      if (result.status === 'rejected')
        deps.logger?.warn({ err: result.reason }, 'callback notification failed');
    }
    return claimed.length;
  }

  return { deliverDueNotifications };
}
