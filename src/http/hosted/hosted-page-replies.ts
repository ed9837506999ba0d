import type { FastifyReply, FastifyRequest } from 'fastify';
import { isConnectorError } from '../../connectors/connector.ts';
import { AppError } from '../../lib/errors.ts';
import { ORDER_VERIFICATION_DECLINE_CODE } from '../../modules/callbacks/callback.types.ts';
import { isCheckoutPayable } from '../../modules/checkouts/checkout.service.ts';
import type { PaymentAttempt } from '../../modules/payments/payment-flow.service.ts';
import type { Services } from '../../services.ts';
import {
  renderCheckoutPageWith,
  type CheckoutFieldErrors,
  type CheckoutFormValues,
} from '../pages/checkout-page.ts';
import type { CheckoutGlobalError, PaymentMethodType, StatusPageKind } from '../pages/page-locale.ts';
import { renderStatusPage } from '../pages/status-page.ts';
import { configuredCallbackKind, sendCallbackOutcome } from './callback-outcome.ts';
import { issueCheckoutFormToken } from './csrf-token.ts';
import {
  checkoutFormOrigins,
  globalErrorFor,
  merchantBranding,
  orderSummary,
  pageLocaleFor,
  type HostedCheckout,
} from './hosted-checkout.ts';
import type { HostedPageService } from './hosted-page.service.ts';
import { ASSET_BASE, sendNotFoundPage, sendPage } from './page-reply.ts';
import { deviceOf } from './shopper-request.ts';

/**
 * Which page the hosted payment page answers with: the payment form (again, with what went wrong), the
 * status pages (closed, expired, waiting for an attempt), the way to the 3-D Secure / wallet page, and what a
 * payment attempt or its coded error means for the shopper. Every helper sends and resolves with nothing
 * (or a boolean): a Fastify reply is thenable, so resolving with one would read as "not answered"
 * (docs/security.md).
 */

const REFRESH_SECONDS = 2;

/** What the payment form shows besides the checkout: the shopper's choices and what went wrong. */
export type FormState = {
  globalError?: CheckoutGlobalError;
  fieldErrors?: CheckoutFieldErrors;
  values?: CheckoutFormValues;
  selectedMethod?: PaymentMethodType;
  selectedSavedCardId?: string;
  /** Shown under the global error: the merchant's reason when `verify_order` refused the order. */
  globalErrorDetail?: string;
};

export type HostedPageReplies = ReturnType<typeof createHostedPageReplies>;

