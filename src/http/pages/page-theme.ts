/**
 * Merchant colour → the few colours the page paints with, each checked against WCAG 2.x contrast.
 *
 * The merchant's colour is untrusted input that ends up inside a <style> element, so it is reduced to a
 * strict `#rrggbb` first; anything else falls back to Kassa's default. Invariants (tested): `onBrand` on
 * `brand` and `accent` on every page background reach at least 4.5:1.
 */

export const DEFAULT_BRAND_COLOR = '#4338ca';

/** The lightest and darkest backgrounds checkout.css paints text on; `accent` must be readable on both. */
export const PAGE_BACKGROUNDS = ['#ffffff', '#f6f7f9'] as const;

export const MIN_TEXT_CONTRAST = 4.5;

export type PageTheme = {
  /** The merchant's colour: primary button, selected method. */
  brand: string;
  /** Text on `brand`: black or white, whichever reads better (always ≥ 4.5:1). */
  onBrand: string;
  /** `brand` darkened until it reads as text (links, focus ring) on every page background. */
  accent: string;
};

/** A strict lower-case `#rrggbb`, or null. `#rgb` is expanded; names, rgb() and alpha are refused. */
export function sanitizeHexColor(input: unknown): string | null {
  if (typeof input !== 'string') return null;
  const value = input.trim().toLowerCase();
  if (/^#[0-9a-f]{6}$/.test(value)) return value;
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/.exec(value);
  if (short) return `#${short[1]!.repeat(2)}${short[2]!.repeat(2)}${short[3]!.repeat(2)}`;
  return null;
}

function toRgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

function toHex(rgb: readonly number[]): string {
  return `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

/** WCAG 2.x relative luminance of a `#rrggbb` colour. */
export function relativeLuminance(hex: string): number {
  const [r, g, b] = toRgb(hex).map((channel) => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2.x contrast ratio between two `#rrggbb` colours, from 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [
    number,
    number,
  ];
  return (light + 0.05) / (dark + 0.05);
}

/**
 * Black or white text for a background, whichever contrasts more. Pure black and white matter: for any
 * background one of the two reaches at least 4.58:1, which a softer near-black would not guarantee.
 */
export function pickReadableTextColor(background: string): string {
  const dark = '#000000';
  const light = '#ffffff';
  return contrastRatio(background, light) >= contrastRatio(background, dark) ? light : dark;
}

/** Mixes `color` towards black in small steps until it reaches `ratio` against every background. */
function darkenUntilReadable(color: string, backgrounds: readonly string[], ratio: number): string {
  const rgb = toRgb(color);
  for (let step = 0; step <= 20; step++) {
    const candidate = toHex(rgb.map((c) => (c * (20 - step)) / 20));
    if (backgrounds.every((bg) => contrastRatio(candidate, bg) >= ratio)) return candidate;
  }
  return '#000000';
}

export function derivePageTheme(primaryColor?: string): PageTheme {
  const brand = sanitizeHexColor(primaryColor) ?? DEFAULT_BRAND_COLOR;
  return {
    brand,
    onBrand: pickReadableTextColor(brand),
    accent: darkenUntilReadable(brand, PAGE_BACKGROUNDS, MIN_TEXT_CONTRAST),
  };
}
