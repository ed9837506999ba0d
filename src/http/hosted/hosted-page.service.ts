import type { ShopperBrowser } from '../../connectors/connector.ts';
import { CARD_BRANDS, checkCardExpiry, type CardBrand } from '../../lib/card.ts';
import { AppError } from '../../lib/errors.ts';
import { checkoutServiceDeps, closeCheckout } from '../../modules/checkouts/checkout.service.ts';
import { signedReturnUrl } from '../../modules/merchants/signing-secret.service.ts';
import type { Device } from '../../modules/payment-methods/eligibility.ts';
import { evaluateCheckoutPaymentMethods } from '../../modules/payment-methods/payment-method-settings.service.ts';
import type { PaymentAttempt } from '../../modules/payments/payment-flow.service.ts';
import { resolvePaymentMethod } from '../../modules/payments/payment-method-resolver.ts';
import { findPaymentById } from '../../modules/payments/payment.repository.ts';
import type { Payment } from '../../modules/payments/payment.types.ts';
import { saveCard } from '../../modules/payments/saved-payment-method.service.ts';
import type { Services } from '../../services.ts';
import type { CheckoutMethodOption, SavedCardOption } from '../pages/checkout-page.ts';
import type { CheckoutSelection } from './checkout-form.ts';
import { loadHostedCheckout, reloadHostedCheckout, type HostedCheckout } from './hosted-checkout.ts';
import { createHostedPageContentCache } from './hosted-page.repository.ts';
import { idPattern } from '../../lib/ids.ts';

const PAYMENT_ID = idPattern('pay');

/**
 * What the hosted payment page does, apart from HTTP: read the checkout behind its signed URL, say which
 * methods and saved cards it offers, pay with the shopper's choice (through the payment-method resolver the
 * Processor API uses too, `modules/payments/payment-method-resolver.ts`), save the card when asked, cancel,
 * expire a session past its deadline, and sign the way back to the merchant. The routes
 * (`http/routes/hosted-page.routes.ts`) parse the request and choose the page (`hosted-page-replies.ts`).
 */

export type HostedPageService = ReturnType<typeof createHostedPageService>;

/** What the page offers: the eligible methods, the saved cards still chargeable, whether "save card" shows. */
export type CheckoutOffer = {
  methods: CheckoutMethodOption[];
  savedCards: SavedCardOption[];
  offerSaveCard: boolean;
};

/** The shopper behind a payment request, as far as the payment needs to know. */
export type HostedShopper = { clientAddress: string; device: Device; browser: ShopperBrowser };

/** Logs what a shopper must not see (a warning with codes, never data). */
type WarningLog = { warn(details: Record<string, unknown>, message: string): void };

function knownBrands(brands: readonly string[] | undefined): CardBrand[] {
  return (brands ?? []).filter((brand): brand is CardBrand =>
    (CARD_BRANDS as readonly string[]).includes(brand),
  );
}

