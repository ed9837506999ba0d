import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CURRENCY_CODES } from '../../src/lib/currencies.ts';
import {
  formatMoney,
  toDecimalString,
  zCountryCode,
  zCurrencyCode,
  zMinorAmount,
  zPositiveMinorAmount,
} from '../../src/lib/money.ts';

/** Intl uses narrow and regular no-break spaces between symbol and number; compare with plain spaces. */
function plain(text: string): string {
  return text.replace(/[\u00a0\u202f]/g, ' ');
}

function messagesOf(result: { success: boolean; error?: { issues: { message: string }[] } }): string[] {
  return result.success ? [] : (result.error?.issues.map((issue) => issue.message) ?? []);
}

describe('toDecimalString', () => {
  it('places the decimal point by the ISO exponent', () => {
    expect(toDecimalString(1234, 'JPY')).toBe('1234');
    expect(toDecimalString(1234, 'USD')).toBe('12.34');
    expect(toDecimalString(1234, 'KWD')).toBe('1.234');
    expect(toDecimalString(5, 'KWD')).toBe('0.005');
    expect(toDecimalString(5, 'USD')).toBe('0.05');
    expect(toDecimalString(0, 'USD')).toBe('0.00');
    expect(toDecimalString(0, 'JPY')).toBe('0');
    expect(toDecimalString(1, 'CLF')).toBe('0.0001');
    expect(toDecimalString(-150, 'EUR')).toBe('-1.50');
    expect(toDecimalString(990, 'MXN')).toBe('9.90');
  });

  it('is exact up to Number.MAX_SAFE_INTEGER', () => {
    expect(toDecimalString(Number.MAX_SAFE_INTEGER, 'USD')).toBe('90071992547409.91');
    expect(toDecimalString(Number.MAX_SAFE_INTEGER, 'KWD')).toBe('9007199254740.991');
    expect(toDecimalString(-Number.MAX_SAFE_INTEGER, 'JPY')).toBe('-9007199254740991');
  });

  it('round-trips every safe integer in every currency (digits unchanged, point at the exponent)', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.constantFrom(...CURRENCY_CODES), (amount, currency) => {
        const text = toDecimalString(amount, currency);
        expect(BigInt(text.replace('.', ''))).toBe(BigInt(amount));
      }),
    );
  });

  it('refuses amounts that are not safe integers and unknown currencies', () => {
    for (const bad of [1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
      expect(() => toDecimalString(bad, 'USD')).toThrow(RangeError);
    }
    expect(() => toDecimalString(100, 'XXX')).toThrow(RangeError);
    expect(() => toDecimalString(100, 'usd')).toThrow(RangeError);
  });
});

describe('formatMoney', () => {
  it('shows JPY without decimals, USD with two, KWD with three', () => {
    expect(formatMoney(1234, 'JPY', 'en-US')).toBe('¥1,234');
    expect(formatMoney(1234, 'JPY', 'ja-JP')).toBe('￥1,234');
    expect(formatMoney(1234, 'USD', 'en-US')).toBe('$12.34');
    expect(formatMoney(1200, 'USD', 'en-US')).toBe('$12.00');
    expect(plain(formatMoney(1234, 'KWD', 'en-US'))).toBe('KWD 1.234');
    expect(plain(formatMoney(1000, 'KWD', 'en-US'))).toBe('KWD 1.000');
  });

  it('uses the ISO exponent even where CLDR disagrees (IQD: ISO 3, CLDR 0)', () => {
    expect(plain(formatMoney(5, 'IQD', 'en'))).toBe('IQD 0.005');
    expect(plain(formatMoney(1, 'CLF', 'en'))).toBe('CLF 0.0001');
  });

  it('formats for the locale (the redirect-checkout flow: 990 MXN in Mexican Spanish; Danish kroner)', () => {
    expect(formatMoney(990, 'MXN', 'es-MX')).toBe('$9.90');
    expect(plain(formatMoney(123456, 'DKK', 'da-DK'))).toBe('1.234,56 kr.');
    expect(plain(formatMoney(-150, 'EUR', 'en-US'))).toBe('-€1.50');
  });

  it('does not lose precision at the top of the safe range', () => {
    expect(formatMoney(Number.MAX_SAFE_INTEGER, 'USD', 'en-US')).toBe('$90,071,992,547,409.91');
  });

  it('formats every currency of the table', () => {
    for (const currency of CURRENCY_CODES) {
      expect(() => formatMoney(123456789, currency, 'en'), currency).not.toThrow();
    }
  });

  it('throws on non-integers and unknown currencies rather than rounding', () => {
    expect(() => formatMoney(12.5, 'USD', 'en-US')).toThrow(RangeError);
    expect(() => formatMoney(100, 'ABC', 'en-US')).toThrow(RangeError);
  });
});

