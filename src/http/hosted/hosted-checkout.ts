import type { Queryable } from '../../db/client.ts';
import type { Keyring } from '../../lib/keyring.ts';
import { findCheckoutScope } from '../../modules/checkouts/checkout-lookup.repository.ts';
import { findCheckoutWithOrder } from '../../modules/checkouts/checkout.service.ts';
import { verifyCheckoutUrlSignature } from '../../modules/checkouts/checkout.tokens.ts';
import type { Checkout, Scope } from '../../modules/checkouts/checkout.types.ts';
import { findMerchantById } from '../../modules/merchants/merchant.repository.ts';
import type { Merchant } from '../../modules/merchants/merchant.types.ts';
import type { Order } from '../../modules/orders/order.types.ts';
import type { Payment } from '../../modules/payments/payment.types.ts';
import type { OrderSummaryView } from '../pages/checkout-page.ts';
import type { MerchantBranding } from '../pages/page-layout.ts';
import type { CheckoutGlobalError } from '../pages/page-locale.ts';
import { ORDER_VERIFICATION_DECLINE_CODE } from '../../modules/callbacks/callback.types.ts';
import { redirectOrigins } from './page-reply.ts';

/** A checkout as the hosted page sees it: reached through its signed URL, with its order and merchant. */
export type HostedCheckout = {
  scope: Scope;
  checkout: Checkout;
  order: Order;
  merchant: Merchant;
  /** `/pay/{checkout_id}/{signature}`: the page's own path, the base of its form actions. */
  basePath: string;
};

/**
 * The checkout behind `/pay/{id}/{signature}`, or undefined for a wrong signature or an unknown id (the
 * caller answers both with the same 404). The signature is checked first, in constant time, so the
 * database is not even asked about ids that come without a valid signature.
 */
export async function loadHostedCheckout(
  db: Queryable,
  keyring: Keyring,
  checkoutId: string,
  signature: string,
): Promise<HostedCheckout | undefined> {
  if (typeof checkoutId !== 'string' || !/^chk_[0-9a-f]{32}$/.test(checkoutId)) return undefined;
  if (!verifyCheckoutUrlSignature(keyring, checkoutId, signature)) return undefined;
  const scope = await findCheckoutScope(db, checkoutId);
  if (!scope) return undefined;
  return reloadHostedCheckout(db, { scope, basePath: `/pay/${checkoutId}/${signature}`, checkoutId });
}

export async function reloadHostedCheckout(
  db: Queryable,
  context: { scope: Scope; basePath: string; checkoutId: string },
): Promise<HostedCheckout | undefined> {
  const found = await findCheckoutWithOrder(db, context.scope, context.checkoutId);
  const merchant = found && (await findMerchantById(db, context.scope.merchantId));
  if (!found || !merchant) return undefined;
  return {
    scope: context.scope,
    basePath: context.basePath,
    checkout: found.checkout,
    order: found.order,
    merchant,
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

/**
 * Where the page's forms may end up after redirects: the merchant's completed and canceled URLs, and the
 * origins of its ok / fail / open callbacks (a callback may answer with a redirect, typically to its own site).
 */
export function checkoutFormOrigins(checkout: Checkout): string[] {
  const { ok, fail, open } = checkout.callbacks;
  const callbackUrls = [ok, fail, open].filter((url): url is string => typeof url === 'string');
  return [
    ...new Set(
      redirectOrigins([checkout.completedRedirectUrl, checkout.canceledRedirectUrl, ...callbackUrls]),
    ),
  ];
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
