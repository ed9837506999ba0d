import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import { addUser, PASSWORD } from '../e2e/dashboard/dashboard-fixtures.ts';
import { createPaymentCheckout, get, payByApi, type PaymentJson } from '../e2e/payments/payment-fixtures.ts';

/**
 * The merchant dashboard in Debian's Chromium, with JavaScript off (the pages need none): a support person
 * signs in, finds an order by the customer's e-mail and refunds part of it; the page fits a 375px screen and
 * the CSP refuses nothing.
 */
describe('the dashboard in a real browser', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let problems: string[] = [];
  let payment: PaymentJson;

  beforeAll(async () => {
    t = await createTestApp({ listen: true });
    merchant = await t.createMerchant({ name: 'Browser Shop' });
    await addUser(t, merchant.merchantId, 'support@browser.test', 'support');
    for (const [orderId, email] of [
      ['B-1', 'someone@customer.test'],
      ['B-2', 'ada@customer.test'],
    ] as const) {
      const checkout = await createPaymentCheckout(t, merchant, {
        capture: 'automatic',
        amount: 1000,
        customerEmail: email,
        merchantOrderId: orderId,
      });
      const response = await payByApi(t, merchant, checkout.checkout_id);
      expect(response.statusCode).toBe(201);
      payment = response.json();
    }
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

  async function newPage(width: number): Promise<Page> {
    context = await browser.newContext({ viewport: { width, height: 800 }, javaScriptEnabled: false });
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
    return page;
  }

  async function fitsTheScreen(page: Page, width: number) {
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth, page.url()).toBeLessThanOrEqual(width);
  }

  it('signs in, finds an order by e-mail and refunds part of it, on a 375px screen', async () => {
    const page = await newPage(375);
    await page.goto(`${t.baseUrl}/dashboard`);
    await page.waitForURL(`${t.baseUrl}/dashboard/sign-in`);
    await fitsTheScreen(page, 375);
    await page.getByLabel('Email').fill('support@browser.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard`);
    expect(await page.textContent('h1')).toBe('Home');
    expect(await page.textContent('.dash-testmode')).toContain('Test mode');
    await fitsTheScreen(page, 375);

    await page.getByRole('link', { name: 'Payments' }).click();
    await page.getByLabel('Search').fill('ada@customer.test');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/dashboard\/orders\?q=ada%40customer\.test(&|$)/);
    expect(await page.locator('tbody tr').count()).toBe(1);
    await fitsTheScreen(page, 375);
    await page.getByRole('link', { name: 'B-2' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard/orders/${payment.order_id}`);
    await fitsTheScreen(page, 375);

    await page.getByLabel('Amount to refund').fill('3.00');
    await page.getByLabel('Reason').fill('One item returned');
    await page.getByRole('button', { name: 'Refund' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard/orders/${payment.order_id}?notice=refunded`);
    expect(await page.textContent('.dash-notice--success')).toContain('The refund was sent.');
    expect(await page.textContent('main')).toContain('Available to refund: $7.00');
    const refunds = (await get(t, merchant, `/v1/payments/${payment.id}/refunds`)).json();
    expect(refunds.data).toMatchObject([{ amount: 300, reason: 'One item returned', status: 'SUCCEEDED' }]);
    await fitsTheScreen(page, 375);
  });
});
