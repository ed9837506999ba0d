import type { FastifyReply } from 'fastify';
import type { Clock } from '../../lib/clock.ts';
import type { Keyring } from '../../lib/keyring.ts';
import { callbackPageHeaders } from '../../modules/callbacks/callback-page-security.ts';
import type { CallbackService } from '../../modules/callbacks/callback.service.ts';
import {
  ORDER_VERIFICATION_DECLINE_CODE,
  type CallbackResult,
  type ShopperCallbackKind,
} from '../../modules/callbacks/callback.types.ts';
import { signedReturnUrl } from '../../modules/merchants/signing-secret.service.ts';
import type { PaymentAttempt } from '../../modules/payments/payment-flow.service.ts';
import type { Payment } from '../../modules/payments/payment.types.ts';
import type { Queryable } from '../../db/client.ts';
import { pageLocaleOf } from '../pages/page-layout.ts';
import { renderErrorPage, renderOutcomePage, renderStatusPage } from '../pages/status-page.ts';
import {
  checkoutFormOrigins,
  merchantBranding,
  pageLocaleFor,
  type HostedCheckout,
} from './hosted-checkout.ts';
import { ASSET_BASE, sendPage } from './page-reply.ts';

/**
 * The end of a hosted payment when the checkout has callbacks (the callbacks flow, docs/hosted-page.md):
 *
 *   authorized / succeeded → `ok`,  pending → `open`,  rejected / canceled → `fail`
 *
 * (a payment stopped by `verify_order` is not a `fail`: the page shows the merchant's reason instead). Kassa
 * posts the result and answers the shopper with what the merchant answered:
 * - HTML → the sanitised page, with the sandboxing CSP of `callbackPageHeaders`;
 * - 30x → `303` to its Location. When the shopper's request came from one of our forms, Chrome checks that
 *   redirect against the form page's `form-action`, which lists the checkout's redirect and callback origins
 *   (`checkoutFormOrigins`); a Location elsewhere gets a page with a link to it instead of a blocked redirect;
 * - anything else (no connection in 7 s, no answer in 28 s, a 4xx / 5xx, a refused address) → Kassa's error
 *   page with the order number and the payment id, HTTP 502. The attempt is recorded either way.
 */

export type CallbackOutcomeDeps = {
  db: Queryable;
  keyring: Keyring;
  clock: Clock;
  publicUrl: string;
  callbacks: Pick<CallbackService, 'postCallback'>;
};

/** Which callback an attempt's outcome calls for, if any (the checkout must also have that URL). */
export function callbackKindFor(attempt: PaymentAttempt): ShopperCallbackKind | undefined {
  switch (attempt.outcome) {
    case 'succeeded':
    case 'authorized':
      return 'ok';
    case 'pending':
      return 'open';
    case 'rejected':
    case 'canceled':
      return attempt.payment.declineCode === ORDER_VERIFICATION_DECLINE_CODE ? undefined : 'fail';
    case 'requires_action':
    case 'processing':
      return undefined;
    default: {
      const unreachable: never = attempt.outcome;
      throw new Error(`unknown payment outcome ${String(unreachable)}`);
    }
  }
}

/** The callback for this attempt when the checkout has one; undefined → answer as without callbacks. */
export function configuredCallbackKind(
  context: HostedCheckout,
  attempt: PaymentAttempt,
): ShopperCallbackKind | undefined {
  const kind = callbackKindFor(attempt);
  return kind && context.checkout.callbacks[kind] ? kind : undefined;
}

export async function sendCallbackOutcome(
  reply: FastifyReply,
  deps: CallbackOutcomeDeps,
  context: HostedCheckout,
  payment: Payment,
  kind: ShopperCallbackKind,
): Promise<void> {
  const result = await deps.callbacks.postCallback(kind, context.checkout, context.order, payment);
  await sendCallbackResult(reply, deps, context, payment, kind, result);
}

/**
 * Sends the shopper's answer and resolves with nothing: a Fastify reply is thenable, so resolving with it
 * would hand the caller `undefined` anyway (see docs/security.md).
 */
export async function sendCallbackResult(
  reply: FastifyReply,
  deps: Omit<CallbackOutcomeDeps, 'callbacks'>,
  context: HostedCheckout,
  payment: Payment,
  kind: ShopperCallbackKind,
  result: CallbackResult,
): Promise<void> {
  const { checkout, order } = context;
  const shell = {
    ...pageLocaleFor(reply.request, context),
    assetBase: ASSET_BASE,
    livemode: checkout.livemode,
    merchant: merchantBranding(context.merchant),
    merchantOrderId: order.merchantOrderId,
    amount: { amountMinor: payment.amount, currency: payment.currency },
  };
  switch (result.type) {
    case 'html':
      reply
        .code(200)
        .headers(
          callbackPageHeaders({
            publicUrl: deps.publicUrl,
            formOrigins: result.formOrigins,
            merchantOrigins: checkoutFormOrigins(checkout),
          }),
        )
        .type('text/html; charset=utf-8')
        .send(result.html);
      return;
    case 'redirect': {
      const formOrigins = checkoutFormOrigins(checkout);
      if (formOrigins.includes(new URL(result.location).origin)) {
        reply.redirect(result.location, 303);
        return;
      }
      sendPage(
        reply,
        200,
        (nonce) => {
          if (kind !== 'fail') {
            return renderStatusPage({
              ...shell,
              nonce,
              kind: kind === 'ok' ? 'completed' : 'pending',
              returnUrl: result.location,
            });
          }
          const page = pageLocaleOf(shell);
          return renderOutcomePage({ ...shell, nonce, returnUrl: result.location }, page, {
            icon: 'alert',
            tone: 'neutral',
            title: page.text.returnToStore,
            message: '',
            details: [{ label: page.text.orderNumber, value: order.merchantOrderId }],
          });
        },
        formOrigins,
      );
      return;
    }
    case 'error': {
      // The payment stands (or failed) whatever the merchant's server did; the shopper keeps the ids to quote.
      const returnUrl = await signedReturnUrl(
        deps.db,
        { keyring: deps.keyring, clock: deps.clock },
        context,
        kind === 'fail' ? 'canceled' : 'completed',
      );
      sendPage(
        reply,
        502,
        (nonce) =>
          renderErrorPage({
            ...shell,
            nonce,
            paymentId: payment.id,
            returnUrl,
            // The merchant did not answer, but the money was taken: the shopper must not pay again.
            paymentSucceeded: payment.status === 'AUTHORIZED' || payment.status === 'SUCCEEDED',
          }),
        checkoutFormOrigins(checkout),
      );
      return;
    }
    default: {
      const unreachable: never = result;
      throw new Error(`unknown callback result ${JSON.stringify(unreachable)}`);
    }
  }
}