describe('zMinorAmount / zPositiveMinorAmount', () => {
  it('accepts integers from 0 (or 1) to Number.MAX_SAFE_INTEGER, unchanged', () => {
    for (const value of [0, 1, 990, 1000, Number.MAX_SAFE_INTEGER]) {
      expect(zMinorAmount.parse(value)).toBe(value);
    }
    expect(zPositiveMinorAmount.parse(1)).toBe(1);
    expect(zPositiveMinorAmount.parse(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses strings without coercing them, naming what was sent', () => {
    const result = zMinorAmount.safeParse('1000');
    expect(messagesOf(result)).toEqual([
      'must be a JSON number of minor units (e.g. 1050 for 10.50 USD), got the string "1000"',
    ]);
  });

  it('refuses floats instead of rounding (USD, JPY and KWD alike)', () => {
    expect(messagesOf(zMinorAmount.safeParse(10.5))).toEqual([
      'must be a whole number of minor units without decimals (e.g. 1050 for 10.50 USD), got 10.5',
    ]);
    expect(zMinorAmount.safeParse(0.1).success).toBe(false);
    expect(zMinorAmount.safeParse(1234.0001).success).toBe(false);
  });

  it('refuses negatives, NaN, infinities, unsafe integers, null, booleans and missing values', () => {
    expect(messagesOf(zMinorAmount.safeParse(-1))).toEqual(['must not be negative, got -1']);
    expect(messagesOf(zMinorAmount.safeParse(-1.5))).toHaveLength(1);
    expect(messagesOf(zMinorAmount.safeParse(NaN))).toEqual([
      'must be a JSON number of minor units (e.g. 1050 for 10.50 USD), got NaN',
    ]);
    expect(zMinorAmount.safeParse(Infinity).success).toBe(false);
    expect(messagesOf(zMinorAmount.safeParse(2 ** 53))).toEqual([
      'must be at most 9007199254740991, got 9007199254740992',
    ]);
    expect(zMinorAmount.safeParse(null).success).toBe(false);
    expect(zMinorAmount.safeParse(true).success).toBe(false);
    expect(messagesOf(zMinorAmount.safeParse(undefined))).toEqual(['is required']);
  });

  it('zPositiveMinorAmount refuses zero', () => {
    expect(messagesOf(zPositiveMinorAmount.safeParse(0))).toEqual(['must be at least 1 minor unit, got 0']);
    expect(zMinorAmount.safeParse(0).success).toBe(true);
  });

  it('never accepts a non-integer or out-of-range number (property)', () => {
    fc.assert(
      fc.property(fc.double(), (value) => {
        const ok = zMinorAmount.safeParse(value).success;
        expect(ok).toBe(Number.isSafeInteger(value) && value >= 0);
      }),
    );
  });
});

describe('zCurrencyCode / zCountryCode', () => {
  it('accept known upper-case codes', () => {
    for (const code of ['JPY', 'USD', 'KWD', 'MXN']) expect(zCurrencyCode.parse(code)).toBe(code);
    expect(zCountryCode.parse('MX')).toBe('MX');
  });

  it('refuse lower case with a hint and never upper-case it for the client', () => {
    expect(messagesOf(zCurrencyCode.safeParse('usd'))).toEqual([
      'must be a three-letter upper-case ISO 4217 code such as "USD", got the string "usd"',
    ]);
    expect(messagesOf(zCountryCode.safeParse('mx'))).toEqual([
      'must be a two-letter upper-case ISO 3166-1 alpha-2 code such as "MX", got the string "mx"',
    ]);
  });

  it('refuse well-formed but unknown codes, naming the value', () => {
    expect(messagesOf(zCurrencyCode.safeParse('XYZ'))).toEqual([
      '"XYZ" is not an active ISO 4217 currency code',
    ]);
    expect(messagesOf(zCurrencyCode.safeParse('HRK'))).toEqual([
      '"HRK" is not an active ISO 4217 currency code',
    ]);
    expect(messagesOf(zCountryCode.safeParse('ZZ'))).toEqual([
      '"ZZ" is not an ISO 3166-1 alpha-2 country code',
    ]);
  });

  it('refuse non-strings', () => {
    expect(messagesOf(zCurrencyCode.safeParse(978))).toEqual(['must be a string such as "USD", got 978']);
    expect(zCountryCode.safeParse(null).success).toBe(false);
  });
});
