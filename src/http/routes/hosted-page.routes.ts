import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PaymentMethodData, ShopperBrowser } from '../../connectors/connector.ts';
import { isConnectorError } from '../../connectors/connector.ts';
import { CARD_BRANDS, checkCardExpiry, type CardBrand } from '../../lib/card.ts';
import { AppError } from '../../lib/errors.ts';
import {
  checkoutServiceDeps,
  closeCheckout,
  isCheckoutPayable,
} from '../../modules/checkouts/checkout.service.ts';
import { signedReturnUrl } from '../../modules/merchants/signing-secret.service.ts';
import { detectDevice, PAYMENT_METHOD_TYPES } from '../../modules/payment-methods/eligibility.ts';
import { evaluateCheckoutPaymentMethods } from '../../modules/payment-methods/payment-method-settings.service.ts';
import type { PaymentAttempt } from '../../modules/payments/payment-flow.service.ts';
import { findPaymentById } from '../../modules/payments/payment.repository.ts';
import { loadChargeableCard, saveCard } from '../../modules/payments/saved-payment-method.service.ts';
import type { Services } from '../../services.ts';
import type { KassaApp } from '../http.types.ts';
import { parseCheckoutForm, formField, type CheckoutSelection } from '../hosted/checkout-form.ts';
import { checkCheckoutFormToken, issueCheckoutFormToken } from '../hosted/csrf-token.ts';
import {
  checkoutFormOrigins,
  globalErrorFor,
  loadHostedCheckout,
  merchantBranding,
  orderSummary,
  pageLocaleFor,
  reloadHostedCheckout,
  type HostedCheckout,
} from '../hosted/hosted-checkout.ts';
import { ASSET_BASE, sendNotFoundPage, sendPage } from '../hosted/page-reply.ts';
import { configuredCallbackKind, sendCallbackOutcome } from '../hosted/callback-outcome.ts';
import { ORDER_VERIFICATION_DECLINE_CODE } from '../../modules/callbacks/callback.types.ts';
import {
  CHECKOUT_FORM_FIELDS,
  renderCheckoutPageWith,
  type CheckoutFieldErrors,
  type CheckoutFormValues,
  type CheckoutMethodOption,
  type SavedCardOption,
} from '../pages/checkout-page.ts';
import type { CheckoutGlobalError, PaymentMethodType, StatusPageKind } from '../pages/page-locale.ts';
import { renderStatusPage } from '../pages/status-page.ts';

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
 */

type PageParams = { checkoutId: string; signature: string };
type ReturnParams = PageParams & { paymentId: string };

const REFRESH_SECONDS = 2;

function knownBrands(brands: readonly string[] | undefined): CardBrand[] {
  return (brands ?? []).filter((brand): brand is CardBrand =>
    (CARD_BRANDS as readonly string[]).includes(brand),
  );
}
const isPaymentMethodType = (value: string): value is PaymentMethodType =>
  (PAYMENT_METHOD_TYPES as readonly string[]).includes(value);

type FormState = {
  globalError?: CheckoutGlobalError;
  fieldErrors?: CheckoutFieldErrors;
  values?: CheckoutFormValues;
  selectedMethod?: PaymentMethodType;
  selectedSavedCardId?: string;
  /** Shown under the global error: the merchant's reason when `verify_order` refused the order. */
  globalErrorDetail?: string;
};

/**
 * The parameters a processor appended to the return URL after 3-D Secure (Adyen's `redirectResult`): string
 * values only, bounded, for the connector that finishes the action with them.
 */
function returnParametersOf(query: unknown): Record<string, string> {
  const parameters: Record<string, string> = {};
  if (typeof query !== 'object' || query === null) return parameters;
  for (const [name, value] of Object.entries(query).slice(0, 20)) {
    if (typeof value === 'string' && name.length <= 100 && value.length <= 20_000) parameters[name] = value;
  }
  return parameters;
}

