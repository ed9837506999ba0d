import type { FastifyReply, FastifyRequest } from 'fastify';
import { isConnectorError } from '../../connectors/connector.ts';
import { PAYMENT_METHOD_TYPES } from '../../modules/payment-methods/eligibility.ts';
import type { PaymentAttempt } from '../../modules/payments/payment-flow.service.ts';
import type { Services } from '../../services.ts';
import type { KassaApp } from '../http.types.ts';
import { formField, parseCheckoutForm } from '../hosted/checkout-form.ts';
import { checkCheckoutFormToken } from '../hosted/csrf-token.ts';
import type { HostedCheckout } from '../hosted/hosted-checkout.ts';
import { createHostedPageReplies, type FormState } from '../hosted/hosted-page-replies.ts';
import { createHostedPageService } from '../hosted/hosted-page.service.ts';
import { sendNotFoundPage } from '../hosted/page-reply.ts';
import { deviceOf, returnParametersOf, shopperBrowserOf } from '../hosted/shopper-request.ts';
import { CHECKOUT_FORM_FIELDS } from '../pages/checkout-page.ts';
import type { PaymentMethodType } from '../pages/page-locale.ts';

/**
 * The hosted payment page (docs/hosted-page.md) at `checkout_redirect_url` = `/pay/{checkout_id}/{signature}`:
 *
 *   GET    /pay/:id/:sig                    the page (or the session's closed / waiting page)
 *   POST   /pay/:id/:sig                    pay (form-encoded) → 303 to the merchant, the 3-D Secure / wallet
 *                                           page, or the page again with what went wrong
 *   GET    /pay/:id/:sig/return/:paymentId  back from 3-D Secure / wallet → outcome as above
 *   POST   /pay/:id/:sig/cancel             cancel → 303 to the merchant's canceled URL
 *
 * Server-rendered and complete without JavaScript (checkout.js only improves it). Every response carries
 * the page security headers; every form a CSRF token bound to the checkout (no cookies are used). A wrong
 * signature and an unknown id get the same 404 page. Card number and CVC exist only in this request's
 * memory, for the one connector call: they are not logged (bodies never are), stored, echoed or redirected.
 *
 * With callbacks (the callbacks flow) the outcome is posted to `callbacks.ok` / `fail` / `open` and the merchant's answer
 * is what the shopper gets (`hosted/callback-outcome.ts`); without, the signed redirect. A payment stopped by
 * `verify_order` shows the page again with the merchant's reason.
 *
 * The routes only read the request: what the page does is `hosted/hosted-page.service.ts`, which page it
 * answers with is `hosted/hosted-page-replies.ts`.
 */

type PageParams = { checkoutId: string; signature: string };
type ReturnParams = PageParams & { paymentId: string };

const isPaymentMethodType = (value: string): value is PaymentMethodType =>
  (PAYMENT_METHOD_TYPES as readonly string[]).includes(value);

