import { currencyExponent } from '../../lib/currencies.ts';
import { currencyFormat } from '../../lib/intl-cache.ts';
import { toDecimalString } from '../../lib/money.ts';
import { pageDictionary, type PageDictionary, type PageLocale } from './page-dictionary.ts';

/**
 * Which language a hosted page speaks (`resolvePageLocale`): the checkout's locale when it has one (exact,
 * else by language: `es-MX` → Latin American Spanish, `pt-PT` → Brazilian Portuguese), else the shopper's
 * Accept-Language, then the merchant's default locale, then English. Money is formatted for that language
 * and the order's country (`es` + `MX` → es-MX, where MXN prints as "$9.90"); a bare symbol that could
 * name several currencies ($, kr, ¥) is replaced by the ISO code when the region does not settle it.
 * The words themselves are `page-dictionary.ts` (over the catalogues in `locales/`).
 */

export {
  CATALOGUES,
  PAGE_LOCALES,
  pageDictionary,
  type CheckoutGlobalError,
  type PageDictionary,
  type PageLocale,
  type PaymentLinkPageKind,
  type PaymentMethodType,
  type StatusPageKind,
} from './page-dictionary.ts';

/** The region `Intl` formats with when neither the locale nor the order names one. */
const DEFAULT_REGION: Record<PageLocale, string | undefined> = {
  en: 'US',
  'es-419': undefined,
  da: 'DK',
  de: 'DE',
  fr: 'FR',
  nl: 'NL',
  sv: 'SE',
  nb: 'NO',
  fi: 'FI',
  it: 'IT',
  'es-ES': 'ES',
  'pt-BR': 'BR',
  pl: 'PL',
};

/** The API's named locales. */
const NAMED: Record<string, PageLocale> = { EN: 'en', ES_LATAM: 'es-419', DA: 'da' };

const BY_LANGUAGE: Record<string, PageLocale> = {
  en: 'en',
  es: 'es-419',
  da: 'da',
  de: 'de',
  fr: 'fr',
  nl: 'nl',
  sv: 'sv',
  nb: 'nb',
  no: 'nb',
  nn: 'nb',
  fi: 'fi',
  it: 'it',
  pt: 'pt-BR',
  pl: 'pl',
};

export type ResolvedPageLocale = {
  locale: PageLocale;
  /** The page's `lang` attribute: the language the words are written in. */
  htmlLang: string;
  /** The locale `Intl` formats money and numbers with: the page's language and the order's region. */
  intlLocale: string;
  text: PageDictionary;
  /** `amountMinor` of `currency` for this page (see `formatPageAmount`). */
  money: (amountMinor: number, currency: string) => string;
};

/** Where a page's language comes from, strongest first. */
export type PageLocaleSources = {
  /** The checkout's (or payment link's) locale: `EN`, `ES_LATAM`, `DA` or a BCP 47 tag; null when it has none. */
  locale?: string | null | undefined;
  /** The shopper's Accept-Language header, used when `locale` is null. */
  acceptLanguage?: string | undefined;
  /** The merchant's default locale: when neither of the above names a language the pages speak. */
  merchantDefault?: string | undefined;
  /** The order's country (ISO 3166-1 alpha-2): the region money is formatted for. */
  country?: string | undefined;
};

type Match = { locale: PageLocale; region: string | undefined };

/** `EN` / `ES_LATAM` / `DA` or a BCP 47 tag → the page language that speaks it (by language if not exact). */
export function matchPageLocale(input: string | null | undefined): Match | undefined {
  if (!input || input.length > 35) return undefined;
  const named = NAMED[input.toUpperCase().replace('-', '_')];
  if (named) return { locale: named, region: undefined };
  let parsed: Intl.Locale;
  try {
    const tag = Intl.getCanonicalLocales(input)[0];
    if (!tag) return undefined;
    parsed = new Intl.Locale(tag);
  } catch {
    return undefined;
  }
  const region = parsed.region !== undefined && /^[A-Z]{2}$/.test(parsed.region) ? parsed.region : undefined;
  if (parsed.language === 'es' && region === 'ES') return { locale: 'es-ES', region };
  const locale = BY_LANGUAGE[parsed.language];
  return locale ? { locale, region } : undefined;
}

