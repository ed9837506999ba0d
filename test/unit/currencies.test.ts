import { describe, expect, it } from 'vitest';
import { CURRENCY_CODES, currencyExponent, isCurrencyCode } from '../../src/lib/currencies.ts';

describe('ISO 4217 currency table', () => {
  it('holds the exponents ISO assigns, including the unusual ones', () => {
    const expected: Record<string, number> = {
      JPY: 0,
      KRW: 0,
      ISK: 0,
      CLP: 0,
      VND: 0,
      XAF: 0,
      XOF: 0,
      XPF: 0,
      UGX: 0,
      PYG: 0,
      UYI: 0,
      USD: 2,
      EUR: 2,
      MXN: 2,
      DKK: 2,
      SEK: 2,
      NOK: 2,
      GBP: 2,
      IDR: 2,
      HUF: 2,
      KWD: 3,
      BHD: 3,
      JOD: 3,
      OMR: 3,
      TND: 3,
      LYD: 3,
      IQD: 3,
      CLF: 4,
      UYW: 4,
    };
    for (const [code, exponent] of Object.entries(expected)) {
      expect(currencyExponent(code), code).toBe(exponent);
    }
  });

  it('lists only three upper-case letters, sorted and unique, with exponents 0, 2, 3 or 4', () => {
    expect(CURRENCY_CODES.length).toBeGreaterThan(150);
    expect(new Set(CURRENCY_CODES).size).toBe(CURRENCY_CODES.length);
    expect([...CURRENCY_CODES].sort()).toEqual(CURRENCY_CODES);
    for (const code of CURRENCY_CODES) {
      expect(code).toMatch(/^[A-Z]{3}$/);
      expect([0, 2, 3, 4]).toContain(currencyExponent(code));
    }
  });

  it('includes recent codes and leaves out withdrawn and non-monetary ones', () => {
    for (const code of ['SLE', 'VED', 'VES', 'ZWG', 'XCG', 'MRU', 'STN'])
      expect(isCurrencyCode(code), code).toBe(true);
    for (const code of ['HRK', 'ZWL', 'SLL', 'ANG', 'MRO', 'STD', 'VEF', 'DEM', 'XAU', 'XDR', 'XTS', 'XXX']) {
      expect(isCurrencyCode(code), code).toBe(false);
    }
  });

  it('refuses lower case, other lengths and non-strings; currencyExponent throws for them', () => {
    for (const code of ['usd', 'Usd', 'US', 'USDD', '', ' USD', 'toString', '__proto__', 'constructor']) {
      expect(isCurrencyCode(code), code).toBe(false);
      expect(() => currencyExponent(code)).toThrow(RangeError);
    }
    expect(isCurrencyCode(840)).toBe(false);
    expect(isCurrencyCode(null)).toBe(false);
  });
});
