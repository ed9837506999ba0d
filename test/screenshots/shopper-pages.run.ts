import { mkdir, readdir, rm } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../fixtures/browser.ts';
import { shopperTour, startShopperWorld, type ShopperWorld, type Viewport } from '../browser/shopper-tour.ts';

/**
 * `npm run screenshots` (vitest project `screenshots`): every page of the shopper tour
 * (test/browser/shopper-tour.ts) in three languages at a 375 × 740 phone and a 1280 × 900 desktop, as full-page
 * PNGs `<language>-<page>-<width>.png` in the git-ignored `screenshots/` folder at the repository root, which
 * each run empties first. `KASSA_SCREENSHOT_LANGUAGES=fr,pl` picks other languages. Not a test of the pages
 * (test/browser/ is): it only fails when a page cannot be brought into its state.
 */

const OUTPUT = new URL('../../screenshots/', import.meta.url);
const LANGUAGES = (process.env.KASSA_SCREENSHOT_LANGUAGES ?? 'en,de,es-419')
  .split(',')
  .map((language) => language.trim())
  .filter((language) => language !== '');
const VIEWPORTS: Viewport[] = [
  { width: 375, height: 740 },
  { width: 1280, height: 900 },
];

describe('screenshots of every shopper page', () => {
  let world: ShopperWorld;
  let browser: Browser;

  beforeAll(async () => {
    await rm(OUTPUT, { recursive: true, force: true });
    await mkdir(OUTPUT, { recursive: true });
    world = await startShopperWorld();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  for (const language of LANGUAGES) {
    it(`${language}: every page at ${VIEWPORTS.map((viewport) => viewport.width).join(' and ')} px`, async () => {
      const written: string[] = [];
      for (const stop of shopperTour(world, language)) {
        for (const viewport of VIEWPORTS) {
          const { context, page } = await stop.open(browser, viewport);
          try {
            const name = `${language}-${stop.name}-${viewport.width}.png`;
            await page.screenshot({ path: new URL(name, OUTPUT).pathname, fullPage: true });
            written.push(name);
          } finally {
            await context.close();
          }
        }
      }
      const files = await readdir(OUTPUT);
      expect(files).toEqual(expect.arrayContaining(written));
    });
  }
});
