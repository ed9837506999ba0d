import type { CardDetails } from '../../connectors/connector.ts';
import { checkCardInput } from '../../modules/payments/card-input.ts';
import {
  CHECKOUT_FORM_FIELDS,
  type CheckoutFieldErrors,
  type CheckoutFormValues,
} from '../pages/checkout-page.ts';
import type { PaymentMethodType } from '../pages/page-locale.ts';
import { idPattern } from '../../lib/ids.ts';

/**
 * The payment page's form (application/x-www-form-urlencoded) → what to pay with, checked on the server
 * whatever checkout.js did, by the card check the API uses too (`modules/payments/card-input.ts`): Luhn,
 * expiry (MM/YY, MM / YY, MMYY, MM/YYYY) and CVC length for the brand.
 *
 * Invariant: the card number and CVC are returned only inside `selection.card`, for the one connector call;
 * `values` (echoed into a re-rendered page) never holds them.
 */

export type CheckoutSelection =
  | { type: 'card'; card: CardDetails; save: boolean }
  | { type: 'saved_card'; savedCardId: string }
  | { type: 'invoice' }
  | { type: 'wallet' };

export type ParsedCheckoutForm =
  | { ok: true; selection: CheckoutSelection; values: CheckoutFormValues }
  | {
      ok: false;
      fieldErrors: CheckoutFieldErrors;
      values: CheckoutFormValues;
      selectedMethod?: PaymentMethodType;
      selectedSavedCardId?: string;
    };

const METHODS: readonly PaymentMethodType[] = ['card', 'invoice', 'wallet'];
const SAVED_CARD_ID = idPattern('pm');
const MAX_NAME_LENGTH = 100;

/** One value of a form field: a repeated field counts as its first value; anything else is empty. */
export function formField(body: unknown, name: string): string {
  if (typeof body !== 'object' || body === null) return '';
  const value = (body as Record<string, unknown>)[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : '';
}

export function parseCheckoutForm(body: unknown, now: Date): ParsedCheckoutForm {
  const method = formField(body, CHECKOUT_FORM_FIELDS.paymentMethod).trim();
  const name = formField(body, CHECKOUT_FORM_FIELDS.cardName).trim();
  const expiry = formField(body, CHECKOUT_FORM_FIELDS.cardExpiry);
  const save = formField(body, CHECKOUT_FORM_FIELDS.saveCard) !== '';
  const values: CheckoutFormValues = { cardName: name, cardExpiry: expiry.trim(), saveCard: save };

  if (SAVED_CARD_ID.test(method))
    return { ok: true, selection: { type: 'saved_card', savedCardId: method }, values };
  if (!(METHODS as readonly string[]).includes(method)) {
    return { ok: false, fieldErrors: { paymentMethod: method ? 'unavailable' : 'required' }, values };
  }
  if (method === 'invoice' || method === 'wallet') return { ok: true, selection: { type: method }, values };

  const rawNumber = formField(body, CHECKOUT_FORM_FIELDS.cardNumber);
  const cvc = formField(body, CHECKOUT_FORM_FIELDS.cardCvc).trim();
  const checked = checkCardInput({ number: rawNumber, expiry, cvc, holderName: name }, now);
  const problems = checked.ok ? {} : checked.problems;

  // An empty field is `required`; otherwise the shared check's problem, in the page's words.
  const fieldErrors: CheckoutFieldErrors = {};
  if (!name) fieldErrors.cardName = 'required';
  else if (name.length > MAX_NAME_LENGTH) fieldErrors.cardName = 'too_long';
  if (!rawNumber.trim()) fieldErrors.cardNumber = 'required';
  else if (problems.number) fieldErrors.cardNumber = 'invalid';
  if (!expiry.trim()) fieldErrors.cardExpiry = 'required';
  else if (problems.expiry) fieldErrors.cardExpiry = problems.expiry.reason;
  if (!cvc) fieldErrors.cardCvc = 'required';
  else if (problems.cvc) fieldErrors.cardCvc = 'invalid';

  if (Object.keys(fieldErrors).length > 0 || !checked.ok) {
    return { ok: false, fieldErrors, values, selectedMethod: 'card' };
  }
  return { ok: true, selection: { type: 'card', card: checked.card, save }, values };
}