export function registerHostedPageRoutes(app: KassaApp, services: Services) {
  const { db, keyring, clock, config } = services;
  const checkoutDeps = checkoutServiceDeps(services);
  const returnDeps = { keyring, clock };
  const callbackDeps = { db, keyring, clock, publicUrl: config.publicUrl, callbacks: services.callbacks };
  const pageSources = {
    db,
    merchants: services.merchants,
    paymentMethodSettings: services.paymentMethodSettings,
    processorMethods: services.connectors.routableMethods,
    savedCardsChargeable: services.connectors.savedCardsChargeable,
  };

  async function load(request: FastifyRequest): Promise<HostedCheckout | undefined> {
    const { checkoutId, signature } = request.params as PageParams;
    return loadHostedCheckout(pageSources, keyring, checkoutId, signature);
  }

  async function reload(context: HostedCheckout): Promise<HostedCheckout> {
    return (
      (await reloadHostedCheckout(pageSources, {
        basePath: context.basePath,
        checkoutId: context.checkout.id,
      })) ?? context
    );
  }

  /** What a processor's 3-D Secure needs to know of the shopper's browser (Adyen's `browserInfo`). */
  function shopperBrowserOf(request: FastifyRequest, locale: string): ShopperBrowser {
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' && value !== '' ? value.slice(0, 512) : undefined;
    };
    const language = header('accept-language')?.split(',')[0]?.split(';')[0]?.trim();
    const shopper: ShopperBrowser = { ipAddress: request.ip, language: language || locale };
    const userAgent = header('user-agent');
    const acceptHeader = header('accept');
    if (userAgent) shopper.userAgent = userAgent;
    if (acceptHeader) shopper.acceptHeader = acceptHeader;
    return shopper;
  }

  function deviceOf(request: FastifyRequest) {
    const userAgent = request.headers['user-agent'];
    return detectDevice(typeof userAgent === 'string' ? userAgent : undefined);
  }

  // ---------- Pages ----------

  function sendCheckoutPage(
    request: FastifyRequest,
    reply: FastifyReply,
    context: HostedCheckout,
    statusCode: number,
    state: FormState = {},
  ): void {
    const { checkout, order } = context;
    const now = clock.now();
    const { eligible } = evaluateCheckoutPaymentMethods(
      context,
      deviceOf(request),
      context.paymentMethodSettings,
    );
    const methods: CheckoutMethodOption[] = eligible.map((setting) =>
      setting.method === 'card'
        ? { type: 'card', brands: knownBrands(setting.card_brands) }
        : { type: setting.method },
    );
    const cardSetting = eligible.find((setting) => setting.method === 'card');
    const canSave = checkout.allowSavePaymentMethods && order.customer !== null && context.savedCardsAllowed;
    // The saved cards came with the checkout (only when it allows them and the merchant vouched for the
    // customer, `customer.verified`); offer those still chargeable.
    const savedCards: SavedCardOption[] =
      canSave && order.customerVerified && cardSetting
        ? context.savedCards.filter(
            (card) =>
              checkCardExpiry({ month: card.expMonth, year: card.expYear }, now).ok &&
              (!cardSetting.card_brands || cardSetting.card_brands.includes(card.brand)),
          )
        : [];
    // Bound to the order version shown: a form for an order replaced since then pays nothing (csrf-token.ts).
    const csrfToken = issueCheckoutFormToken(keyring, checkout.id, order.version, now);
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
            methods,
            savedCards,
            offerSaveCard: canSave,
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

  /** The signed merchant URL for a closed session: completed, or canceled (also for an expired one). */
  async function storeUrl(context: HostedCheckout): Promise<string> {
    return signedReturnUrl(
      db,
      returnDeps,
      context,
      context.checkout.status === 'COMPLETED' ? 'completed' : 'canceled',
    );
  }

  /**
   * An OPEN session past its deadline is expired now (the sweep would within seconds), so the page, the
   * events and the order agree; a concurrent close or an attempt in flight leaves it to the sweep.
   */
  async function expireIfDue(context: HostedCheckout): Promise<HostedCheckout> {
    if (context.checkout.status !== 'OPEN' || context.checkout.expiresAt > clock.now()) return context;
    await db
      .transaction((tx) =>
        closeCheckout(tx, checkoutDeps, context.scope, context.checkout.id, 'EXPIRED', { action: 'expire' }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof AppError)) throw error;
      });
    return reload(context);
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
    const payment = paymentId ? await findPaymentById(db, paymentId) : undefined;
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
      sendClosedPage(reply, await expireIfDue(context), onPost);
      return true;
    }
    return false;
  }

  // ---------- Outcomes ----------

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
        reply.redirect(await signedReturnUrl(db, returnDeps, await reload(context), 'completed'), 303);
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
        sendClosedPage(reply, await expireIfDue(await reload(context)), true);
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

  /** Turns the shopper's choice into what the connector is sent; undefined when a saved card is not usable. */
  async function paymentMethodFor(
    context: HostedCheckout,
    selection: CheckoutSelection,
  ): Promise<{ method: PaymentMethodData; savedPaymentMethodId?: string } | undefined> {
    const customer = context.order.customer;
    switch (selection.type) {
      case 'card':
        return { method: { type: 'card', card: selection.card } };
      case 'saved_card': {
        // Only for a customer the merchant vouched for: an e-mail address alone is what anyone can type.
        if (
          !context.checkout.allowSavePaymentMethods ||
          !context.savedCardsAllowed ||
          !customer ||
          !context.order.customerVerified
        )
          return undefined;
        const saved = await loadChargeableCard(
          db,
          { keyring, clock },
          context.scope,
          customer.id,
          selection.savedCardId,
        );
        return saved
          ? { method: { type: 'card', card: saved.card }, savedPaymentMethodId: saved.saved.id }
          : undefined;
      }
      case 'invoice':
        return {
          method: {
            type: 'invoice',
            customer: customer
              ? {
                  email: customer.email,
                  firstName: customer.firstName ?? undefined,
                  lastName: customer.lastName ?? undefined,
                }
              : {},
          },
        };
      case 'wallet':
        return { method: { type: 'wallet' } };
      default: {
        const unreachable: never = selection;
        throw new Error(`unknown selection ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** "Save card" was ticked and the card went through: keep it (sealed) for this customer's next checkout. */
  async function saveCardIfAsked(
    request: FastifyRequest,
    context: HostedCheckout,
    selection: CheckoutSelection,
    attempt: PaymentAttempt,
  ) {
    if (selection.type !== 'card' || !selection.save) return;
    if (!context.checkout.allowSavePaymentMethods || !context.savedCardsAllowed || !context.order.customer)
      return;
    if (!['succeeded', 'authorized', 'pending'].includes(attempt.outcome)) return;
    const customerId = context.order.customer.id;
    try {
      await db.transaction((tx) =>
        saveCard(tx, { keyring, clock }, context.scope, customerId, selection.card),
      );
    } catch (error) {
      // The payment stands; only the convenience is lost. Log the code, never the error (it could quote data).
      request.log.warn(
        { checkoutId: context.checkout.id, code: (error as { code?: unknown }).code },
        'saving the card failed',
      );
    }
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
      if (await answerIfNotPayable(reply, context, false)) return;
      // `?method=` is the shopper's choice on the merchant's page (the browser SDK appends it): preselect it.
      // The page ignores a method this session does not offer and falls back to its default choice.
      const method = formField(request.query, 'method');
      const state: FormState = isPaymentMethodType(method) ? { selectedMethod: method } : {};
      sendCheckoutPage(request, reply, context, 200, state);
    }),
  );

  app.post(
    '/pay/:checkoutId/:signature',
    pagePost,
    answered(async (request, reply) => {
      const context = await load(request);
      if (!context) return void sendNotFoundPage(request, reply);
      if (await answerIfNotPayable(reply, context, true)) return;

      const now = clock.now();
      const form = parseCheckoutForm(request.body, now);
      const csrf = checkCheckoutFormToken(
        keyring,
        context.checkout.id,
        formField(request.body, CHECKOUT_FORM_FIELDS.csrfToken),
        now,
      );
      if (csrf.check !== 'valid') {
        return sendCheckoutPage(request, reply, context, 403, {
          globalError: 'form_expired',
          values: form.values,
        });
      }
      // The merchant replaced the order after this form was shown: charge nothing, show the new amount.
      if (csrf.orderVersion !== context.order.version) {
        return sendCheckoutPage(request, reply, context, 409, {
          globalError: 'order_changed',
          values: form.values,
        });
      }
      if (!form.ok) {
        const { fieldErrors, values, selectedMethod, selectedSavedCardId } = form;
        return sendCheckoutPage(request, reply, context, 422, {
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
      const method = await paymentMethodFor(context, form.selection);
      if (!method) {
        return sendCheckoutPage(request, reply, context, 422, {
          ...state,
          fieldErrors: { paymentMethod: 'unavailable' },
        });
      }

      let attempt: PaymentAttempt;
      try {
        attempt = await services.payments.payCheckout({
          scope: context.scope,
          checkoutId: context.checkout.id,
          channel: 'hosted_page',
          method: method.method,
          savedPaymentMethodId: method.savedPaymentMethodId ?? null,
          expectedOrderVersion: csrf.orderVersion,
          clientAddress: request.ip,
          device: deviceOf(request),
          returnUrl: (paymentId) => `${config.publicUrl}${context.basePath}/return/${paymentId}`,
          shopper: shopperBrowserOf(request, context.checkout.locale),
        });
      } catch (error) {
        return respondToPaymentError(request, reply, context, error, state);
      }
      await saveCardIfAsked(request, context, form.selection, attempt);
      await respondToAttempt(request, reply, context, attempt, state);
    }),
  );

  // "Return to the store" on a closed session's page: signed now, when the shopper follows it.
  app.get(
    '/pay/:checkoutId/:signature/store',
    pageRoute,
    answered(async (request, reply) => {
      const loaded = await load(request);
      if (!loaded) return void sendNotFoundPage(request, reply);
      const context = await expireIfDue(loaded);
      if (context.checkout.status === 'OPEN') return void reply.redirect(context.basePath, 303);
      reply.redirect(await storeUrl(context), 303);
    }),
  );

  app.get(
    '/pay/:checkoutId/:signature/return/:paymentId',
    pageRoute,
    answered(async (request, reply) => {
      const context = await load(request);
      if (!context) return void sendNotFoundPage(request, reply);
      const { paymentId } = request.params as ReturnParams;
      const payment = /^pay_[0-9a-f]{32}$/.test(paymentId) ? await findPaymentById(db, paymentId) : undefined;
      if (!payment || payment.checkoutId !== context.checkout.id)
        return void sendNotFoundPage(request, reply);

      let attempt: PaymentAttempt;
      try {
        attempt = await services.payments.completeAction(
          context.scope,
          payment.id,
          returnParametersOf(request.query),
        );
      } catch (error) {
        if (!isConnectorError(error)) throw error;
        // The processor could not say yet: wait on the payment page, which follows the attempt.
        return sendStatusPage(reply, context, 202, 'processing', { refresh: true });
      }
      await respondToAttempt(request, reply, context, attempt, { selectedMethod: payment.method });
    }),
  );

  app.post(
    '/pay/:checkoutId/:signature/cancel',
    pagePost,
    answered(async (request, reply) => {
      const context = await load(request);
      if (!context) return void sendNotFoundPage(request, reply);
      if (await answerIfNotPayable(reply, context, true)) return;
      // Canceling moves no money: a form shown for an earlier version of the order may cancel.
      const csrf = checkCheckoutFormToken(
        keyring,
        context.checkout.id,
        formField(request.body, CHECKOUT_FORM_FIELDS.csrfToken),
        clock.now(),
      ).check;
      if (csrf !== 'valid')
        return sendCheckoutPage(request, reply, context, 403, { globalError: 'form_expired' });

      try {
        await db.transaction((tx) =>
          closeCheckout(tx, checkoutDeps, context.scope, context.checkout.id, 'CANCELED', {
            action: 'cancel',
          }),
        );
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        const fresh = await reload(context);
        if (await answerIfNotPayable(reply, fresh, true)) return;
        return sendInProgress(reply, fresh, null, 409);
      }
      reply.redirect(await signedReturnUrl(db, returnDeps, await reload(context), 'canceled'), 303);
    }),
  );
}
