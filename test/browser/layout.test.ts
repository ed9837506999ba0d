import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_LOCALES } from '../../src/http/pages/page-locale.ts';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import { createHostedCheckout } from '../e2e/hosted-page/hosted-fixtures.ts';

/**
 * The payment page's layout, checked by element boxes in every language at a 375 × 740 phone and a 1280 × 900
 * desktop: nothing wider than the viewport, no two controls or labels overlapping, the expiry and CVC inputs
 * side by side on one line whatever their labels do, and — on the phone — the order summary collapsed to one
 * line so the Pay button is at most a short scroll away. Screenshots go to .tmp/screenshots/layout-*.png.
 */

const SCREENSHOTS = new URL('../../.tmp/screenshots/', import.meta.url);
const MOBILE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36';
const PHONE = { width: 375, height: 740 };
const DESKTOP = { width: 1280, height: 900 };
/** "A short scroll": the Pay button's bottom edge within 1.5 phone screens of the top of the page. */
const PAY_BUTTON_REACH = Math.round(PHONE.height * 1.5);

type Box = { name: string; x: number; y: number; width: number; height: number };

/** Boxes of the page's visible leaf-level parts: labels, inputs, method options, buttons, summary rows. */
async function boxesOf(page: Page): Promise<Box[]> {
  return page.evaluate(() => {
    const selectors = [
      '.merchant',
      '.summary__headline',
      '.summary__toggle',
      '.summary__heading-row',
      '.line',
      '.totals__row',
      '.section-title',
      '.method',
      '.field__label',
      '.field__input',
      '.field__hint',
      '.checkbox',
      '.button--pay',
      '.cancel-form .button',
      '.page-footer',
    ];
    const boxes: Box[] = [];
    for (const selector of selectors) {
      document.querySelectorAll(selector).forEach((element, index) => {
        const rect = element.getBoundingClientRect();
        // Inside a closed <details> an element keeps a box but is not rendered: checkVisibility knows.
        const visible = element.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true });
        if (rect.width === 0 || rect.height === 0 || !visible) return;
        boxes.push({
          name: `${selector}[${index}]`,
          x: rect.left + window.scrollX,
          y: rect.top + window.scrollY,
          width: rect.width,
          height: rect.height,
        });
      });
    }
    return boxes;
  });
}

/** The Pay button's visible text, spaces normalised (money formats use no-break spaces). */
async function buttonText(page: Page): Promise<string> {
  return (await page.innerText('.button--pay')).replace(/\s+/g, ' ').trim();
}

function overlap(a: Box, b: Box): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 0 && height > 0 ? width * height : 0;
}

function overlaps(boxes: readonly Box[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      // Rounding may make neighbours share a sub-pixel line; a real overlap is more than that.
      if (overlap(boxes[i]!, boxes[j]!) > 2) found.push(`${boxes[i]!.name} × ${boxes[j]!.name}`);
    }
  }
  return found;
}

