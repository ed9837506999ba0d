import { findCheckoutWithOrder } from '../checkouts/checkout.service.ts';
import type { Checkout } from '../checkouts/checkout.types.ts';
import type { Order } from '../orders/order.types.ts';
import type { Payment } from '../payments/payment.types.ts';
import {
  CALLBACK_HTML_MAX_BYTES,
  decodeBody,
  firstCharacters,
  interpretShopperAnswer,
  mediaTypeOf,
  plainTextOf,
  VERIFY_ORDER_REASON_MAX_CHARS,
} from './callback-answer.ts';
import { createCallbackExchange, type CallbackServiceDeps } from './callback-exchange.ts';
import { createCallbackNotifications } from './callback-notifications.ts';
import { buildCallbackForm, callbackWebhookId, subjectFromPayment } from './callback-payload.ts';
import { createCallbackResourceProxy } from './callback-resource-proxy.ts';
import type { CallbackResult, ShopperCallbackKind, VerifyOrderVerdict } from './callback.types.ts';

/**
 * Kassa's requests to a merchant's callback URLs (the callbacks flow), all through the egress client (SSRF-safe, no
 * redirects followed, 7 s connect / 28 s deadline by default) and all signed like webhooks:
 *
 * - `postCallback('ok' | 'fail' | 'open', …)` while the shopper waits: the answer becomes the shopper's next
 *   page (sanitised HTML, a redirect, or Kassa's error page);
 * - `verifyOrder` just before authorization: `200` + body `OKAY` lets the payment proceed, anything else stops
 *   it with the answer's first 255 characters as the reason;
 * - `deliverDueNotifications` (a worker): the latest state of a payment that was PENDING (its finalisation,
 *   then a later capture or cancellation), retried on the webhook schedule until a 2xx.
 *
 * Every request is recorded in `callback_attempts` (the order timeline shows them). The parts: the signed
 * exchange and its record (`callback-exchange.ts`), reading an answer (`callback-answer.ts`), the
 * notification worker's round (`callback-notifications.ts`) and the proxy's fetch (`callback-resource-proxy.ts`).
 */

export type { CallbackServiceDeps } from './callback-exchange.ts';
export type { ProxiedResource } from './callback-resource-proxy.ts';

const VERIFY_ORDER_ACCEPTED = 'OKAY';

export type CallbackService = ReturnType<typeof createCallbackService>;

export function createCallbackService(deps: CallbackServiceDeps) {
  const { db } = deps;
  const exchanges = createCallbackExchange(deps);
  const { proxy, send, recordAttempt, attemptBase } = exchanges;
  const { deliverDueNotifications } = createCallbackNotifications(deps, exchanges);
  const { fetchProxiedResource } = createCallbackResourceProxy(deps, exchanges);

  async function postCallback(
    kind: ShopperCallbackKind,
    checkout: Checkout,
    order: Order,
    payment: Payment,
  ): Promise<CallbackResult> {
    const url = checkout.callbacks[kind];
    if (!url) throw new Error(`checkout ${checkout.id} has no ${kind} callback`);
    const webhookId = callbackWebhookId(payment.id, kind);
    const scope = { merchantId: checkout.merchantId, livemode: checkout.livemode };
    // The caller's order was read before the payment settled; `order_status` says where it is now (PAID…).
    const current = (await findCheckoutWithOrder(db, scope, checkout.id))?.order ?? order;
    const exchange = await send({
      scope,
      url,
      webhookId,
      body: buildCallbackForm(subjectFromPayment(kind, checkout, current, payment)),
      accept: 'text/html',
      maxResponseBytes: CALLBACK_HTML_MAX_BYTES,
    });
    const result = interpretShopperAnswer(exchange, url, checkout.livemode, proxy);
    await recordAttempt({
      ...attemptBase(kind, url, webhookId, payment, exchange),
      result: result.type,
      error: result.type === 'error' ? result.reason : null,
    });
    return result;
  }

  /**
   * Asks `callbacks.verify_order` whether the order may be paid, just before authorization. Only `200` with the
   * body `OKAY` (surrounding white space ignored) says yes; the reason of a no is what the shopper is shown.
   */
  async function verifyOrder(
    payment: Payment,
    checkout: Checkout,
    order: Order,
  ): Promise<VerifyOrderVerdict> {
    const url = checkout.callbacks.verify_order;
    if (!url) return { ok: true };
    const webhookId = callbackWebhookId(payment.id, 'verify_order');
    const exchange = await send({
      scope: { merchantId: checkout.merchantId, livemode: checkout.livemode },
      url,
      webhookId,
      body: buildCallbackForm(subjectFromPayment('verify_order', checkout, order, payment)),
      accept: 'text/plain',
      maxResponseBytes: 64 * 1024,
    });
    let verdict: VerifyOrderVerdict;
    if ('error' in exchange) {
      verdict = {
        ok: false,
        reason: exchange.error.startsWith('response_timeout')
          ? 'The store did not confirm the order in time'
          : 'The store could not be reached to confirm the order',
      };
    } else {
      const { response } = exchange;
      const text = plainTextOf(decodeBody(response.headers, response.body), mediaTypeOf(response.headers));
      if (response.status === 200 && text === VERIFY_ORDER_ACCEPTED) verdict = { ok: true };
      else {
        const reason = exchange.disclose ? firstCharacters(text, VERIFY_ORDER_REASON_MAX_CHARS) : '';
        verdict = { ok: false, reason: reason || `The store refused the order (HTTP ${response.status})` };
      }
    }
    await recordAttempt({
      ...attemptBase('verify_order', url, webhookId, payment, exchange),
      result: verdict.ok ? 'accepted' : 'refused',
      error: verdict.ok ? null : 'error' in exchange ? exchange.error : verdict.reason,
    });
    return verdict;
  }

  return { postCallback, verifyOrder, deliverDueNotifications, fetchProxiedResource };
}
