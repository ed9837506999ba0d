import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import { decodeQrDataUrl } from '../e2e/payment-links/payment-link-fixtures.ts';

/**
 * The demo shop at /demo (docs/sdk.md) in Debian's Chromium: a shopper fills a cart and pays the three ways —
 * redirect to the hosted page, payment methods embedded by the browser SDK, and a payment link (opened in the
 * browser, through the shop's initFromQR landing page) — with 4242 4242 4242 4242, and ends on the shop's
 * receipt. The shop talks to Kassa only over HTTP with the API key of a merchant this test creates.
 * Screenshots go to .tmp/screenshots/demo-*.png.
 */

const SCREENSHOTS = new URL('../../.tmp/screenshots/', import.meta.url);

describe('the demo shop in a real browser', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let problems: string[] = [];

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    t = await createTestApp({ listen: true, env: { KASSA_DEMO: 'true' } });
    merchant = await t.createMerchant({ name: 'Demo Shop' });
    t.services.demoShop.use({ apiKey: merchant.apiKey });
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

  async function newPage(): Promise<Page> {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('console', (message) => {
      // Chromium logs every failed load (the favicon of a page Kassa served from a callback included); failed
      // responses are checked below, where they can be told apart.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        problems.push(`console: ${message.text()}`);
      }
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1')
        problems.push(`left loopback: ${request.url()}`);
    });
    return page;
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: new URL(`demo-${name}.png`, SCREENSHOTS).pathname, fullPage: true });

  async function addToCart(page: Page, productName: string) {
    await page.getByRole('button', { name: `Add ${productName} to cart` }).click();
    await page.waitForSelector('.demo-notice--success');
    expect(await page.textContent('.demo-notice--success')).toContain(`${productName} is in your cart.`);
  }

  async function payOnHostedPage(page: Page) {
    await page.waitForURL(`${t.baseUrl}/pay/**`);
    await page.fill('#card-name', 'Ada Lovelace');
    await page.fill('#card-number', '4242 4242 4242 4242');
    await page.fill('#card-expiry', '12/34');
    await page.fill('#card-cvc', '737');
    await page.click('button.button--pay');
  }

  async function orderOf(orderNumber: string) {
    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/orders?merchant_order_id=${encodeURIComponent(orderNumber)}`,
      headers: merchant.headers,
    });
    const orders = response.json<{ data: { order_id: string; status: string; total_amount: number }[] }>()
      .data;
    expect(orders.length).toBeGreaterThan(0);
    return orders[0]!;
  }

  async function expectReceipt(page: Page, options: { total: string; status: string }) {
    await page.waitForSelector('#receipt-order-number');
    expect(await page.textContent('h1')).toBe('Thank you! Your order is confirmed.');
    expect(await page.textContent('#receipt-payment-method')).toBe('Visa •••• 4242');
    expect(await page.textContent('#receipt-status')).toBe(options.status);
    expect(await page.textContent('.demo-totals__total')).toContain(options.total);
    return (await page.textContent('#receipt-order-number'))!.trim();
  }

  it('redirect: cart → Kassa’s hosted page → the receipt the shop answered the ok callback with', async () => {
    const page = await newPage();
    await page.goto(`${t.baseUrl}/demo`);
    expect(await page.getByRole('article').count()).toBe(4);
    await shot(page, 'shop');
    await addToCart(page, 'Merino wool scarf');
    await addToCart(page, 'Stoneware mug');
    expect(await page.textContent('.demo-count')).toBe('2');
    await page.getByRole('link', { name: /Cart/ }).click();
    await page.waitForURL(`${t.baseUrl}/demo/cart`);
    // 349.00 + 129.00 + 39.00 shipping (free only from 500.00)
    expect(await page.textContent('.demo-totals__total')).toContain('517,00');
    await shot(page, 'cart');

    await page.getByRole('button', { name: 'Pay on the secure page' }).click();
    await page.waitForURL(`${t.baseUrl}/pay/**`);
    expect(await page.textContent('button.button--pay')).toContain('517,00');
    await shot(page, 'hosted-page');
    await payOnHostedPage(page);

    // Kassa posted the result to the shop's callback and serves its answer on its own URL.
    await page.waitForSelector('#receipt-order-number');
    const orderNumber = await expectReceipt(page, { total: '517,00', status: 'Paid' });
    expect(page.url()).toContain('/pay/');
    expect(orderNumber).toMatch(/^DEMO-[0-9A-F]{8}$/);
    expect(await page.textContent('.demo-hint')).toContain('callback');
    await shot(page, 'receipt-callback');

    const order = await orderOf(orderNumber);
    expect(order).toMatchObject({ status: 'PAID', total_amount: 51_700 });
    // verify_order (the shop re-priced the order) and ok were both answered.
    const timeline = await t.app.inject({
      method: 'GET',
      url: `/v1/orders/${order.order_id}/timeline`,
      headers: merchant.headers,
    });
    const attempts = timeline
      .json<{ data: { kind: string; attempt?: { callback?: string; kind?: string; result?: string } }[] }>()
      .data.filter((entry) => entry.kind === 'callback_attempt')
      .map((entry) => JSON.stringify(entry.attempt));
    expect(attempts.some((attempt) => attempt.includes('verify_order'))).toBe(true);
    expect(attempts.some((attempt) => attempt.includes('"ok"'))).toBe(true);

    // Back in the shop, the paid cart is gone.
    // (followed with goto: Playwright's click helpers cannot run in a page sandboxed without scripts)
    const shopLink = await page.getAttribute('.demo-receipt__actions a', 'href');
    expect(shopLink).toBe(`${t.baseUrl}/demo`);
    await page.goto(shopLink!);
    expect(await page.textContent('.demo-count')).toBe('0');
  });

  it('embedded: the SDK shows the methods on the shop’s page; Continue → hosted page with the method chosen → receipt', async () => {
    const page = await newPage();
    await page.goto(`${t.baseUrl}/demo`);
    await addToCart(page, 'Oak table lamp');
    await page.goto(`${t.baseUrl}/demo/cart`);
    await page.getByRole('button', { name: 'Continue to checkout' }).click();
    await page.waitForSelector('#kassa-payment-methods[data-state="ready"]');
    expect(await page.getByRole('group', { name: 'Payment method' }).isVisible()).toBe(true);
    expect(await page.getByRole('radio', { name: 'Card' }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: 'Invoice' }).isVisible()).toBe(true);
    // Card data never touches the shop's page.
    expect(await page.locator('#kassa-payment-methods input:not([type="radio"])').count()).toBe(0);
    expect(await page.textContent('.kassa-total__amount')).toContain('749,00');
    await shot(page, 'embedded');

    // Choosing Invoice and going back proves the choice travels: the hosted page preselects it.
    await page.getByRole('radio', { name: 'Invoice' }).check();
    await page.getByRole('button', { name: 'Continue to secure payment' }).click();
    await page.waitForURL(/\/pay\/.*\?method=invoice$/);
    expect(await page.isChecked('input[name="payment_method"][value="invoice"]')).toBe(true);
    await page.goBack();
    await page.waitForSelector('#kassa-payment-methods[data-state="ready"]');
    await page.getByRole('radio', { name: 'Card' }).check();
    await page.getByRole('button', { name: 'Continue to secure payment' }).click();
    await page.waitForURL(/\/pay\/.*\?method=card$/);
    expect(await page.isChecked('input[name="payment_method"][value="card"]')).toBe(true);
    await payOnHostedPage(page);

    const orderNumber = await expectReceipt(page, { total: '749,00', status: 'Paid' });
    await shot(page, 'receipt-embedded');
    expect(await orderOf(orderNumber)).toMatchObject({ status: 'PAID', total_amount: 74_900 });
  });

  it('payment link: a link and its QR code; opened in the browser, paid on the hosted page, back to a verified receipt', async () => {
    const page = await newPage();
    await page.goto(`${t.baseUrl}/demo`);
    await addToCart(page, 'Linen tote bag');
    await page.goto(`${t.baseUrl}/demo/cart`);
    await page.getByRole('button', { name: 'Create a payment link' }).click();
    await page.waitForURL(`${t.baseUrl}/demo/links/pl_*`);
    const linkUrl = await page.inputValue('#payment-link-url');
    expect(linkUrl).toMatch(new RegExp(`^${t.baseUrl}/l/pl_[0-9a-f]{44}/[0-9a-f]{64}$`));
    // The QR code on the page encodes exactly the link.
    const qr = (await page.getAttribute('.demo-link__qr', 'src'))!;
    expect(decodeQrDataUrl(qr)).toBe(linkUrl);
    await shot(page, 'payment-link');

    // "Scan" it: open the link in the browser. The shop's landing page loads the order with initFromQR().
    await page.goto(linkUrl);
    await page.waitForURL(`${t.baseUrl}/demo/link/landing**`);
    await page.waitForSelector('#kassa-payment-methods[data-state="ready"]');
    // The SDK took the client token out of the address bar.
    expect(page.url()).not.toContain('kassa_token');
    expect(await page.textContent('.kassa-total__amount')).toContain('128,00');
    await shot(page, 'payment-link-landing');
    await page.getByRole('button', { name: 'Continue to secure payment' }).click();
    await payOnHostedPage(page);

    // A link has no per-link callbacks: Kassa returns to the signed completed URL, which the shop verifies.
    await page.waitForURL(`${t.baseUrl}/demo/receipt?**`);
    const orderNumber = await expectReceipt(page, { total: '128,00', status: 'Paid' });
    expect(await page.textContent('.demo-hint')).toContain('signature');
    await shot(page, 'receipt-link');
    expect(await orderOf(orderNumber)).toMatchObject({ status: 'PAID', total_amount: 12_800 });

    // The link is used up now.
    const used = await page.goto(linkUrl);
    expect(used?.status()).toBe(410);
    expect(await page.textContent('body')).toContain('already been used');
    expect(problems).toEqual([`HTTP 410: ${linkUrl}`]);
    problems = [];
  });
});
