import { regionDisplayNames } from './intl-cache.ts';
/**
 * ISO 3166-1 alpha-2 country codes: the 249 officially assigned codes, nothing else.
 *
 * User-assigned codes (XK for Kosovo, for example), exceptionally or transitionally reserved codes (UK, EU,
 * AC, …) and deleted codes (AN, CS, …) are refused, so an order's `country_code` always names a real entry of
 * the standard. Names are not stored here: they come from the runtime's CLDR data via `Intl.DisplayNames`,
 * so they follow the shopper's language (MX → "México" in Spanish, "Mexico" in English).
 */

// prettier-ignore
const CODES = [
  'AD', 'AE', 'AF', 'AG', 'AI', 'AL', 'AM', 'AO', 'AQ', 'AR', 'AS', 'AT', 'AU', 'AW', 'AX', 'AZ',
  'BA', 'BB', 'BD', 'BE', 'BF', 'BG', 'BH', 'BI', 'BJ', 'BL', 'BM', 'BN', 'BO', 'BQ', 'BR', 'BS', 'BT', 'BV',
  'BW', 'BY', 'BZ',
  'CA', 'CC', 'CD', 'CF', 'CG', 'CH', 'CI', 'CK', 'CL', 'CM', 'CN', 'CO', 'CR', 'CU', 'CV', 'CW', 'CX', 'CY',
  'CZ',
  'DE', 'DJ', 'DK', 'DM', 'DO', 'DZ',
  'EC', 'EE', 'EG', 'EH', 'ER', 'ES', 'ET',
  'FI', 'FJ', 'FK', 'FM', 'FO', 'FR',
  'GA', 'GB', 'GD', 'GE', 'GF', 'GG', 'GH', 'GI', 'GL', 'GM', 'GN', 'GP', 'GQ', 'GR', 'GS', 'GT', 'GU', 'GW',
  'GY',
  'HK', 'HM', 'HN', 'HR', 'HT', 'HU',
  'ID', 'IE', 'IL', 'IM', 'IN', 'IO', 'IQ', 'IR', 'IS', 'IT',
  'JE', 'JM', 'JO', 'JP',
  'KE', 'KG', 'KH', 'KI', 'KM', 'KN', 'KP', 'KR', 'KW', 'KY', 'KZ',
  'LA', 'LB', 'LC', 'LI', 'LK', 'LR', 'LS', 'LT', 'LU', 'LV', 'LY',
  'MA', 'MC', 'MD', 'ME', 'MF', 'MG', 'MH', 'MK', 'ML', 'MM', 'MN', 'MO', 'MP', 'MQ', 'MR', 'MS', 'MT', 'MU',
  'MV', 'MW', 'MX', 'MY', 'MZ',
  'NA', 'NC', 'NE', 'NF', 'NG', 'NI', 'NL', 'NO', 'NP', 'NR', 'NU', 'NZ',
  'OM',
  'PA', 'PE', 'PF', 'PG', 'PH', 'PK', 'PL', 'PM', 'PN', 'PR', 'PS', 'PT', 'PW', 'PY',
  'QA',
  'RE', 'RO', 'RS', 'RU', 'RW',
  'SA', 'SB', 'SC', 'SD', 'SE', 'SG', 'SH', 'SI', 'SJ', 'SK', 'SL', 'SM', 'SN', 'SO', 'SR', 'SS', 'ST', 'SV',
  'SX', 'SY', 'SZ',
  'TC', 'TD', 'TF', 'TG', 'TH', 'TJ', 'TK', 'TL', 'TM', 'TN', 'TO', 'TR', 'TT', 'TV', 'TW', 'TZ',
  'UA', 'UG', 'UM', 'US', 'UY', 'UZ',
  'VA', 'VC', 'VE', 'VG', 'VI', 'VN', 'VU',
  'WF', 'WS',
  'YE', 'YT',
  'ZA', 'ZM', 'ZW',
] as const;

export type CountryCode = (typeof CODES)[number];

/** Every accepted code, sorted alphabetically. */
export const COUNTRY_CODES: readonly CountryCode[] = Object.freeze([...CODES]);

const CODE_SET: ReadonlySet<string> = new Set(CODES);

/** True only for an upper-case, officially assigned alpha-2 code; `mx` is not a country code. */
export function isCountryCode(code: unknown): code is CountryCode {
  return typeof code === 'string' && CODE_SET.has(code);
}

/**
 * The country's name in `locale` (a BCP 47 tag such as `es`, `es-419`, `da`), e.g. MX in `es` → "México".
 * Throws for an unknown code (validate first) and a malformed locale tag; falls back to the code itself only
 * if the runtime has no name for it, which cannot happen with full ICU data.
 */
export function countryName(code: string, locale: string): string {
  if (!isCountryCode(code))
    throw new RangeError(`Unknown ISO 3166-1 alpha-2 country code: ${JSON.stringify(code)}`);
  // Intl.DisplayNames#of walks ICU data on every call (~2 % of a checkout's CPU); the answers never change.
  const key = `${locale}\n${code}`;
  let name = NAMES.get(key);
  if (name === undefined) {
    name = regionDisplayNames(locale).of(code) ?? code;
    if (NAMES.size < MAX_NAMES) NAMES.set(key, name);
  }
  return name;
}

/** Country names by locale and code; bounded, since locales come from requests. */
const NAMES = new Map<string, string>();
const MAX_NAMES = 20_000;
