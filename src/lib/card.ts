import { createHmac } from 'node:crypto';
import type { Keyring } from './keyring.ts';

/**
 * Pure card-data checks shared by the hosted page, the Processor API and the connectors.
 *
 * Invariant: nothing here logs, stores or returns a full card number except `normalizeCardNumber`, whose
 * result must stay in memory for the length of one request. What may be kept is `cardLast4`, the brand,
 * the expiry and `cardFingerprint` (a keyed HMAC, so equal cards match without the number being kept).
 */

export const CARD_BRANDS = [
  'visa',
  'mastercard',
  'amex',
  'discover',
  'diners',
  'jcb',
  'unionpay',
  'maestro',
  'unknown',
] as const;
export type CardBrand = (typeof CARD_BRANDS)[number];

/** ISO/IEC 7812 allows 8–19 digits; no brand we accept issues fewer than 12. */
export const CARD_NUMBER_MIN_DIGITS = 12;
export const CARD_NUMBER_MAX_DIGITS = 19;

/**
 * Strips the spaces and dashes people type and returns the digits, or null when anything else is left
 * (letters, dots, an empty string) or the length cannot be a card number.
 */
export function normalizeCardNumber(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(digits)) return null;
  if (digits.length < CARD_NUMBER_MIN_DIGITS || digits.length > CARD_NUMBER_MAX_DIGITS) return null;
  return digits;
}

