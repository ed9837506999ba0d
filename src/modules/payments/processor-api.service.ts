import type { CardDetails, PaymentMethodData } from '../../connectors/connector.ts';
import type { Database } from '../../db/client.ts';
import { checkCardExpiry } from '../../lib/card.ts';
import type { Clock } from '../../lib/clock.ts';
import { notFoundError, validationError, type FieldError } from '../../lib/errors.ts';
import type { Keyring } from '../../lib/keyring.ts';
import { checkoutUrlSignature } from '../checkouts/checkout.tokens.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import { findOrderByCheckoutId } from '../orders/order.service.ts';
import type { Device } from '../payment-methods/eligibility.ts';
import { paymentIdForIdempotencyKey, type PaymentAttempt, type PaymentFlow } from './payment-flow.service.ts';
import type { CreatePaymentBody } from './payment.schemas.ts';
import { checkCardInput } from './card-input.ts';
import {
  resolvePaymentMethod,
  type OrderPayer,
  type PaymentMethodChoice,
} from './payment-method-resolver.ts';

/**
 * The Processor API (the callbacks flow's no-redirect alternative): a merchant's server pays an OPEN checkout with card
 * data, a saved card, an invoice or a wallet, and gets the outcome in the response. It runs the same payment
 * pipeline as the hosted page (`PaymentFlow.payCheckout`), so "a session is paid at most once" holds across
 * both channels.
 *
 * Card data is checked here field by field (pointers under `/payment_method/card/…`) and then lives only in
 * memory for the call: it is never stored, logged or echoed (the payment keeps brand, last 4, expiry and a
 * keyed fingerprint).
 */

export type ProcessorApiDeps = {
  db: Database;
  clock: Clock;
  keyring: Keyring;
  publicUrl: string;
  payments: Pick<PaymentFlow, 'payCheckout'>;
};

const CARD_POINTER = '/payment_method/card';

/** Checks raw card input (`card-input.ts`); throws `validation_failed` with one error per bad field. */
export function checkApiCardInput(
  card: NonNullable<CreatePaymentBody['payment_method']['card']>,
  now: Date,
): CardDetails {
  const checked = checkCardInput(
    {
      number: card.number,
      expiry: { month: card.exp_month, year: card.exp_year },
      cvc: card.cvc,
      holderName: card.holder_name,
    },
    now,
  );
  if (checked.ok) return checked.card;
  const { number, expiry, cvc, holderName } = checked.problems;
  const errors: FieldError[] = [];
  if (number) {
    errors.push({
      pointer: `${CARD_POINTER}/number`,
      code: 'invalid_number',
      message:
        number === 'malformed' ? 'Enter a card number of 12–19 digits' : 'The card number is not valid',
    });
  }
  if (expiry) {
    const field =
      expiry.reason === 'invalid_month' || expiry.reason === 'invalid_format' ? 'exp_month' : 'exp_year';
    errors.push({ pointer: `${CARD_POINTER}/${field}`, code: expiry.reason, message: expiry.message });
  }
  if (cvc) errors.push({ pointer: `${CARD_POINTER}/cvc`, code: cvc.reason, message: cvc.message });
  if (holderName) {
    errors.push({
      pointer: `${CARD_POINTER}/holder_name`,
      code: 'required',
      message: 'Enter the name on the card',
    });
  }
  throw validationError(errors);
}

