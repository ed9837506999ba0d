import type { FastifyRequest } from 'fastify';
import type { Keyring } from '../../lib/keyring.ts';
import { verifyCheckoutUrlSignature } from '../../modules/checkouts/checkout.tokens.ts';
import type { Checkout } from '../../modules/checkouts/checkout.types.ts';
import type { Merchant } from '../../modules/merchants/merchant.types.ts';
import type { Order } from '../../modules/orders/order.types.ts';
import type { Payment } from '../../modules/payments/payment.types.ts';
import type { OrderSummaryView } from '../pages/checkout-page.ts';
import type { MerchantBranding, PageShellModel } from '../pages/page-layout.ts';
import type { CheckoutGlobalError } from '../pages/page-locale.ts';
import { ORDER_VERIFICATION_DECLINE_CODE } from '../../modules/callbacks/callback.types.ts';
import {
  findHostedPageSnapshot,
  type HostedPageSnapshot,
  type HostedPageSources,
} from './hosted-page.repository.ts';
import { redirectOrigins } from './page-reply.ts';
import { idPattern } from '../../lib/ids.ts';

const CHECKOUT_ID = idPattern('chk');

/**
 * A checkout as the hosted page sees it: reached through its signed URL, with its order, its merchant, the
 * merchant's payment-method settings and the customer's saved cards (`hosted-page.repository.ts`).
 */
export type HostedCheckout = HostedPageSnapshot & {
  /** `/pay/{checkout_id}/{signature}`: the page's own path, the base of its form actions. */
  basePath: string;
};

/**
 * The checkout behind `/pay/{id}/{signature}`, or undefined for a wrong signature or an unknown id (the
 * caller answers both with the same 404). The signature is checked first, in constant time, so the
 * database is not even asked about ids that come without a valid signature.
 */
export async function loadHostedCheckout(
  sources: HostedPageSources,
  keyring: Keyring,
  checkoutId: string,
  signature: string,
): Promise<HostedCheckout | undefined> {
  if (typeof checkoutId !== 'string' || !CHECKOUT_ID.test(checkoutId)) return undefined;
  if (!verifyCheckoutUrlSignature(keyring, checkoutId, signature)) return undefined;
  return reloadHostedCheckout(sources, { basePath: `/pay/${checkoutId}/${signature}`, checkoutId });
}

/** The checkout read again (after a change), for a caller that already checked its signature. */
export async function reloadHostedCheckout(
  sources: HostedPageSources,
  context: { basePath: string; checkoutId: string },
): Promise<HostedCheckout | undefined> {
  const snapshot = await findHostedPageSnapshot(sources, context.checkoutId);
  return snapshot && { ...snapshot, basePath: context.basePath };
}

/**
 * The language sources of a checkout's pages: its own locale, else the shopper's Accept-Language, then the
 * merchant's default; money formatted for the order's country.
 */
export function pageLocaleFor(
  request: FastifyRequest,
  context: Pick<HostedCheckout, 'checkout' | 'order' | 'merchant'>,
): Pick<PageShellModel, 'locale' | 'localeHints'> {
  const acceptLanguage = request.headers['accept-language'];
  return {
    locale: context.checkout.localeIsDefault ? null : context.checkout.locale,
    localeHints: {
      ...(typeof acceptLanguage === 'string' ? { acceptLanguage } : {}),
      merchantDefault: context.merchant.defaultLocale,
      country: context.order.countryCode,
    },
  };
}

export function merchantBranding(merchant: Merchant): MerchantBranding {
  const branding: MerchantBranding = { displayName: merchant.displayName?.trim() || merchant.name };
  if (merchant.logoUrl) branding.logoUrl = merchant.logoUrl;
  if (merchant.primaryColor) branding.primaryColor = merchant.primaryColor;
  return branding;
}

export function orderSummary(order: Order): OrderSummaryView {
  return {
    merchantOrderId: order.merchantOrderId,
    currency: order.currency,
    products: order.products.map((product) => ({
      name: product.name,
      quantity: product.quantity,
      unitPrice: product.unit_price,
    })),
    subtotal: order.subtotalAmount,
    discounts: order.discounts,
    taxes: order.taxes,
    shipping: order.shippingAmount,
    total: order.totalAmount,
  };
}

const MAX_FORM_ORIGIN_ENTRIES = 1000;
const formOriginsByUrls = new Map<string, readonly string[]>();

/**
 * Where the page's forms may end up after redirects: the merchant's completed and canceled URLs, and the
 * origins of its ok / fail / open callbacks (a callback may answer with a redirect, typically to its own site).
 */
export function checkoutFormOrigins(checkout: Checkout): string[] {
  const { ok, fail, open } = checkout.callbacks;
  const callbackUrls = [ok, fail, open].filter((url): url is string => typeof url === 'string');
  const urls = [checkout.completedRedirectUrl, checkout.canceledRedirectUrl, ...callbackUrls];
  // A merchant sends the same few URLs with every checkout: parse them once (bounded, cleared when full).
  const key = JSON.stringify(urls);
  let origins = formOriginsByUrls.get(key);
  if (origins === undefined) {
    origins = [...new Set(redirectOrigins(urls))];
    if (formOriginsByUrls.size >= MAX_FORM_ORIGIN_ENTRIES) formOriginsByUrls.clear();
    formOriginsByUrls.set(key, origins);
  }
  return [...origins];
}

/** The message above the form after an attempt that did not go through. */
export function globalErrorFor(payment: Payment): CheckoutGlobalError {
  if (payment.status === 'CANCELED')
    return payment.method === 'wallet' ? 'wallet_declined' : 'authentication_failed';
  switch (payment.declineCode) {
    case null:
      // Rejected without a decline: the processor failed (or could not be reached) and nothing was charged.
      return 'processor_error';
    case 'insufficient_funds':
      return 'insufficient_funds';
    case 'authentication_failed':
      return 'authentication_failed';
    case ORDER_VERIFICATION_DECLINE_CODE:
      return 'verification_refused';
    default:
      return payment.method === 'wallet' ? 'wallet_declined' : 'declined';
  }
}
