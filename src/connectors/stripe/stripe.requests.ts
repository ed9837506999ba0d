/**
 * What the Stripe connector sends: the checks a request passes before anything leaves, and the
 * PaymentIntent it creates (`POST /v1/payment_intents` with `confirm=true`, the card as `payment_method_data`,
 * `capture_method=manual`, `return_url` for 3-D Secure and `metadata[kassa_payment_id]`).
 */
import type Stripe from 'stripe';

import { normalizeCardNumber } from '../../lib/card.ts';
import { ConnectorError, type AuthorizeRequest } from '../connector.ts';
import { toStripeCurrency } from './stripe.mapping.ts';

/** The metadata key that carries Kassa's payment id on every PaymentIntent (webhooks and lookups read it). */
export const STRIPE_METADATA_PAYMENT_ID = 'kassa_payment_id';

const INTENT_ID = /^pi_[A-Za-z0-9]{1,250}$/;
const PAYMENT_ID = /^[A-Za-z0-9_-]{1,200}$/;

/** A raw card inside `payment_method_data`: accepted by Stripe on enabled accounts, absent from the library's types. */
type RawCardPaymentMethodData = {
  type: 'card';
  card: { number: string; exp_month: number; exp_year: number; cvc?: string };
  billing_details?: { name?: string };
};

const invalid = (connectorId: string, message: string) =>
  new ConnectorError('invalid_request', message, { connectorId });

/** A PaymentIntent id, before it goes into a URL path. */
export function checkIntentId(reference: string, connectorId: string): void {
  if (!INTENT_ID.test(reference)) throw invalid(connectorId, 'Not a Stripe PaymentIntent id');
}

/** A Kassa payment id, before it goes into a search query. */
export function checkPaymentId(paymentId: string, connectorId: string): void {
  if (!PAYMENT_ID.test(paymentId)) throw invalid(connectorId, 'Not a Kassa payment id');
}

export function checkAmount(amount: number, connectorId: string): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw invalid(connectorId, 'The amount must be a positive integer of minor units');
  }
}

/** The create-and-confirm parameters of an authorization (a sale sends the very same ones). */
export function paymentIntentParams(
  request: AuthorizeRequest,
  account: { connectorId: string; livemode: boolean },
): Stripe.PaymentIntentCreateParams {
  const { connectorId } = account;
  checkAmount(request.amount, connectorId);
  if (!/^[A-Z]{3}$/.test(request.currency)) {
    throw invalid(connectorId, 'The currency must be an upper-case ISO 4217 code');
  }
  if (request.method.type !== 'card') {
    throw invalid(connectorId, `The Stripe connector takes card payments only, not ${request.method.type}`);
  }
  if (request.livemode !== account.livemode) {
    throw invalid(connectorId, 'The payment and the Stripe account are not in the same mode');
  }
  const { card } = request.method;
  if (card.storedCredential) {
    throw invalid(connectorId, 'Saved cards are charged through the sandbox only, not through Stripe');
  }
  const number = normalizeCardNumber(card.number);
  if (!number) throw invalid(connectorId, 'The card number is not a card number');
  const paymentMethodData: RawCardPaymentMethodData = {
    type: 'card',
    card: { number, exp_month: card.expMonth, exp_year: card.expYear, cvc: card.cvc },
    ...(card.holderName ? { billing_details: { name: card.holderName } } : {}),
  };
  return {
    amount: request.amount,
    currency: toStripeCurrency(request.currency),
    confirm: true,
    capture_method: 'manual',
    // The library types leave raw card fields out (they are for enabled accounts only); the API takes them.
    payment_method_data: paymentMethodData as unknown as Stripe.PaymentIntentCreateParams.PaymentMethodData,
    return_url: request.returnUrl,
    metadata: { [STRIPE_METADATA_PAYMENT_ID]: request.paymentId },
  };
}
