import type { CardDetails, PaymentMethodData } from '../../connectors/connector.ts';
import type { Database } from '../../db/client.ts';
import {
  CARD_EXPIRY_MAX_YEARS_AHEAD,
  checkCardExpiry,
  cvcLengthFor,
  detectCardBrand,
  normalizeCardNumber,
  type CardExpiryProblem,
} from '../../lib/card.ts';
import type { Clock } from '../../lib/clock.ts';
import { notFoundError, validationError, type FieldError } from '../../lib/errors.ts';
import type { Keyring } from '../../lib/keyring.ts';
import { checkoutUrlSignature } from '../checkouts/checkout.tokens.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import { findOrderByCheckoutId } from '../orders/order.service.ts';
import type { Device } from '../payment-methods/eligibility.ts';
import {
  paymentIdForIdempotencyKey,
  type AttemptRecord,
  type PaymentAttempt,
  type PaymentFlow,
} from './payment-flow.service.ts';
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

const EXPIRY_MESSAGES: Record<CardExpiryProblem, (card: { exp_month: number; exp_year: number }) => string> =
  {
    invalid_format: (card) => `must be a whole month number; got ${card.exp_month}`,
    invalid_month: (card) => `must be between 1 and 12; got ${card.exp_month}`,
    invalid_year: (card) =>
      `must be a year at most ${CARD_EXPIRY_MAX_YEARS_AHEAD} years ahead (four digits, or two); got ${card.exp_year}`,
    expired: (card) => `must not be in the past: the card expired (${card.exp_month}/${card.exp_year})`,
  };

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
  // The API words card problems in the one field style (docs/api-conventions.md §9); the hosted page words
  // the same problems as shopper sentences, translated, from its own dictionary.
  const { number, expiry, cvc, holderName } = checked.problems;
  const errors: FieldError[] = [];
  if (number) {
    errors.push({
      pointer: `${CARD_POINTER}/number`,
      code: 'invalid_card_number',
      message:
        number === 'malformed'
          ? 'must be a card number of 12–19 digits (spaces and dashes allowed)'
          : 'is not a valid card number (check digit)',
    });
  }
  if (expiry) {
    const field =
      expiry.reason === 'invalid_month' || expiry.reason === 'invalid_format' ? 'exp_month' : 'exp_year';
    errors.push({
      pointer: `${CARD_POINTER}/${field}`,
      code: expiry.reason === 'expired' ? 'card_expired' : 'invalid_expiry',
      message: EXPIRY_MESSAGES[expiry.reason](card),
    });
  }
  if (cvc) {
    const digits = cvcLengthFor(detectCardBrand(normalizeCardNumber(card.number) ?? ''));
    errors.push({
      pointer: `${CARD_POINTER}/cvc`,
      code: 'invalid_cvc',
      message: `must be ${digits} digits for this card`,
    });
  }
  if (holderName) {
    errors.push({ pointer: `${CARD_POINTER}/holder_name`, code: 'required', message: 'is required' });
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
      message: 'is required (card, invoice or wallet) unless saved_payment_method_id is given',
    });
  } else if (type === 'card') {
    if (method.card === undefined && method.saved_payment_method_id === undefined) {
      errors.push({
        pointer: CARD_POINTER,
        code: 'required',
        message: 'is required for a card payment unless saved_payment_method_id is given',
      });
    }
    if (method.card !== undefined && method.saved_payment_method_id !== undefined) {
      errors.push({
        pointer: '/payment_method/saved_payment_method_id',
        code: 'not_allowed',
        message: 'must not be sent with payment_method.card: send one or the other',
      });
    }
  } else {
    if (method.card !== undefined)
      errors.push({
        pointer: CARD_POINTER,
        code: 'not_allowed',
        message: `must not be sent for a ${type} payment`,
      });
    if (method.saved_payment_method_id !== undefined) {
      errors.push({
        pointer: '/payment_method/saved_payment_method_id',
        code: 'not_allowed',
        message: `must not be sent for a ${type} payment`,
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
            code: 'card_expired',
            message: 'is a saved card that has expired',
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
      options: { idempotencyKey: string | undefined; device: Device; record?: AttemptRecord | undefined },
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
            : paymentIdForIdempotencyKey(scope, checkoutId, options.idempotencyKey),
        channel: 'api',
        method,
        device: options.device,
        savedPaymentMethodId,
        metadata: body.metadata,
        record: options.record,
        // 3-D Secure and wallets come back to the hosted page's return route, which settles and shows the result.
        returnUrl: (paymentId) => `${deps.publicUrl}/pay/${checkoutId}/${signature}/return/${paymentId}`,
      });
    },
  };
}