/** Exactly one way to pay: card data, a saved card, an invoice or a wallet. */
function checkMethodShape(method: CreatePaymentBody['payment_method']): FieldError[] {
  const errors: FieldError[] = [];
  const type = method.type ?? (method.saved_payment_method_id !== undefined ? 'card' : undefined);
  if (type === undefined) {
    errors.push({
      pointer: '/payment_method/type',
      code: 'required',
      message: 'Give a type (card, invoice, wallet) or a saved_payment_method_id',
    });
  } else if (type === 'card') {
    if (method.card === undefined && method.saved_payment_method_id === undefined) {
      errors.push({
        pointer: CARD_POINTER,
        code: 'required',
        message: 'Give the card data or a saved_payment_method_id',
      });
    }
    if (method.card !== undefined && method.saved_payment_method_id !== undefined) {
      errors.push({
        pointer: '/payment_method/saved_payment_method_id',
        code: 'not_allowed',
        message: 'Give either card data or a saved card, not both',
      });
    }
  } else {
    if (method.card !== undefined)
      errors.push({
        pointer: CARD_POINTER,
        code: 'not_allowed',
        message: `A ${type} payment takes no card data`,
      });
    if (method.saved_payment_method_id !== undefined) {
      errors.push({
        pointer: '/payment_method/saved_payment_method_id',
        code: 'not_allowed',
        message: `A ${type} payment takes no saved card`,
      });
    }
  }
  return errors;
}

export function createProcessorApi(deps: ProcessorApiDeps) {
  /** The method data for the connector (and the saved card charged, if any). */
  async function resolveMethod(
    scope: Scope,
    body: CreatePaymentBody,
  ): Promise<{ method: PaymentMethodData; savedPaymentMethodId: string | null }> {
    const shapeErrors = checkMethodShape(body.payment_method);
    if (shapeErrors.length > 0) throw validationError(shapeErrors);
    const { payment_method: input } = body;
    const now = deps.clock.now();
    const choice: PaymentMethodChoice = input.card
      ? { type: 'card', card: checkApiCardInput(input.card, now) }
      : input.type === 'wallet' || input.type === 'invoice'
        ? { type: input.type }
        : { type: 'saved_card', savedCardId: input.saved_payment_method_id! };
    // Invoices and saved cards belong to the order's customer.
    const payerOf = async (): Promise<OrderPayer> => {
      const order = await findOrderByCheckoutId(deps.db, scope, body.checkout_id);
      if (!order) throw notFoundError('checkout', body.checkout_id);
      return { customer: order.customer, savedCardsAllowed: true };
    };
    const resolved = await resolvePaymentMethod(deps, scope, choice, payerOf);
    // Only a saved card can be unresolvable: not this customer's, or removed.
    if (!resolved) throw notFoundError('saved payment method', input.saved_payment_method_id ?? '');
    const { method, savedCard } = resolved;
    if (savedCard && method.type === 'card') {
      const expiry = checkCardExpiry({ month: method.card.expMonth, year: method.card.expYear }, now);
      if (!expiry.ok) {
        throw validationError([
          {
            pointer: '/payment_method/saved_payment_method_id',
            code: 'expired',
            message: 'This saved card has expired',
          },
        ]);
      }
    }
    return { method, savedPaymentMethodId: savedCard?.id ?? null };
  }

  return {
    /**
     * Pays the checkout and answers with the outcome. With an Idempotency-Key the payment id is derived from
     * it, so a retry after a crash resumes the same payment (and the processor, keyed by that id, charges once).
     */
    async pay(
      scope: Scope,
      body: CreatePaymentBody,
      options: { idempotencyKey: string | undefined; device: Device },
    ): Promise<PaymentAttempt> {
      const { method, savedPaymentMethodId } = await resolveMethod(scope, body);
      const checkoutId = body.checkout_id;
      const signature = checkoutUrlSignature(deps.keyring, checkoutId);
      return deps.payments.payCheckout({
        scope,
        checkoutId,
        paymentId:
          options.idempotencyKey === undefined
            ? undefined
            : paymentIdForIdempotencyKey(scope, options.idempotencyKey),
        channel: 'api',
        method,
        device: options.device,
        savedPaymentMethodId,
        // 3-D Secure and wallets come back to the hosted page's return route, which settles and shows the result.
        returnUrl: (paymentId) => `${deps.publicUrl}/pay/${checkoutId}/${signature}/return/${paymentId}`,
      });
    },
  };
}
