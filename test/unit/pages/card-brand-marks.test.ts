import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BRAND_NAMES, renderBrandMark } from '../../../src/http/pages/card-brand-marks.ts';

/**
 * The card-brand marks are drawn for the project (plain shapes and the brand's name), so they ship under the
 * project's own licence — which must then be in the repository, and nothing in a mark may be copied or
 * fetched artwork.
 */

const ROOT = new URL('../../../', import.meta.url);

describe('card brand marks and their licence', () => {
  it("the project's MIT licence is in the repository and matches package.json", () => {
    const licence = readFileSync(new URL('LICENSE', ROOT), 'utf8');
    expect(licence).toMatch(/^MIT License\n/);
    expect(licence).toContain('Permission is hereby granted, free of charge');
    const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { license: string };
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(new URL('src/http/pages/card-brand-marks.ts', ROOT), 'utf8')).toContain(
      "under the project's licence (MIT)",
    );
  });

  it('every mark is an inline SVG drawn from shapes and text, named for screen readers, embedding nothing', () => {
    for (const [brand, name] of Object.entries(BRAND_NAMES)) {
      const svg = String(renderBrandMark(brand as keyof typeof BRAND_NAMES));
      // Attributes are separated by any white space (html`` drops the indentation of template lines).
      expect(svg, brand).toMatch(/^<svg[^>]*\srole="img"/);
      expect(svg, brand).toContain(`aria-label="${name}"`);
      // No raster or external artwork: no <image>, no href, no url(), no data: URI.
      expect(svg, brand).not.toMatch(/<image|href=|url\(|data:/i);
      const elements = [...svg.matchAll(/<([a-z]+)/g)].map((match) => match[1]);
      for (const element of elements)
        expect(
          ['svg', 'title', 'rect', 'circle', 'path', 'text', 'g', 'ellipse', 'polygon'],
          `${brand}: <${element}>`,
        ).toContain(element);
    }
  });
});
