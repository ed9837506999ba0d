/**
 * Money helpers: display with `Intl`, and the request schemas every amount and currency goes through.
 *
 * Invariant: an amount is a safe integer of minor units travelling with an ISO 4217 code. Nothing here
 * converts to a float: the decimal form is built from the integer's digits, and `Intl.NumberFormat` is handed
 * that decimal *string* (exact, per ECMA-402 `format(string)`), so 9007199254740991 cents prints as
 * 90,071,992,547,409.91 and not …409.9.
 */
import { currencyFormat } from './intl-cache.ts';
import { z } from 'zod';
import { isCountryCode } from './countries.ts';
import { currencyExponent, isCurrencyCode } from './currencies.ts';

/**
 * The exact decimal form of `amountMinor` in `currency`'s major unit: 1234 USD → "12.34", 1234 JPY → "1234",
 * 5 KWD → "0.005", -150 EUR → "-1.50". Throws for a non-safe-integer amount or an unknown currency.
 */
export function toDecimalString(amountMinor: number, currency: string): string {
  if (!Number.isSafeInteger(amountMinor)) {
    throw new RangeError(`An amount in minor units must be a safe integer, got ${String(amountMinor)}`);
  }
  const exponent = currencyExponent(currency);
  const value = BigInt(amountMinor);
  const digits = (value < 0n ? -value : value).toString().padStart(exponent + 1, '0');
  const sign = value < 0n ? '-' : '';
  if (exponent === 0) return `${sign}${digits}`;
  const split = digits.length - exponent;
  return `${sign}${digits.slice(0, split)}.${digits.slice(split)}`;
}

/**
 * `amountMinor` formatted for `locale` (BCP 47) with exactly the ISO 4217 number of decimals:
 * (1234, 'JPY', 'ja-JP') → "￥1,234"; (1234, 'USD', 'en-US') → "$12.34"; (1234, 'KWD', 'en') → "KWD 1.234".
 * Setting both minimum and maximum fraction digits overrides CLDR's own idea of the currency's decimals.
 */
export function formatMoney(amountMinor: number, currency: string, locale: string): string {
  const decimal = toDecimalString(amountMinor, currency) as `${number}`;
  const exponent = currencyExponent(currency);
  return currencyFormat(locale, currency, exponent).format(decimal);
}

/** Names what a client sent, for messages: `the string "10.50"`, `NaN`, `null`, `an array`. */
function describeInput(input: unknown): string {
  if (typeof input === 'string') return `the string ${JSON.stringify(input)}`;
  if (typeof input === 'number' || typeof input === 'boolean' || typeof input === 'bigint')
    return String(input);
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  return `a value of type ${typeof input}`;
}

const AMOUNT_DESCRIPTION =
  'Amount in minor units of the currency, as a JSON integer (ISO 4217 exponent: 1050 is 10.50 USD, 1050 JPY, 1.050 KWD)';

/** The shared body of both amount schemas: a JSON number that is a safe integer ≥ `minimum`, never coerced. */
function buildMinorAmountSchema(minimum: 0 | 1) {
  return z
    .number({
      error: (issue) =>
        issue.input === undefined
          ? 'is required'
          : `must be a JSON number of minor units (e.g. 1050 for 10.50 USD), got ${describeInput(issue.input)}`,
    })
    .int({
      // Zod's int check also refuses integers beyond ±2^53 − 1; tell the two cases apart.
      error: (issue) =>
        Number.isInteger(issue.input)
          ? `must be at most ${Number.MAX_SAFE_INTEGER}, got ${describeInput(issue.input)}`
          : `must be a whole number of minor units without decimals (e.g. 1050 for 10.50 USD), got ${describeInput(issue.input)}`,
      abort: true,
    })
    .min(minimum, {
      error: (issue) =>
        minimum === 0
          ? `must not be negative, got ${describeInput(issue.input)}`
          : `must be at least 1 minor unit, got ${describeInput(issue.input)}`,
    })
    .max(Number.MAX_SAFE_INTEGER, {
      error: (issue) => `must be at most ${Number.MAX_SAFE_INTEGER}, got ${describeInput(issue.input)}`,
    })
    .meta({ description: AMOUNT_DESCRIPTION });
}

/** An amount that may be zero (a discount, a tax line, shipping). */
export const zMinorAmount = buildMinorAmountSchema(0);

/** An amount that must be at least one minor unit (a price to pay, a capture, a refund). */
export const zPositiveMinorAmount = buildMinorAmountSchema(1);

const THREE_UPPER_CASE_LETTERS = /^[A-Z]{3}$/;
const TWO_UPPER_CASE_LETTERS = /^[A-Z]{2}$/;

/** An active ISO 4217 code in upper case (`MXN`); `mxn` is refused with a hint, never upper-cased for the client. */
export const zCurrencyCode = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? 'is required'
        : `must be a string such as "USD", got ${describeInput(issue.input)}`,
  })
  .regex(THREE_UPPER_CASE_LETTERS, {
    error: (issue) =>
      `must be a three-letter upper-case ISO 4217 code such as "USD", got ${describeInput(issue.input)}`,
    abort: true,
  })
  .refine(isCurrencyCode, {
    error: (issue) => `${JSON.stringify(issue.input)} is not an active ISO 4217 currency code`,
  })
  .meta({ description: 'ISO 4217 currency code, upper case (e.g. MXN, USD, JPY, KWD)' });

/** An officially assigned ISO 3166-1 alpha-2 code in upper case (`MX`). */
export const zCountryCode = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? 'is required'
        : `must be a string such as "MX", got ${describeInput(issue.input)}`,
  })
  .regex(TWO_UPPER_CASE_LETTERS, {
    error: (issue) =>
      `must be a two-letter upper-case ISO 3166-1 alpha-2 code such as "MX", got ${describeInput(issue.input)}`,
    abort: true,
  })
  .refine(isCountryCode, {
    error: (issue) => `${JSON.stringify(issue.input)} is not an ISO 3166-1 alpha-2 country code`,
  })
  .meta({ description: 'ISO 3166-1 alpha-2 country code, upper case (e.g. MX, DK, US)' });
