import { z } from 'zod';

/**
 * A checkout's language: one of the redirect-checkout flow's names (`EN`, `ES_LATAM`, `DA`) or any BCP 47 tag (`es-MX`,
 * `da-DK`). Stored exactly as sent; `intlLocaleOf` gives the tag `Intl` formats names and money with.
 */
export const NAMED_LOCALES = { EN: 'en', ES_LATAM: 'es-419', DA: 'da' } as const;

/** A well-formed BCP 47 tag as `Intl` understands it (language, optional script / region / variants). */
export function isLocale(value: string): boolean {
  if (Object.hasOwn(NAMED_LOCALES, value)) return true;
  if (value.length > 35 || !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(value)) return false;
  try {
    return Intl.getCanonicalLocales(value).length === 1;
  } catch {
    return false;
  }
}

export function intlLocaleOf(locale: string): string {
  const named = (NAMED_LOCALES as Record<string, string>)[locale];
  if (named) return named;
  return isLocale(locale) ? (Intl.getCanonicalLocales(locale)[0] ?? 'en') : 'en';
}

export const zLocale = z
  .string()
  .refine(isLocale, {
    error: (issue) =>
      `must be EN, ES_LATAM, DA or a BCP 47 language tag such as "es-MX", got ${JSON.stringify(issue.input)}`,
    params: { code: 'invalid_locale' },
  })
  .meta({
    description: 'EN, ES_LATAM, DA, or a BCP 47 language tag (e.g. es-MX, da-DK)',
    example: 'ES_LATAM',
  });
