import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../fixtures/browser.ts';
import { axeViolations } from './axe.ts';
import { shopperTour, startShopperWorld, type ShopperWorld, type Viewport } from './shopper-tour.ts';

/**
 * axe-core in Chromium on every page a shopper can meet (test/browser/shopper-tour.ts: the payment page as
 * opened, after a decline and with invoice chosen; 3-D Secure; the wallet; the status pages — paid, pending,
 * canceled, expired, confirming; the error pages of a failed merchant callback; the unknown-checkout page;
 * payment links; a merchant's page with the SDK's methods), in English and German: no violation of the
 * WCAG 2.0/2.1/2.2 A and AA rules nor of axe's best practices, none disabled (docs/accessibility.md).
 * Every page at a 375 px phone; the payment page, whose layout changes most, at 1280 px as well.
 */

const LANGUAGES = ['en', 'de'];
const PHONE: Viewport = { width: 375, height: 740 };
const DESKTOP: Viewport = { width: 1280, height: 900 };

describe('accessibility of every shopper page (axe-core)', () => {
  let world: ShopperWorld;
  let browser: Browser;

  beforeAll(async () => {
    world = await startShopperWorld();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it('axe finds what it should: a nameless field and low-contrast text on a Kassa page fail', async () => {
    const [checkout] = shopperTour(world, 'en');
    const { context, page } = await checkout!.open(browser, DESKTOP);
    try {
      expect(await axeViolations(page)).toEqual([]);
      await page.evaluate(() => {
        const unlabelled = document.createElement('input');
        unlabelled.type = 'text';
        document.querySelector('main')?.append(unlabelled);
        document.querySelector('.page-footer')?.setAttribute('style', 'color: #d0d0d0');
      });
      const found = (await axeViolations(page)).map((line) => line.split(' ')[0]);
      expect(found).toEqual(expect.arrayContaining(['label', 'color-contrast']));
    } finally {
      await context.close();
    }
  });

  it('the waiting page moves on to the result by itself, without reloading itself meanwhile (WCAG 2.2.1)', async () => {
    const waiting = shopperTour(world, 'en').find((stop) => stop.name === 'status-processing')!;
    const { context, page } = await waiting.open(browser, PHONE);
    try {
      expect(await page.textContent('h1')).toBe('Confirming your payment');
      expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(0); // only inside <noscript>
      const loads: string[] = [];
      page.on('load', () => loads.push(page.url()));
      // The processor answers after PROCESSING_LATENCY_MS; checkout.js has been asking every 2 s meanwhile.
      await page.waitForSelector('h1:has-text("This order is paid")', { timeout: 30_000 });
      expect(loads).toHaveLength(1);
    } finally {
      await context.close();
    }
  });

  for (const locale of LANGUAGES) {
    for (const [index, stop] of shopperTour({ ...({} as ShopperWorld) }, locale).entries()) {
      const viewports = stop.name.startsWith('checkout') ? [PHONE, DESKTOP] : [PHONE];
      for (const viewport of viewports) {
        it(`${locale} · ${stop.name} at ${viewport.width} px: 0 violations`, async () => {
          // The stops are built once the world runs; the names above only label the tests.
          const live = shopperTour(world, locale)[index]!;
          const { context, page } = await live.open(browser, viewport);
          try {
            expect(await page.getAttribute('html', 'lang')).toBe(locale);
            expect(await axeViolations(page)).toEqual([]);
          } finally {
            await context.close();
          }
        });
      }
    }
  }
});
