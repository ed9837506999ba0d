import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../fixtures/axe.ts';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import { addUser } from '../e2e/dashboard/dashboard-fixtures.ts';
import { signInThroughForms } from './dashboard-sign-in.ts';
import { createPaymentCheckout, payByApi } from '../e2e/payments/payment-fixtures.ts';

/**
 * The dashboard's shop pages in Debian's Chromium: branding changed in Settings shows in the preview and then
 * on the hosted payment page of a new checkout; a payment link made in the dashboard opens the payment page;
 * the test/live switch; and axe-core (WCAG A/AA) finds nothing on any of these pages. The journeys run with
 * JavaScript off (the pages need none); the page script's niceties (live preview, copy) run with it on.
 */
describe('the shop pages of the dashboard in a real browser', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let problems: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ listen: true });
    merchant = await t.createMerchant({ name: 'Browser Bakery' });
    await addUser(t, merchant.merchantId, 'owner@bakery.test', 'owner');
    await createPaymentCheckout(t, merchant, { currency: 'EUR', amount: 1250, merchantOrderId: 'BAKE-1' });
    // A paid order, so its page shows a payment attempt, the refund form and a timeline.
    const paid = await createPaymentCheckout(t, merchant, {
      currency: 'EUR',
      amount: 2400,
      capture: 'automatic',
      merchantOrderId: 'BAKE-2',
      customerEmail: 'baker@customer.test',
    });
    expect((await payByApi(t, merchant, paid.checkout_id)).statusCode).toBe(201);
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    const seen = problems;
    problems = [];
    expect(seen).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signedInPage(options: { width: number; javaScript: boolean }): Promise<Page> {
    context = await browser.newContext({
      viewport: { width: options.width, height: 900 },
      javaScriptEnabled: options.javaScript,
    });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1')
        problems.push(`left loopback: ${request.url()}`);
    });
    await signInThroughForms(page, t, 'owner@bakery.test');
    return page;
  }

  async function expectAccessible(page: Page) {
    expect(await axeViolations(page), page.url()).toEqual([]);
  }

  async function fitsTheScreen(page: Page, width: number) {
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth, page.url()).toBeLessThanOrEqual(width);
  }

  it('changes the branding, sees it in the preview before saving, then on the hosted page of a new checkout', async () => {
    const page = await signedInPage({ width: 375, javaScript: false });
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard/settings`);
    await fitsTheScreen(page, 375);

    await page.getByLabel('Display name').fill('Crumb & Co');
    await page.getByLabel('Brand colour').fill('#7a1f5c');
    await page.getByRole('button', { name: 'Preview' }).click();
    const preview = page.frameLocator('iframe[name="branding-preview"]');
    await expect.poll(() => preview.locator('body').textContent()).toContain('Crumb & Co');
    // Not saved yet: the merchant's name is still the old one.
    const before = await t.app.inject({ method: 'GET', url: '/v1/merchant', headers: merchant.headers });
    expect(before.json().display_name).not.toBe('Crumb & Co');

    await page.getByRole('button', { name: 'Save branding' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard/settings?notice=branding_saved`);
    expect(await page.textContent('.dash-notice--success')).toContain('Branding saved');

    const checkout = await createPaymentCheckout(t, merchant, { currency: 'EUR', amount: 990 });
    await page.goto(checkout.checkout_redirect_url);
    expect(await page.textContent('body')).toContain('Crumb & Co');
    const brand = await page.evaluate(() =>
      getComputedStyle(document.documentElement).getPropertyValue('--brand').trim(),
    );
    expect(brand).toBe('#7a1f5c');
  });

  it('creates a payment link with its QR code and opens it on the payment page; switches to live mode and back', async () => {
    const page = await signedInPage({ width: 375, javaScript: false });
    await page.getByRole('link', { name: 'Payment links' }).click();
    await page.getByLabel('Amount').fill('18.50');
    await page.getByLabel('Currency').fill('EUR');
    await page.getByLabel('Description').fill('Sourdough subscription');
    await page.getByLabel('Country').fill('DK');
    await page.getByLabel('After paying, go to').fill('https://bakery.example/thanks');
    await page.getByLabel('After canceling, go to').fill('https://bakery.example/');
    await page.getByRole('button', { name: 'Create link' }).click();
    await page.waitForURL(/\/dashboard\/payment-links\/pl_[^?]+\?notice=created$/);
    await fitsTheScreen(page, 375);
    expect(await page.locator('.dash-qr svg').count()).toBe(1);
    const url = await page.getByLabel('Link', { exact: true }).inputValue();
    expect(url.startsWith(`${t.baseUrl}/l/`)).toBe(true);

    await page.goto(url);
    await page.waitForURL(/\/pay\//);
    const text = await page.textContent('body');
    expect(text).toContain('Sourdough subscription');
    expect(text).toContain('18.50');

    await page.goto(`${t.baseUrl}/dashboard/checkouts`);
    expect(await page.textContent('main')).toContain('LINK-');
    await page.getByRole('button', { name: 'Switch to live' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard`);
    expect(await page.locator('.dash-testmode').count()).toBe(0);
    expect(await page.textContent('.dash-mode')).toContain('Live mode');
    await page.goto(`${t.baseUrl}/dashboard/checkouts`);
    expect(await page.textContent('main')).toContain('No checkouts.');
    await page.getByRole('button', { name: 'Switch to test' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard`);
    expect(await page.textContent('.dash-testmode')).toContain('Test mode');
  });

  it('has no axe violations on the shop pages, and the page script redraws the preview and copies the link', async () => {
    const page = await signedInPage({ width: 1280, javaScript: true });
    await page.goto(`${t.baseUrl}/dashboard/settings`);
    await expectAccessible(page);

    await page.getByLabel('Display name').fill('Typed Live');
    const preview = page.frameLocator('iframe[name="branding-preview"]');
    await expect.poll(() => preview.locator('body').textContent(), { timeout: 5000 }).toContain('Typed Live');

    await page.goto(`${t.baseUrl}/dashboard/payment-links`);
    await expectAccessible(page);
    await page.getByRole('link', { name: 'Sourdough subscription' }).click();
    await page.waitForURL(/\/dashboard\/payment-links\/pl_/);
    await expectAccessible(page);
    await context!.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.baseUrl });
    await page.getByRole('button', { name: 'Copy link' }).click();
    await expect.poll(() => page.textContent('[data-copy-status]')).toContain('Link copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      await page.getByLabel('Link', { exact: true }).inputValue(),
    );

    await page.goto(`${t.baseUrl}/dashboard/checkouts`);
    await expectAccessible(page);
    await page.goto(`${t.baseUrl}/dashboard/orders`);
    await expectAccessible(page);
  });

  it('has no axe violations on the sign-in page, Home, an order with its timeline and refund form, and Account', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const signIn = await context.newPage();
    await signIn.goto(`${t.baseUrl}/dashboard/sign-in`);
    await expectAccessible(signIn);
    await context.close();

    const page = await signedInPage({ width: 1280, javaScript: true });
    await expectAccessible(page); // Home: figures, the SVG chart and its table
    await page.goto(`${t.baseUrl}/dashboard/orders?q=BAKE-2`);
    await page.getByRole('link', { name: 'BAKE-2' }).click();
    await page.waitForURL(/\/dashboard\/orders\/ord_/);
    expect(await page.textContent('main')).toContain('Timeline');
    expect(await page.getByLabel('Amount to refund').count()).toBe(1);
    await expectAccessible(page);
    await page.goto(`${t.baseUrl}/dashboard/account`);
    await expectAccessible(page);
  });
});
