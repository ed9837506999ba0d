import { describe, expect, it } from 'vitest';
import { COUNTRY_CODES, countryName, isCountryCode } from '../../src/lib/countries.ts';

describe('ISO 3166-1 alpha-2 countries', () => {
  it('holds the 249 officially assigned codes, sorted and unique', () => {
    expect(COUNTRY_CODES).toHaveLength(249);
    expect(new Set(COUNTRY_CODES).size).toBe(249);
    expect([...COUNTRY_CODES].sort()).toEqual(COUNTRY_CODES);
  });

  it('has a CLDR name for every code (so none is a typo)', () => {
    const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
    for (const code of COUNTRY_CODES) {
      const name = names.of(code);
      expect(name, code).toBeTruthy();
      expect(name, code).not.toBe(code);
    }
  });

  it('accepts real upper-case codes and refuses the rest', () => {
    for (const code of ['MX', 'DK', 'SE', 'NO', 'US', 'JP', 'KW', 'AX', 'SS', 'BQ', 'CW', 'SX']) {
      expect(isCountryCode(code), code).toBe(true);
    }
    for (const code of [
      'mx',
      'Mx',
      'MEX',
      'M',
      '',
      'XK',
      'UK',
      'EU',
      'AN',
      'CS',
      'ZZ',
      'QQ',
      'toString',
      484,
    ]) {
      expect(isCountryCode(code), String(code)).toBe(false);
    }
  });

  it('names countries in the requested language', () => {
    expect(countryName('MX', 'es')).toBe('México');
    expect(countryName('MX', 'es-419')).toBe('México');
    expect(countryName('MX', 'en')).toBe('Mexico');
    expect(countryName('DK', 'da')).toBe('Danmark');
    expect(countryName('DE', 'da')).toBe('Tyskland');
  });

  it('throws for an unknown code or a malformed locale', () => {
    expect(() => countryName('XK', 'en')).toThrow(RangeError);
    expect(() => countryName('mx', 'en')).toThrow(RangeError);
    expect(() => countryName('MX', 'not a locale!')).toThrow(RangeError);
  });
});
