import type { CardDetails } from '../../connectors/connector.ts';
import {
  checkCardExpiry,
  checkCvc,
  detectCardBrand,
  normalizeCardNumber,
  passesLuhn,
  type CardCvcCheck,
  type CardExpiryCheck,
} from '../../lib/card.ts';

/**
 * The one check of card data a shopper or a merchant's server typed: the hosted page's form
 * (`http/hosted/checkout-form.ts`) and the Processor API (`processor-api.service.ts`) both call it and only
 * word its problems their own way (field error codes on the page, JSON pointers and messages in the API).
 *
 * Invariant: the card number and CVC leave only inside `card`, for the one connector call.
 */

export type CardInput = {
  number: string;
  /** `MM/YY`-style text (the page) or month and year (the API). */
  expiry: string | { month: number; year: number };
  cvc: string;
  holderName: string;
};

export type CardInputProblems = {
  /** `malformed`: not 12–19 digits once spaces and dashes are removed; `failed_luhn`: the check digit is wrong. */
  number?: 'malformed' | 'failed_luhn';
  expiry?: Extract<CardExpiryCheck, { ok: false }>;
  cvc?: Extract<CardCvcCheck, { ok: false }>;
  holderName?: 'required';
};

export type CardInputCheck = { ok: true; card: CardDetails } | { ok: false; problems: CardInputProblems };

export function checkCardInput(input: CardInput, now: Date): CardInputCheck {
  const problems: CardInputProblems = {};
  const number = normalizeCardNumber(input.number);
  if (number === null) problems.number = 'malformed';
  else if (!passesLuhn(number)) problems.number = 'failed_luhn';
  const expiry = checkCardExpiry(input.expiry, now);
  if (!expiry.ok) problems.expiry = expiry;
  const cvc = checkCvc(input.cvc, detectCardBrand(number ?? ''));
  if (!cvc.ok) problems.cvc = cvc;
  if (input.holderName.trim() === '') problems.holderName = 'required';
  if (Object.keys(problems).length > 0 || number === null || !expiry.ok) return { ok: false, problems };
  return {
    ok: true,
    card: {
      number,
      expMonth: expiry.month,
      expYear: expiry.year,
      cvc: input.cvc.trim(),
      holderName: input.holderName.trim(),
    },
  };
}
