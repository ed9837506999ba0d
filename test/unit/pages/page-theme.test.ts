import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BRAND_COLOR,
  MIN_TEXT_CONTRAST,
  PAGE_BACKGROUNDS,
  contrastRatio,
  derivePageTheme,
  sanitizeHexColor,
} from '../../../src/http/pages/page-theme.ts';

const hexColor = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
  .map((rgb) => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`);

describe('sanitizeHexColor', () => {
  it('accepts #rrggbb and #rgb, normalised to lower-case #rrggbb', () => {
    expect(sanitizeHexColor('#0F766E')).toBe('#0f766e');
    expect(sanitizeHexColor(' #abc ')).toBe('#aabbcc');
  });

  it('refuses everything else, including CSS injection attempts', () => {
    for (const bad of [
      'red',
      'rgb(0,0,0)',
      '#12345',
      '#1234567',
      '#0f766e80',
      '#0f766e;}</style><script>alert(1)</script>',
      'expression(alert(1))',
      '',
      undefined,
      42,
    ]) {
      expect(sanitizeHexColor(bad)).toBeNull();
    }
  });
});

describe('contrastRatio', () => {
  it('matches the WCAG reference values', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    expect(contrastRatio('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
  });
});

describe('derivePageTheme', () => {
  it('falls back to the default colour for an invalid one', () => {
    expect(derivePageTheme('javascript:alert(1)').brand).toBe(DEFAULT_BRAND_COLOR);
    expect(derivePageTheme(undefined).brand).toBe(DEFAULT_BRAND_COLOR);
  });

  it('keeps a colour that is already readable as its own accent', () => {
    expect(derivePageTheme('#0f766e')).toEqual({ brand: '#0f766e', onBrand: '#ffffff', accent: '#0f766e' });
  });

  it('puts black text on a light brand colour and darkens it for links', () => {
    const theme = derivePageTheme('#f5b700');
    expect(theme.onBrand).toBe('#000000');
    expect(theme.accent).not.toBe('#f5b700');
  });

  it('for any colour: button text on brand and accent on every page background reach 4.5:1', () => {
    fc.assert(
      fc.property(hexColor, (color) => {
        const theme = derivePageTheme(color);
        expect(theme.brand).toBe(color);
        expect(contrastRatio(theme.onBrand, theme.brand)).toBeGreaterThanOrEqual(MIN_TEXT_CONTRAST);
        for (const background of PAGE_BACKGROUNDS) {
          expect(contrastRatio(theme.accent, background)).toBeGreaterThanOrEqual(MIN_TEXT_CONTRAST);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('checkout.css palette', () => {
  const css = readFileSync(new URL('../../../public/checkout/checkout.css', import.meta.url), 'utf8');
  const variable = (name: string) => {
    const match = new RegExp(`--${name}:\\s*(#[0-9a-f]{6})\\s*;`).exec(css);
    if (!match) throw new Error(`--${name} is not a #rrggbb colour in checkout.css`);
    return match[1]!;
  };

  it('declares the page backgrounds the theme is checked against', () => {
    expect([variable('surface'), variable('surface-sunken')].sort()).toEqual([...PAGE_BACKGROUNDS].sort());
  });

  it.each([
    ['text', 'surface'],
    ['text', 'surface-sunken'],
    ['text-muted', 'surface'],
    ['text-muted', 'surface-sunken'],
    ['success', 'surface-sunken'],
    ['error', 'surface'],
    ['error', 'error-surface'],
  ])('--%s on --%s reaches 4.5:1', (foreground, background) => {
    expect(contrastRatio(variable(foreground), variable(background))).toBeGreaterThanOrEqual(
      MIN_TEXT_CONTRAST,
    );
  });
});