/** The Luhn (mod 10) check digit test. Expects digits only; anything else fails. */
export function passesLuhn(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * IIN ranges, checked in order: the first match wins, so narrower ranges come before the broad ones they
 * overlap (Discover's 6011 / 64–65 before Maestro's 6; Diners' 36 before nothing else starting with 3).
 * Each entry is an inclusive range over the first `length` digits.
 */
const BRAND_RANGES: ReadonlyArray<{ brand: Exclude<CardBrand, 'unknown'>; from: number; to: number }> = [
  { brand: 'amex', from: 34, to: 34 },
  { brand: 'amex', from: 37, to: 37 },
  { brand: 'diners', from: 300, to: 305 },
  { brand: 'diners', from: 36, to: 36 },
  { brand: 'diners', from: 38, to: 39 },
  { brand: 'jcb', from: 3528, to: 3589 },
  { brand: 'discover', from: 6011, to: 6011 },
  { brand: 'discover', from: 644, to: 649 },
  { brand: 'discover', from: 65, to: 65 },
  // China UnionPay: 62 (including the Discover co-branded 622126–622925 range, which cards report as
  // UnionPay in most wallets) and 81.
  { brand: 'unionpay', from: 62, to: 62 },
  { brand: 'unionpay', from: 81, to: 81 },
  { brand: 'mastercard', from: 51, to: 55 },
  { brand: 'mastercard', from: 2221, to: 2720 },
  { brand: 'maestro', from: 50, to: 50 },
  { brand: 'maestro', from: 56, to: 58 },
  { brand: 'maestro', from: 6304, to: 6304 },
  { brand: 'maestro', from: 6390, to: 6390 },
  { brand: 'maestro', from: 67, to: 67 },
  { brand: 'visa', from: 4, to: 4 },
];

/** The same ranges, in order, for the payment page's script to detect the brand as the number is typed. */
export const CARD_BRAND_RANGES = BRAND_RANGES;

/** The brand a card number belongs to, from its leading digits; 'unknown' when no range matches. */
export function detectCardBrand(number: string): CardBrand {
  const digits = number.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(digits)) return 'unknown';
  for (const range of BRAND_RANGES) {
    const length = String(range.from).length;
    if (digits.length < length) continue;
    const prefix = Number(digits.slice(0, length));
    if (prefix >= range.from && prefix <= range.to) return range.brand;
  }
  return 'unknown';
}

export type CardExpiryProblem = 'invalid_format' | 'invalid_month' | 'invalid_year' | 'expired';
export type CardExpiryCheck =
  { ok: true; month: number; year: number } | { ok: false; reason: CardExpiryProblem; message: string };

/** Cards are not issued for longer than this; a later year is a typo, not a card. */
export const CARD_EXPIRY_MAX_YEARS_AHEAD = 20;

const EXPIRY_MESSAGES: Record<CardExpiryProblem, string> = {
  invalid_format: 'Enter the expiry date as MM/YY',
  invalid_month: 'The expiry month must be between 01 and 12',
  invalid_year: 'The expiry year is not valid',
  expired: 'This card has expired',
};

function refuseExpiry(reason: CardExpiryProblem): CardExpiryCheck {
  return { ok: false, reason, message: EXPIRY_MESSAGES[reason] };
}

/**
 * Checks an expiry given as 'MM/YY' (also 'MM / YY', 'MM/YYYY', 'MMYY') or as a month and year (two- or
 * four-digit). A card is valid through the last day of its expiry month, compared in UTC.
 */
export function checkCardExpiry(input: string | { month: number; year: number }, now: Date): CardExpiryCheck {
  let month: number;
  let year: number;
  if (typeof input === 'string') {
    const match = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(input);
    if (!match || (!input.includes('/') && match[1]!.length !== 2)) return refuseExpiry('invalid_format');
    month = Number(match[1]);
    year = Number(match[2]);
  } else {
    ({ month, year } = input);
    if (!Number.isInteger(month) || !Number.isInteger(year)) return refuseExpiry('invalid_format');
  }
  if (month < 1 || month > 12) return refuseExpiry('invalid_month');
  if (year >= 0 && year < 100) year += 2000;
  const currentYear = now.getUTCFullYear();
  const currentMonth = now.getUTCMonth() + 1;
  if (year < 2000 || year > currentYear + CARD_EXPIRY_MAX_YEARS_AHEAD) {
    return refuseExpiry(year < currentYear ? 'expired' : 'invalid_year');
  }
  if (year < currentYear || (year === currentYear && month < currentMonth)) return refuseExpiry('expired');
  return { ok: true, month, year };
}

export type CardCvcCheck = { ok: true } | { ok: false; reason: 'invalid_cvc'; message: string };

/** The CVC length a brand prints: four digits on the front of an Amex card, three on the back elsewhere. */
export function cvcLengthFor(brand: CardBrand): 3 | 4 {
  return brand === 'amex' ? 4 : 3;
}

export function checkCvc(cvc: string, brand: CardBrand): CardCvcCheck {
  const length = cvcLengthFor(brand);
  if (new RegExp(`^\\d{${length}}$`).test(cvc.trim())) return { ok: true };
  return { ok: false, reason: 'invalid_cvc', message: `The security code must be ${length} digits` };
}

/** The last four digits, the only part of the number that may be shown or stored. */
export function cardLast4(number: string): string {
  return number.replace(/\D/g, '').slice(-4);
}

/**
 * A stable, keyed fingerprint of a card number: HMAC-SHA256 over the normalised digits, hex-encoded.
 * Keyed so the fingerprint cannot be reversed by hashing every possible number (the PAN space is small);
 * the key is derived from the master key (keyring purpose `card-fingerprint`), so a master-key rotation
 * changes the fingerprint of every card: what looks a card up by its fingerprint (the per-card decline limit,
 * the de-duplication of saved cards) matches `cardFingerprintCandidates` instead.
 */
export function cardFingerprint(number: string, key: Buffer | string): string {
  return createHmac('sha256', key).update(cardDigits(number), 'utf8').digest('hex');
}

function cardDigits(number: string): string {
  return number.replace(/[\s-]/g, '');
}

/**
 * The card's fingerprint under the current master key first, then under each previous one
 * (`KASSA_MASTER_KEY_PREVIOUS`): during and after a master-key rotation a card is still recognised by what was
 * stored under the key before. Equal to `cardFingerprint(number, keyring.key('card-fingerprint'))` first.
 */
export function cardFingerprintCandidates(
  number: string,
  keyring: Pick<Keyring, 'hmacCandidates'>,
): string[] {
  return keyring.hmacCandidates('card-fingerprint', cardDigits(number)).map((mac) => mac.toString('hex'));
}
