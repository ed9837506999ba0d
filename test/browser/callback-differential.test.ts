import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sanitizeCallbackHtml } from '../../src/modules/callbacks/callback-html.ts';
import { launchBrowser } from '../fixtures/browser.ts';
import { DIFFERENTIAL_CORPUS } from '../unit/callbacks/differential-corpus.ts';

/**
 * The parser-differential corpus, sanitised, read by Chromium's own parser (DOMParser: scripting off, as in the
 * sandboxed callback page): no event handler, no script or foreign content, no javascript: URL — the browser's
 * verdict, beside parse5's in test/unit/callbacks/parser-differential.test.ts.
 */

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
});

describe('callback page sanitiser, as Chromium parses its output', () => {
  it('leaves nothing active in any corpus entry', async () => {
    const outputs = DIFFERENTIAL_CORPUS.map((input) => ({
      input,
      html: sanitizeCallbackHtml(input, { pageUrl: 'https://shop.test/ok', proxy: (url) => `/p?u=${url}` })
        .html,
    }));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const findings = await page.evaluate((pages) => {
        const found: string[] = [];
        for (const { input, html } of pages) {
          const doc = new DOMParser().parseFromString(html, 'text/html');
          for (const element of Array.from(doc.querySelectorAll('*'))) {
            const name = element.localName;
            if (element.namespaceURI !== 'http://www.w3.org/1999/xhtml')
              found.push(`${input}: foreign ${name}`);
            if (/^(script|iframe|frame|object|embed|base|template|noscript|portal)$/.test(name)) {
              found.push(`${input}: <${name}>`);
            }
            for (const attr of Array.from(element.attributes)) {
              if (/^on/i.test(attr.name)) found.push(`${input}: ${name}[${attr.name}]`);
              const scheme = Array.from(attr.value)
                .filter((char) => char.charCodeAt(0) > 0x20)
                .join('')
                .toLowerCase();
              if (/^(javascript|vbscript):/.test(scheme)) found.push(`${input}: ${name}[${attr.name}]`);
            }
          }
        }
        return found;
      }, outputs);
      expect(findings).toEqual([]);
      expect(outputs.length).toBeGreaterThan(100);
    } finally {
      await context.close();
    }
  });
});