/** The tags of an Accept-Language header, most preferred first (q=0 and `*` left out). */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .slice(0, 1000)
    .split(',')
    .map((part, index) => {
      const [tag = '', ...parameters] = part.split(';').map((piece) => piece.trim());
      const q = parameters.find((parameter) => parameter.startsWith('q='));
      const quality = q === undefined ? 1 : Number(q.slice(2));
      return { tag, quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((entry) => entry.tag !== '' && entry.tag !== '*' && entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index)
    .map((entry) => entry.tag);
}

/** Currency symbols several currencies print as (CLDR uses them bare for "the" local one). */
const AMBIGUOUS_SYMBOLS = new Set(['$', 'kr', 'kr.']);

/** The local currency of the regions where those bare symbols mean it. */
const LOCAL_CURRENCY: Record<string, string> = {
  ...Object.fromEntries(
    'US EC SV PA PR TL FM MH PW VG VI TC BQ AS GU MP UM IO ZW'.split(' ').map((region) => [region, 'USD']),
  ),
  MX: 'MXN',
  CA: 'CAD',
  AU: 'AUD',
  NZ: 'NZD',
  AR: 'ARS',
  CL: 'CLP',
  CO: 'COP',
  UY: 'UYU',
  SG: 'SGD',
  HK: 'HKD',
  TW: 'TWD',
  DK: 'DKK',
  FO: 'DKK',
  GL: 'DKK',
  SE: 'SEK',
  NO: 'NOK',
  IS: 'ISK',
  JP: 'JPY',
  CN: 'CNY',
  GB: 'GBP',
  GG: 'GBP',
  JE: 'GBP',
  IM: 'GBP',
};

/**
 * `amountMinor` formatted for `intlLocale` with the ISO 4217 number of decimals. A bare shared symbol ($, kr)
 * is kept only where it is the region's own currency (pesos as "$" in es-MX); anywhere else the ISO code
 * is printed ("USD 9.90" in es-MX, "9,90 USD" in de-DE). CLDR's own disambiguated symbols ("US$", "MX$") stay.
 */
export function formatPageAmount(amountMinor: number, currency: string, intlLocale: string): string {
  const decimal = toDecimalString(amountMinor, currency) as `${number}`;
  const exponent = currencyExponent(currency);
  const format = currencyFormat(intlLocale, currency, exponent);
  let region: string | undefined;
  try {
    region = new Intl.Locale(intlLocale).region;
  } catch {
    region = undefined;
  }
  const symbol = format.formatToParts(decimal).find((part) => part.type === 'currency')?.value;
  const ambiguous =
    symbol !== undefined &&
    AMBIGUOUS_SYMBOLS.has(symbol) &&
    (region === undefined || LOCAL_CURRENCY[region] !== currency);
  if (!ambiguous) return format.format(decimal);
  return new Intl.NumberFormat(intlLocale, {
    style: 'currency',
    currency,
    currencyDisplay: 'code',
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  }).format(decimal);
}

function languageOf(locale: PageLocale): string {
  return locale.split('-')[0] ?? 'en';
}

function intlLocaleFor(match: Match, country: string | undefined): string {
  const region = (country && /^[A-Z]{2}$/.test(country) ? country : undefined) ?? match.region;
  if (region) {
    const tag = `${languageOf(match.locale)}-${region}`;
    if (Intl.NumberFormat.supportedLocalesOf([tag]).length > 0) return tag;
  }
  if (match.locale === 'es-419') return 'es-419';
  const fallback = DEFAULT_REGION[match.locale];
  return fallback ? `${languageOf(match.locale)}-${fallback}` : languageOf(match.locale);
}

function resolved(match: Match, country: string | undefined): ResolvedPageLocale {
  const intlLocale = intlLocaleFor(match, country);
  return {
    locale: match.locale,
    htmlLang: match.locale,
    intlLocale,
    text: pageDictionary(match.locale),
    money: (amountMinor, currency) => formatPageAmount(amountMinor, currency, intlLocale),
  };
}

/**
 * The language a page speaks and the locale its money is formatted with. A plain string is taken as the
 * checkout's locale. Unknown or malformed inputs are skipped, never an error: a shopper always gets a page.
 */
export function resolvePageLocale(
  sources: PageLocaleSources | string | null | undefined,
): ResolvedPageLocale {
  const { locale, acceptLanguage, merchantDefault, country } =
    typeof sources === 'object' && sources !== null ? sources : { locale: sources };
  const candidates = locale ? [locale] : acceptedLanguages(acceptLanguage);
  for (const candidate of [...candidates, merchantDefault]) {
    const match = matchPageLocale(candidate);
    if (match) return resolved(match, country);
  }
  return resolved({ locale: 'en', region: undefined }, country);
}