export function createHostedPageReplies(services: Services, hosted: HostedPageService) {
  const { db, keyring, clock, config } = services;
  const callbackDeps = { db, keyring, clock, publicUrl: config.publicUrl, callbacks: services.callbacks };
  const { reload } = hosted;

  function sendCheckoutPage(
    request: FastifyRequest,
    reply: FastifyReply,
    context: HostedCheckout,
    statusCode: number,
    state: FormState = {},
  ): void {
    const { checkout, order } = context;
    const offer = hosted.offerFor(context, deviceOf(request));
    // Bound to the order version shown: a form for an order replaced since then pays nothing (csrf-token.ts).
    const csrfToken = issueCheckoutFormToken(keyring, checkout.id, order.version, clock.now());
    sendPage(
      reply,
      statusCode,
      (nonce) =>
        renderCheckoutPageWith(
          {
            ...pageLocaleFor(request, context),
            assetBase: ASSET_BASE,
            livemode: checkout.livemode,
            merchant: merchantBranding(context.merchant),
            order: orderSummary(order),
            ...offer,
            payAction: context.basePath,
            cancelAction: `${context.basePath}/cancel`,
            ...state,
          },
          { nonce, csrfToken },
        ),
      checkoutFormOrigins(checkout),
    );
  }

  function sendStatusPage(
    reply: FastifyReply,
    context: HostedCheckout,
    statusCode: number,
    kind: StatusPageKind,
    options: { returnUrl?: string; refresh?: boolean | 'now' } = {},
  ): void {
    const { checkout, order } = context;
    sendPage(
      reply,
      statusCode,
      (nonce) =>
        renderStatusPage({
          kind,
          ...pageLocaleFor(reply.request, context),
          nonce,
          assetBase: ASSET_BASE,
          livemode: checkout.livemode,
          merchant: merchantBranding(context.merchant),
          merchantOrderId: order.merchantOrderId,
          amount: { amountMinor: order.totalAmount, currency: order.currency },
          ...(options.returnUrl ? { returnUrl: options.returnUrl } : {}),
          ...(options.refresh
            ? { refresh: { seconds: options.refresh === 'now' ? 0 : REFRESH_SECONDS, url: context.basePath } }
            : {}),
        }),
      checkoutFormOrigins(checkout),
    );
  }

  /**
   * A session that takes no payment: paid (or pending), canceled or expired, with a link back to the store.
   * The link goes through `…/store`, which signs the merchant URL when it is followed, so a page left open
   * for a while still hands the merchant a fresh timestamp. `onPost`: the answer to a form submission, which
   * did nothing (409, or 410 when expired).
   */
  function sendClosedPage(reply: FastifyReply, context: HostedCheckout, onPost: boolean): void {
    const { checkout, order } = context;
    // No way back when the checkout's way back is this very page (a payment link without redirect URLs).
    const ownPage = `${config.publicUrl}${context.basePath}`;
    const returnUrl = checkout.completedRedirectUrl.startsWith(ownPage)
      ? undefined
      : `${config.publicUrl}${context.basePath}/store`;
    if (checkout.status === 'COMPLETED') {
      const kind = order.status === 'PENDING' ? 'pending' : 'completed';
      sendStatusPage(reply, context, onPost ? 409 : 200, kind, { returnUrl });
    } else if (checkout.status === 'CANCELED') {
      sendStatusPage(reply, context, onPost ? 409 : 200, 'canceled', { returnUrl });
    } else {
      sendStatusPage(reply, context, 410, 'expired', { returnUrl });
    }
  }

  /**
   * To the 3-D Secure / wallet page an attempt waits for. The sandbox's pages are on the gateway's own origin;
   * a processor's (Stripe, Adyen) are elsewhere, and Chrome applies the payment form's `form-action 'self'`
   * to the redirect that follows the form's POST, so a 303 there would be blocked. After a POST the shopper
   * gets the waiting page, which reloads the payment page at once (a plain GET, no script); that GET is
   * redirected to the processor's page.
   */
  function sendToAction(reply: FastifyReply, context: HostedCheckout, actionUrl: string): void {
    const ownOrigin = new URL(config.publicUrl).origin;
    if (reply.request.method === 'GET' || new URL(actionUrl).origin === ownOrigin) {
      reply.redirect(actionUrl, 303);
      return;
    }
    sendStatusPage(reply, context, 200, 'processing', { refresh: 'now' });
  }

  /**
   * While an attempt is in flight: back to the 3-D Secure / wallet page it waits for, or a page that says the
   * payment is being confirmed and reloads the payment page by itself.
   */
  async function sendInProgress(
    reply: FastifyReply,
    context: HostedCheckout,
    paymentId: string | null,
    statusCode: number,
  ): Promise<void> {
    const payment = await hosted.findPayment(paymentId);
    if (payment?.status === 'REQUIRES_ACTION' && payment.actionUrl && !payment.processingSince) {
      sendToAction(reply, context, payment.actionUrl);
    } else {
      sendStatusPage(reply, context, statusCode, 'processing', { refresh: true });
    }
  }

  /**
   * What the page shows for a session right now, before any form is considered: the closed page or the
   * waiting page (→ true: answered, the caller must stop), or nothing (→ false: the session takes a payment).
   *
   * A boolean, never the reply: a Fastify reply is thenable (`await reply` resolves to `undefined` once it is
   * sent), so a helper that returned the reply always looked "not answered" to its caller, which then went on
   * to render a second page and into the payment code. docs/security.md lists this defence.
   */
  async function answerIfNotPayable(
    reply: FastifyReply,
    context: HostedCheckout,
    onPost: boolean,
  ): Promise<boolean> {
    if (context.checkout.status !== 'OPEN') {
      sendClosedPage(reply, context, onPost);
      return true;
    }
    if (context.checkout.activePaymentId) {
      await sendInProgress(reply, context, context.checkout.activePaymentId, onPost ? 409 : 200);
      return true;
    }
    if (!isCheckoutPayable(context.checkout, clock.now())) {
      sendClosedPage(reply, await hosted.expireIfDue(context), onPost);
      return true;
    }
    return false;
  }

  async function respondToAttempt(
    request: FastifyRequest,
    reply: FastifyReply,
    context: HostedCheckout,
    attempt: PaymentAttempt,
    state: FormState = {},
  ): Promise<void> {
    const { payment } = attempt;
    const callbackKind = configuredCallbackKind(context, attempt);
    if (callbackKind) {
      await sendCallbackOutcome(reply, callbackDeps, await reload(context), payment, callbackKind);
      return;
    }
    switch (attempt.outcome) {
      case 'succeeded':
      case 'authorized':
      case 'pending':
        // Authorized, captured or accepted for later: the session is COMPLETED; back to the store, signed.
        reply.redirect(await hosted.signedReturnUrl(context, 'completed'), 303);
        return;
      case 'requires_action':
        if (payment.actionUrl) sendToAction(reply, context, payment.actionUrl);
        else sendStatusPage(reply, context, 202, 'processing', { refresh: true });
        return;
      case 'processing':
        sendStatusPage(reply, context, 202, 'processing', { refresh: true });
        return;
      case 'rejected':
      case 'canceled': {
        const fresh = await reload(context);
        if (await answerIfNotPayable(reply, fresh, request.method === 'POST')) return;
        // 402: the attempt was refused; the page is shown again to retry or choose another method.
        const refusal =
          payment.declineCode === ORDER_VERIFICATION_DECLINE_CODE && payment.failureMessage
            ? { globalErrorDetail: payment.failureMessage }
            : {};
        sendCheckoutPage(request, reply, fresh, 402, {
          ...state,
          globalError: globalErrorFor(payment),
          ...refusal,
        });
        return;
      }
      default: {
        const unreachable: never = attempt.outcome;
        throw new Error(`unknown payment outcome ${String(unreachable)}`);
      }
    }
  }

  /** The attempt could not start or failed outright: a coded error from the payment flow. */
  async function respondToPaymentError(
    request: FastifyRequest,
    reply: FastifyReply,
    context: HostedCheckout,
    error: unknown,
    state: FormState,
  ): Promise<void> {
    if (!(error instanceof AppError) && !isConnectorError(error)) throw error;
    const code = error instanceof AppError ? error.code : 'connector_error';
    switch (code) {
      case 'payment_in_progress':
      case 'conflict': {
        const fresh = await reload(context);
        if (fresh.checkout.status !== 'OPEN') sendClosedPage(reply, fresh, true);
        else await sendInProgress(reply, fresh, fresh.checkout.activePaymentId, 409);
        return;
      }
      case 'too_many_attempts': {
        // A card-testing limit (attempt-limits.ts): nothing was sent to the processor.
        for (const [name, value] of Object.entries((error as AppError).headers ?? {}))
          reply.header(name, value);
        sendCheckoutPage(request, reply, context, 429, { ...state, globalError: 'too_many_attempts' });
        return;
      }
      case 'order_changed': {
        // Replaced between the check above and the payment's start: the same answer as that check.
        const fresh = await reload(context);
        if (await answerIfNotPayable(reply, fresh, true)) return;
        sendCheckoutPage(request, reply, fresh, 409, { values: state.values, globalError: 'order_changed' });
        return;
      }
      case 'gone':
      case 'invalid_state_transition':
        sendClosedPage(reply, await hosted.expireIfDue(await reload(context)), true);
        return;
      case 'not_found':
        sendNotFoundPage(request, reply);
        return;
      case 'payment_method_not_available': {
        const brandRefused = (error as AppError).errors?.some(
          (fieldError) => fieldError.pointer === '/card/number',
        );
        const fieldErrors: CheckoutFieldErrors = brandRefused
          ? { cardNumber: 'unsupported_brand' }
          : { paymentMethod: 'unavailable' };
        sendCheckoutPage(request, reply, context, 422, { ...state, fieldErrors });
        return;
      }
      default:
        request.log.warn({ code, checkoutId: context.checkout.id }, 'hosted payment failed to start');
        sendCheckoutPage(request, reply, context, 502, { ...state, globalError: 'processor_error' });
    }
  }

  return {
    sendCheckoutPage,
    sendStatusPage,
    sendInProgress,
    answerIfNotPayable,
    respondToAttempt,
    respondToPaymentError,
  };
}