export function createHostedPageService(services: Services) {
  const { db, keyring, clock, config } = services;
  const checkoutDeps = checkoutServiceDeps(services);
  const returnDeps = { keyring, clock };
  const pageSources = {
    db,
    merchants: services.merchants,
    paymentMethodSettings: services.paymentMethodSettings,
    contents: createHostedPageContentCache(),
  };

  async function reload(context: HostedCheckout): Promise<HostedCheckout> {
    return (
      (await reloadHostedCheckout(pageSources, {
        basePath: context.basePath,
        checkoutId: context.checkout.id,
      })) ?? context
    );
  }

  /** "Save card" was ticked and the card went through: keep it (sealed) for this customer's next checkout. */
  async function saveCardIfAsked(
    log: WarningLog,
    context: HostedCheckout,
    selection: CheckoutSelection,
    attempt: PaymentAttempt,
  ): Promise<void> {
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
      log.warn(
        { checkoutId: context.checkout.id, code: (error as { code?: unknown }).code },
        'saving the card failed',
      );
    }
  }

  return {
    /** The checkout behind `/pay/{id}/{signature}`; undefined for a wrong signature or an unknown id. */
    load(checkoutId: string, signature: string): Promise<HostedCheckout | undefined> {
      return loadHostedCheckout(pageSources, keyring, checkoutId, signature);
    },

    /** The checkout read again after a change (the old one if it vanished). */
    reload,

    offerFor(context: HostedCheckout, device: Device): CheckoutOffer {
      const { checkout, order } = context;
      const { eligible } = evaluateCheckoutPaymentMethods(context, device, context.paymentMethodSettings);
      const methods: CheckoutMethodOption[] = eligible.map((setting) =>
        setting.method === 'card'
          ? { type: 'card', brands: knownBrands(setting.card_brands) }
          : { type: setting.method },
      );
      const cardSetting = eligible.find((setting) => setting.method === 'card');
      const canSave =
        checkout.allowSavePaymentMethods && order.customer !== null && context.savedCardsAllowed;
      // The saved cards came with the checkout (only when it allows them and the merchant vouched for the
      // customer, `customer.verified`); offer those still chargeable.
      const now = clock.now();
      const savedCards: SavedCardOption[] =
        canSave && order.customerVerified && cardSetting
          ? context.savedCards.filter(
              (card) =>
                checkCardExpiry({ month: card.expMonth, year: card.expYear }, now).ok &&
                (!cardSetting.card_brands || cardSetting.card_brands.includes(card.brand)),
            )
          : [];
      return { methods, savedCards, offerSaveCard: canSave };
    },

    /**
     * Pays with the shopper's choice; `unavailable` when a saved card may not be charged here. Coded errors
     * of the payment flow (and connector errors) are thrown for the caller to show.
     */
    async pay(
      log: WarningLog,
      context: HostedCheckout,
      selection: CheckoutSelection,
      expectedOrderVersion: number,
      shopper: HostedShopper,
    ): Promise<{ outcome: 'unavailable' } | { outcome: 'attempted'; attempt: PaymentAttempt }> {
      const { checkout, order } = context;
      // Saved cards only for a customer the merchant vouched for: an e-mail address alone is what anyone can type.
      const payer = {
        customer: order.customer,
        savedCardsAllowed:
          checkout.allowSavePaymentMethods && context.savedCardsAllowed && order.customerVerified,
      };
      const resolved = await resolvePaymentMethod(
        { db, keyring, clock },
        context.scope,
        selection,
        async () => payer,
      );
      if (!resolved) return { outcome: 'unavailable' };
      const attempt = await services.payments.payCheckout({
        scope: context.scope,
        checkoutId: checkout.id,
        channel: 'hosted_page',
        method: resolved.method,
        savedPaymentMethodId: resolved.savedCard?.id ?? null,
        expectedOrderVersion,
        clientAddress: shopper.clientAddress,
        device: shopper.device,
        returnUrl: (paymentId) => `${config.publicUrl}${context.basePath}/return/${paymentId}`,
        shopper: shopper.browser,
      });
      await saveCardIfAsked(log, context, selection, attempt);
      return { outcome: 'attempted', attempt };
    },

    /** The payment a 3-D Secure / wallet return names, if it is one of this checkout's. */
    async findReturningPayment(context: HostedCheckout, paymentId: string): Promise<Payment | undefined> {
      if (!PAYMENT_ID.test(paymentId)) return undefined;
      const payment = await findPaymentById(db, paymentId);
      return payment?.checkoutId === context.checkout.id ? payment : undefined;
    },

    /** Back from 3-D Secure / a wallet: the processor finishes the action with what it appended to the URL. */
    completeAction(
      context: HostedCheckout,
      payment: Payment,
      returnParameters: Record<string, string>,
    ): Promise<PaymentAttempt> {
      return services.payments.completeAction(context.scope, payment.id, returnParameters);
    },

    /** The attempt a session waits for, if any. */
    async findPayment(paymentId: string | null): Promise<Payment | undefined> {
      return paymentId ? findPaymentById(db, paymentId) : undefined;
    },

    /**
     * An OPEN session past its deadline is expired now (the sweep would within seconds), so the page, the
     * events and the order agree; a concurrent close or an attempt in flight leaves it to the sweep.
     */
    async expireIfDue(context: HostedCheckout): Promise<HostedCheckout> {
      if (context.checkout.status !== 'OPEN' || context.checkout.expiresAt > clock.now()) return context;
      await db
        .transaction((tx) =>
          closeCheckout(tx, checkoutDeps, context.scope, context.checkout.id, 'EXPIRED', {
            action: 'expire',
          }),
        )
        .catch((error: unknown) => {
          if (!(error instanceof AppError)) throw error;
        });
      return reload(context);
    },

    /** Cancels the session; false when it could not be (closed or paid meanwhile, or an attempt in flight). */
    async cancel(context: HostedCheckout): Promise<boolean> {
      try {
        await db.transaction((tx) =>
          closeCheckout(tx, checkoutDeps, context.scope, context.checkout.id, 'CANCELED', {
            action: 'cancel',
          }),
        );
        return true;
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return false;
      }
    },

    /** The merchant's URL for this outcome, signed now, of the checkout read again. */
    async signedReturnUrl(context: HostedCheckout, outcome: 'completed' | 'canceled'): Promise<string> {
      return signedReturnUrl(db, returnDeps, await reload(context), outcome);
    },

    /** The signed merchant URL for a closed session: completed, or canceled (also for an expired one). */
    storeUrl(context: HostedCheckout): Promise<string> {
      return signedReturnUrl(
        db,
        returnDeps,
        context,
        context.checkout.status === 'COMPLETED' ? 'completed' : 'canceled',
      );
    },
  };
}