export function registerHostedPageRoutes(app: KassaApp, services: Services) {
  const { keyring, clock } = services;
  const hosted = createHostedPageService(services);
  const pages = createHostedPageReplies(services, hosted);

  async function load(request: FastifyRequest): Promise<HostedCheckout | undefined> {
    const { checkoutId, signature } = request.params as PageParams;
    return hosted.load(checkoutId, signature);
  }

  // ---------- Routes ----------

  /**
   * Every page handler answers through the helpers above (which send and return nothing) and then hands
   * Fastify the reply itself: the documented way for an async handler that sent its answer with
   * `reply.send` (Fastify then waits for that answer instead of sending one of its own).
   */
  const answered =
    (handle: (request: FastifyRequest, reply: FastifyReply) => Promise<void>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      await handle(request, reply);
      return reply;
    };

  const pageRoute = { schema: { hide: true }, config: { auth: 'public' as const } };
  // Exactly-once comes from the session's single active attempt (row lock + partial unique index in the
  // payment flow), not from an Idempotency-Key header: however often the form is sent, one charge.
  const pagePost = {
    schema: { hide: true },
    config: { auth: 'public' as const, idempotency: 'natural' as const },
  };

  app.get(
    '/pay/:checkoutId/:signature',
    pageRoute,
    answered(async (request, reply) => {
      const context = await load(request);
      if (!context) return void sendNotFoundPage(request, reply);
      if (await pages.answerIfNotPayable(reply, context, false)) return;
      // `?method=` is the shopper's choice on the merchant's page (the browser SDK appends it): preselect it.
      // The page ignores a method this session does not offer and falls back to its default choice.
      const method = formField(request.query, 'method');
      const state: FormState = isPaymentMethodType(method) ? { selectedMethod: method } : {};
      pages.sendCheckoutPage(request, reply, context, 200, state);
    }),
  );

  app.post(
    '/pay/:checkoutId/:signature',
    pagePost,
    answered(async (request, reply) => {
      const context = await load(request);
      if (!context) return void sendNotFoundPage(request, reply);
      if (await pages.answerIfNotPayable(reply, context, true)) return;

      const now = clock.now();
      const form = parseCheckoutForm(request.body, now);
      const csrf = checkCheckoutFormToken(
        keyring,
        context.checkout.id,
        formField(request.body, CHECKOUT_FORM_FIELDS.csrfToken),
        now,
      );
      if (csrf.check !== 'valid') {
        return pages.sendCheckoutPage(request, reply, context, 403, {
          globalError: 'form_expired',
          values: form.values,
        });
      }
      // The merchant replaced the order after this form was shown: charge nothing, show the new amount.
      if (csrf.orderVersion !== context.order.version) {
        return pages.sendCheckoutPage(request, reply, context, 409, {
          globalError: 'order_changed',
          values: form.values,
        });
      }
      if (!form.ok) {
        const { fieldErrors, values, selectedMethod, selectedSavedCardId } = form;
        return pages.sendCheckoutPage(request, reply, context, 422, {
          fieldErrors,
          values,
          selectedMethod,
          selectedSavedCardId,
        });
      }
      const state: FormState =
        form.selection.type === 'saved_card'
          ? { values: form.values, selectedSavedCardId: form.selection.savedCardId }
          : { values: form.values, selectedMethod: form.selection.type };
      let paid: Awaited<ReturnType<typeof hosted.pay>>;
      try {
        paid = await hosted.pay(request.log, context, form.selection, csrf.orderVersion, {
          clientAddress: request.ip,
          device: deviceOf(request),
          browser: shopperBrowserOf(request, context.checkout.locale),
        });
      } catch (error) {
        return pages.respondToPaymentError(request, reply, context, error, state);
      }
      if (paid.outcome === 'unavailable') {
        return pages.sendCheckoutPage(request, reply, context, 422, {
          ...state,
          fieldErrors: { paymentMethod: 'unavailable' },
        });
      }
      await pages.respondToAttempt(request, reply, context, paid.attempt, state);
    }),
  );

  // "Return to the store" on a closed session's page: signed now, when the shopper follows it.
  app.get(
    '/pay/:checkoutId/:signature/store',
    pageRoute,
    answered(async (request, reply) => {
      const loaded = await load(request);
      if (!loaded) return void sendNotFoundPage(request, reply);
      const context = await hosted.expireIfDue(loaded);
      if (context.checkout.status === 'OPEN') return void reply.redirect(context.basePath, 303);
      reply.redirect(await hosted.storeUrl(context), 303);
    }),
  );

  app.get(
    '/pay/:checkoutId/:signature/return/:paymentId',
    pageRoute,
    answered(async (request, reply) => {
      const context = await load(request);
      if (!context) return void sendNotFoundPage(request, reply);
      const { paymentId } = request.params as ReturnParams;
      const payment = await hosted.findReturningPayment(context, paymentId);
      if (!payment) return void sendNotFoundPage(request, reply);

      let attempt: PaymentAttempt;
      try {
        attempt = await hosted.completeAction(context, payment, returnParametersOf(request.query));
      } catch (error) {
        if (!isConnectorError(error)) throw error;
        // The processor could not say yet: wait on the payment page, which follows the attempt.
        return pages.sendStatusPage(reply, context, 202, 'processing', { refresh: true });
      }
      await pages.respondToAttempt(request, reply, context, attempt, { selectedMethod: payment.method });
    }),
  );

  app.post(
    '/pay/:checkoutId/:signature/cancel',
    pagePost,
    answered(async (request, reply) => {
      const context = await load(request);
      if (!context) return void sendNotFoundPage(request, reply);
      if (await pages.answerIfNotPayable(reply, context, true)) return;
      // Canceling moves no money: a form shown for an earlier version of the order may cancel.
      const csrf = checkCheckoutFormToken(
        keyring,
        context.checkout.id,
        formField(request.body, CHECKOUT_FORM_FIELDS.csrfToken),
        clock.now(),
      ).check;
      if (csrf !== 'valid')
        return pages.sendCheckoutPage(request, reply, context, 403, { globalError: 'form_expired' });

      if (!(await hosted.cancel(context))) {
        // Closed, paid or attempted meanwhile: what the page shows now.
        const fresh = await hosted.reload(context);
        if (await pages.answerIfNotPayable(reply, fresh, true)) return;
        return pages.sendInProgress(reply, fresh, null, 409);
      }
      reply.redirect(await hosted.signedReturnUrl(context, 'canceled'), 303);
    }),
  );
}
