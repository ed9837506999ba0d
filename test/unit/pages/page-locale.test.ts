import { describe, expect, it } from 'vitest';
import {
  acceptedLanguages,
  formatPageAmount,
  pageDictionary,
  resolvePageLocale,
} from '../../../src/http/pages/page-locale.ts';

describe('resolvePageLocale: the checkout locale', () => {
  it.each([
    ['EN', 'en', 'en-US'],
    ['ES_LATAM', 'es-419', 'es-419'],
    ['DA', 'da', 'da-DK'],
    ['en-US', 'en', 'en-US'],
    ['en-GB', 'en', 'en-GB'],
    ['es-MX', 'es-419', 'es-MX'],
    ['es-mx', 'es-419', 'es-MX'],
    ['es', 'es-419', 'es-419'],
    ['es-ES', 'es-ES', 'es-ES'],
    ['da-DK', 'da', 'da-DK'],
    ['de-DE', 'de', 'de-DE'],
    ['de-AT', 'de', 'de-AT'],
    ['fr', 'fr', 'fr-FR'],
    ['fr-CA', 'fr', 'fr-CA'],
    ['nl', 'nl', 'nl-NL'],
    ['sv-SE', 'sv', 'sv-SE'],
    ['no', 'nb', 'nb-NO'],
    ['nn-NO', 'nb', 'nb-NO'],
    ['fi', 'fi', 'fi-FI'],
    ['it-IT', 'it', 'it-IT'],
    ['pt-BR', 'pt-BR', 'pt-BR'],
    ['pt-PT', 'pt-BR', 'pt-PT'],
    ['pl-PL', 'pl', 'pl-PL'],
  ])('%s → words %s, money %s', (input, htmlLang, intlLocale) => {
    const page = resolvePageLocale(input);
    expect(page).toMatchObject({ locale: htmlLang, htmlLang, intlLocale });
    expect(page.text).toBe(pageDictionary(page.locale));
  });

  it('falls back to English for unknown, unsupported or malformed locales with nothing else to go on', () => {
    for (const input of [undefined, null, '', 'ja-JP', 'not a locale', 'x-<script>']) {
      expect(resolvePageLocale(input)).toMatchObject({ locale: 'en', htmlLang: 'en' });
    }
  });

  it('an unsupported checkout locale falls back to the merchant default, not to the shopper', () => {
    const page = resolvePageLocale({ locale: 'ja-JP', acceptLanguage: 'fr', merchantDefault: 'DA' });
    expect(page.locale).toBe('da');
  });
});

describe('resolvePageLocale: no checkout locale', () => {
  it("follows the shopper's Accept-Language by preference, skipping languages the pages do not speak", () => {
    expect(resolvePageLocale({ locale: null, acceptLanguage: 'ja;q=1, de-CH;q=0.8, fr;q=0.9' }).locale).toBe(
      'fr',
    );
    expect(resolvePageLocale({ locale: null, acceptLanguage: 'es-AR,es;q=0.9' })).toMatchObject({
      locale: 'es-419',
      intlLocale: 'es-AR',
    });
    expect(resolvePageLocale({ locale: null, acceptLanguage: 'es-ES', merchantDefault: 'EN' }).locale).toBe(
      'es-ES',
    );
  });

  it("then the merchant's default, then English", () => {
    expect(
      resolvePageLocale({ locale: null, acceptLanguage: 'ja, zh;q=0.5', merchantDefault: 'DA' }).locale,
    ).toBe('da');
    expect(resolvePageLocale({ locale: null, acceptLanguage: '*', merchantDefault: 'xx-!' }).locale).toBe(
      'en',
    );
  });

  it('reads Accept-Language by quality, leaving out q=0 and the wildcard', () => {
    expect(acceptedLanguages('da, en-GB;q=0.8, en;q=0.7, *;q=0.1, sv;q=0')).toEqual(['da', 'en-GB', 'en']);
    expect(acceptedLanguages(undefined)).toEqual([]);
  });
});

describe('money for the shopper and the order country', () => {
  it('a Mexican order in Spanish shows pesos as $', () => {
    const page = resolvePageLocale({ locale: 'ES_LATAM', country: 'MX' });
    expect(page.intlLocale).toBe('es-MX');
    expect(page.money(990, 'MXN')).toBe('$9.90');
    expect(page.money(990, 'USD')).toBe('USD\u00a09.90');
  });

  it('a foreign or unplaced dollar gets a distinguishing symbol or the code', () => {
    expect(resolvePageLocale({ locale: 'EN', country: 'MX' }).money(990, 'MXN')).toBe('MX$9.90');
    expect(resolvePageLocale({ locale: 'EN', country: 'US' }).money(990, 'USD')).toBe('$9.90');
    // No region at all: "$" could be any dollar, so the code is printed.
    expect(formatPageAmount(990, 'USD', 'en')).toBe('USD\u00a09.90');
    expect(formatPageAmount(990, 'EUR', 'en')).toBe('€9.90');
    // German formats name the dollar "$"; a German shopper gets the code.
    expect(resolvePageLocale({ locale: 'de', country: 'DE' }).money(990, 'USD')).toBe('9,90\u00a0USD');
    expect(resolvePageLocale({ locale: 'de', country: 'DE' }).money(990, 'EUR')).toBe('9,90\u00a0€');
  });

  it('Danish kroner in Danish, Swedish kronor in Danish', () => {
    const page = resolvePageLocale({ locale: 'DA', country: 'DK' });
    expect(page.money(24900, 'DKK')).toBe('249,00\u00a0kr.');
    expect(page.money(24900, 'SEK')).toBe('249,00\u00a0SEK');
  });

  it('keeps the ISO 4217 decimals', () => {
    expect(resolvePageLocale({ locale: 'EN', country: 'JP' }).money(1234, 'JPY')).toBe('¥1,234');
    expect(resolvePageLocale({ locale: 'EN', country: 'KW' }).money(1234, 'KWD')).toContain('1.234');
  });
});