describe('payment page layout in every language', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let browser: Browser;
  let context: BrowserContext | undefined;
  const problems: string[] = [];

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    t = await createTestApp({ listen: true });
    merchant = await t.createMerchant({ name: 'Nordlys Outdoor' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    expect(problems.splice(0)).toEqual([]);
  });

  async function open(locale: string, viewport: { width: number; height: number }, javaScript = true) {
    const checkout = await createHostedCheckout(t, merchant, {
      locale,
      currency: 'DKK',
      country: 'DK',
      amount: 24900,
      allowSave: true,
      merchantOrderId: 'NO-10482',
    });
    const mobile = viewport.width < 500;
    context = await browser.newContext({
      viewport,
      javaScriptEnabled: javaScript,
      ...(mobile ? { userAgent: MOBILE_UA, isMobile: true, hasTouch: true } : {}),
    });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1')
        problems.push(`left loopback: ${url.href}`);
    });
    await page.goto(checkout.url);
    return page;
  }

  async function expectSoundLayout(page: Page, viewport: { width: number }, label: string) {
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth, `${label}: page wider than the viewport`).toBeLessThanOrEqual(viewport.width);
    const boxes = await boxesOf(page);
    expect(boxes.length).toBeGreaterThan(10);
    const offScreen = boxes.filter((box) => box.x < -0.5 || box.x + box.width > viewport.width + 0.5);
    expect(
      offScreen.map((box) => box.name),
      `${label}: off screen`,
    ).toEqual([]);
    expect(overlaps(boxes), `${label}: overlapping`).toEqual([]);
    // Expiry and CVC: one row, inputs level and equally tall, whatever the labels do.
    const expiry = boxes.find((box) => box.name === '.field__input[2]')!;
    const cvc = boxes.find((box) => box.name === '.field__input[3]')!;
    expect(Math.abs(expiry.y - cvc.y), `${label}: expiry and CVC inputs not level`).toBeLessThan(1);
    expect(Math.abs(expiry.height - cvc.height)).toBeLessThan(1);
    expect(expiry.x + expiry.width).toBeLessThanOrEqual(cvc.x);
    return boxes;
  }

  for (const locale of PAGE_LOCALES) {
    it(`${locale} at 375 × 740: summary collapsed, Pay button within reach, nothing overlaps`, async () => {
      const page = await open(locale, PHONE);
      await page.screenshot({
        path: new URL(`layout-${locale}-375.png`, SCREENSHOTS).pathname,
        fullPage: true,
      });
      expect(await page.getAttribute('html', 'lang')).toBe(locale);
      const boxes = await expectSoundLayout(page, PHONE, `${locale} 375`);
      expect(await page.isVisible('.summary__toggle')).toBe(true);
      expect(await page.isVisible('.lines')).toBe(false);
      const pay = boxes.find((box) => box.name.startsWith('.button--pay'))!;
      expect(pay.y + pay.height, `${locale}: Pay button too far down`).toBeLessThanOrEqual(PAY_BUTTON_REACH);
      // The toggle opens the breakdown, and the layout still holds.
      await page.click('.summary__toggle');
      expect(await page.isVisible('.lines')).toBe(true);
      await expectSoundLayout(page, PHONE, `${locale} 375 open`);
    });

    it(`${locale} at 1280 × 900: summary shown in full, nothing overlaps`, async () => {
      const page = await open(locale, DESKTOP);
      await expectSoundLayout(page, DESKTOP, `${locale} 1280`);
      expect(await page.isVisible('.summary__toggle')).toBe(false);
      expect(await page.isVisible('.lines')).toBe(true);
      expect(await page.isVisible('.totals')).toBe(true);
      await page.screenshot({
        path: new URL(`layout-${locale}-1280.png`, SCREENSHOTS).pathname,
        fullPage: true,
      });
    });
  }

  it('shows the detected card brand in the number field as typed, grouped, and the button says what happens', async () => {
    const page = await open('EN', DESKTOP);
    expect(await page.locator('.method__brands [data-brand-mark]').count()).toBeGreaterThan(3);
    expect(await page.isVisible('[data-brand-slot] svg')).toBe(false);
    await page.locator('#card-number').pressSequentially('4242424242424242');
    expect(await page.inputValue('#card-number')).toBe('4242 4242 4242 4242');
    expect(await page.getAttribute('[data-brand-slot] svg', 'aria-label')).toBe('Visa');
    await page.fill('#card-number', '');
    await page.locator('#card-number').pressSequentially('378282246310005');
    expect(await page.inputValue('#card-number')).toBe('3782 822463 10005');
    expect(await page.getAttribute('[data-brand-slot] svg', 'aria-label')).toBe('American Express');
    // The number field's mark sits inside the input, clear of the typed digits.
    const input = (await page.locator('#card-number').boundingBox())!;
    const mark = (await page.locator('[data-brand-slot] svg').boundingBox())!;
    expect(mark.x).toBeGreaterThan(input.x + input.width / 2);
    expect(mark.x + mark.width).toBeLessThanOrEqual(input.x + input.width);
    // The Pay button speaks for the chosen method.
    expect(await buttonText(page)).toBe('Pay 249,00 kr.');
    await page.check('input[value="invoice"]');
    expect(await buttonText(page)).toBe('Place order, pay 249,00 kr. by invoice');
    await page.screenshot({ path: new URL('brand-and-invoice-en.png', SCREENSHOTS).pathname });
  });

  it('the button follows the method without JavaScript too', async () => {
    const page = await open('DA', PHONE, false);
    expect(await buttonText(page)).toBe('Betal 249,00 kr.');
    await page.check('input[value="invoice"]');
    expect(await buttonText(page)).toBe('Bestil og betal 249,00 kr. mod faktura');
  });

  it("a logo that does not load gives way to the merchant's initial", async () => {
    await t.app.inject({
      method: 'PATCH',
      url: '/v1/merchant',
      headers: merchant.headers,
      payload: { branding: { logo_url: 'data:image/png;base64,AAAA' } },
    });
    try {
      const page = await open('EN', DESKTOP);
      await page.waitForFunction(() => document.querySelector('img[data-logo]') === null);
      expect(await page.isVisible('.merchant__initial')).toBe(true);
      expect(await page.textContent('.merchant__initial')).toBe('N');
    } finally {
      await t.app.inject({
        method: 'PATCH',
        url: '/v1/merchant',
        headers: merchant.headers,
        payload: { branding: { logo_url: null } },
      });
    }
  });

  it('the summary toggle works without JavaScript', async () => {
    const page = await open('DA', PHONE, false);
    expect(await page.isVisible('.lines')).toBe(false);
    await page.click('.summary__toggle');
    expect(await page.isVisible('.lines')).toBe(true);
    await expectSoundLayout(page, PHONE, 'da 375 no-js');
  });
});
