import { describe, expect, it } from 'vitest';
import { DA, EN, ES_LATAM, resolvePageLocale } from '../../../src/http/pages/page-locale.ts';

describe('resolvePageLocale', () => {
  it.each([
    ['EN', 'EN', 'en', 'en-US'],
    ['ES_LATAM', 'ES_LATAM', 'es-419', 'es-419'],
    ['DA', 'DA', 'da', 'da-DK'],
    ['en-US', 'EN', 'en', 'en-US'],
    ['en-GB', 'EN', 'en', 'en-GB'],
    ['es-MX', 'ES_LATAM', 'es-419', 'es-MX'],
    ['es', 'ES_LATAM', 'es-419', 'es-419'],
    ['da-DK', 'DA', 'da', 'da-DK'],
    ['da', 'DA', 'da', 'da-DK'],
    ['es-mx', 'ES_LATAM', 'es-419', 'es-MX'],
  ])('%s → %s (lang %s, Intl %s)', (input, locale, htmlLang, intlLocale) => {
    expect(resolvePageLocale(input)).toMatchObject({ locale, htmlLang, intlLocale });
  });

  it('falls back to English for unknown, unsupported or malformed locales', () => {
    for (const input of [undefined, '', 'fr-FR', 'ja-JP', 'not a locale', 'x-<script>']) {
      expect(resolvePageLocale(input)).toMatchObject({ locale: 'EN', intlLocale: 'en-US', text: EN });
    }
  });

  it('returns the dictionary of the locale', () => {
    expect(resolvePageLocale('es-AR').text).toBe(ES_LATAM);
    expect(resolvePageLocale('da-DK').text).toBe(DA);
  });
});

describe('dictionaries', () => {
  it('translate every string (no English left in Spanish or Danish, except shared terms)', () => {
    const sharedTerms = new Set(['Subtotal', 'Total', 'CVC', 'Wallet', 'Sandbox Bank', 'Sandbox Wallet']);
    const sharedPaths = new Set(['.quantityTimesPrice']);
    const flatten = (value: unknown, path = ''): Array<[string, string]> => {
      if (typeof value === 'string') return [[path, value]];
      if (typeof value === 'function') return [[path, String((value as (s: string) => string)('X'))]];
      return Object.entries(value as object).flatMap(([key, inner]) => flatten(inner, `${path}.${key}`));
    };
    const english = new Map(flatten(EN));
    for (const dictionary of [ES_LATAM, DA]) {
      for (const [path, text] of flatten(dictionary)) {
        expect(english.has(path)).toBe(true);
        if (!sharedTerms.has(text) && !sharedPaths.has(path))
          expect.soft(text, path).not.toBe(english.get(path));
      }
    }
  });

  it('labels the card form as the specification says', () => {
    expect([EN.cardName, EN.cardNumber, EN.cardExpiry, EN.cardCvc]).toEqual([
      'Name on card',
      'Card number',
      'Expiry (MM/YY)',
      'CVC',
    ]);
    expect(EN.cancel).toBe('Cancel and return to the store');
    expect(EN.globalErrors.declined).toBe('Your card was declined. Try again or choose another method.');
    expect(EN.status.pending.title).toBe('We are waiting for confirmation');
  });
});
