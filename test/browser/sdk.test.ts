import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';

/**
 * The browser SDK on a merchant page served from ANOTHER origin (a tiny shop on its own loopback port, with a
 * strict CSP of its own), loading /sdk/v1/kassa.js from Kassa with its SRI hash; and payment links opened in
 * a real browser. Nothing may leave loopback.
 */

const SDK_FILE = new URL('../../public/sdk/v1/kassa.js', import.meta.url);

type ShopPage = { sessionId?: string; token?: string; qr?: boolean };

describe('browser SDK and payment links in a real browser', () => {
  let kassa: TestApp;
  let merchant: TestMerchant;
  let browser: Browser;
  let shop: Server;
  let shopOrigin: string;
  const integrity = `sha384-${createHash('sha384').update(readFileSync(SDK_FILE)).digest('base64')}`;

  /**
   * The merchant's page: its server put the session id and client token in the page (or, for /landing, the
   * SDK reads them from the URL with initFromQR). The page's own CSP allows scripts from Kassa and its nonce,
   * connections to Kassa, and no inline styles at all.
   */
  function shopHtml(options: ShopPage): { html: string; nonce: string } {
    const nonce = randomBytes(16).toString('base64');
    const init = options.qr
      ? 'var client = Kassa.initFromQR();'
      : `var client = Kassa.init(${JSON.stringify({ sessionId: options.sessionId, token: options.token })});`;
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo shop</title>
      <script src="${kassa.baseUrl}/sdk/v1/kassa.js" integrity="${integrity}" crossorigin="anonymous"></script>
      </head><body><h1>Checkout</h1><div id="methods"></div>
      <script nonce="${nonce}">
        ${init}
        client.injectPaymentMethods('#methods').then(
          function (result) { document.body.setAttribute('data-ready', String(result.methods.length)); },
          function (error) { document.body.setAttribute('data-error', error.code + ':' + (error instanceof Kassa.KassaError)); }
        );
      </script></body></html>`;
    return { html, nonce };
  }

  beforeAll(async () => {
    kassa = await createTestApp({ listen: true });
    merchant = await kassa.createMerchant({ name: 'Nordic Tickets' });
    browser = await launchBrowser();
    const pages = new Map<string, ShopPage>();
    shop = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const options =
        url.pathname === '/landing' ? { qr: true } : pages.get(url.searchParams.get('page') ?? '');
      if (!options) {
        response.writeHead(404).end();
        return;
      }
      const { html, nonce } = shopHtml(options);
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}' ${kassa.baseUrl}; connect-src ${kassa.baseUrl}; style-src 'none'`,
      });
      response.end(html);
    });
    await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
    shopOrigin = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
    expect(shopOrigin).not.toBe(new URL(kassa.baseUrl).origin);
    registerShopPage = (id, options) => pages.set(id, options);
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => shop?.close(resolve));
    await kassa?.close();
  });

  let registerShopPage: (id: string, options: ShopPage) => void = () => {};

  async function createCheckout(body: Record<string, unknown>) {
    const response = await kassa.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: merchant.headers,
      payload: body,
    });
    if (response.statusCode !== 201) throw new Error(`checkout: ${response.body}`);
    return response.json<{ checkout_id: string; client_token: string; checkout_redirect_url: string }>();
  }

  const order = (currency: string, country: string, id: string) => ({
    merchant_order_id: id,
    currency,
    country_code: country,
    subtotal_amount: 2_500,
    total_amount: 2_500,
    products: [{ id: 'sku-1', name: 'Concert ticket', quantity: 1, unit_price: 2_500 }],
  });

  const base = {
    completed_redirect_url: 'https://shop.example/done',
    canceled_redirect_url: 'https://shop.example/cancel',
  };

  /** A page that fails the test on script errors and on any request that leaves loopback. */
  async function newPage(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1')
        problems.push(`foreign request: ${request.url()}`);
    });
    return { page, problems };
  }

  it('injectPaymentMethods renders the eligible methods on another origin; choosing one and continuing lands on the secure Kassa page', async () => {
    const checkout = await createCheckout({ ...base, order: order('EUR', 'FI', 'sdk-1') });
    registerShopPage('one', { sessionId: checkout.checkout_id, token: checkout.client_token });
    const { page, problems } = await newPage();
    await page.goto(`${shopOrigin}/shop?page=one`);
    await page.waitForSelector('body[data-ready]');

    // Exactly the methods the API finds eligible for this browser (its User-Agent decides the device).
    const userAgent = await page.evaluate(() => navigator.userAgent);
    const eligible = await kassa.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${checkout.checkout_id}/payment-methods`,
      headers: { authorization: `Bearer ${checkout.client_token}`, 'user-agent': userAgent },
    });
    const types = eligible.json<{ data: { type: string }[] }>().data.map((method) => method.type);
    expect(types).toEqual(expect.arrayContaining(['card', 'invoice']));
    expect(await page.getAttribute('body', 'data-ready')).toBe(String(types.length));
    const labels: Record<string, string> = { card: 'Card', invoice: 'Invoice', wallet: 'Wallet' };
    expect(await page.getByRole('radio').count()).toBe(types.length);
    expect(await page.getByRole('group', { name: 'Payment method' }).isVisible()).toBe(true);
    for (const type of types)
      expect(await page.getByRole('radio', { name: labels[type] }).isVisible()).toBe(true);
    expect(await page.getByRole('radio', { name: labels[types[0]!] }).isChecked()).toBe(true);
    // Card data never touches the merchant page: nothing here but the method choice.
    expect(await page.locator('input:not([type="radio"])').count()).toBe(0);

    await page.getByRole('radio', { name: 'Invoice' }).check();
    await page.getByRole('button', { name: 'Continue to secure payment' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/pay/'));
    const landed = new URL(page.url());
    expect(`${landed.origin}${landed.pathname}`).toBe(checkout.checkout_redirect_url);
    expect(landed.searchParams.get('method')).toBe('invoice');
    // Invoice comes preselected, and the button says what happens for it.
    expect(
      await page
        .getByRole('button', { name: /^Place order, pay .+ by invoice$/ })
        .first()
        .isVisible(),
    ).toBe(true);
    expect(await page.getByText('sdk-1').first().isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('rejects with a typed no_payment_methods error when no method is available', async () => {
    // Invoice only, in a country the invoice rules do not cover: nothing is eligible.
    const checkout = await createCheckout({
      ...base,
      payment_methods: ['invoice'],
      order: order('MXN', 'MX', 'sdk-none'),
    });
    registerShopPage('none', { sessionId: checkout.checkout_id, token: checkout.client_token });
    const { page, problems } = await newPage();
    await page.goto(`${shopOrigin}/shop?page=none`);
    await page.waitForSelector('body[data-error]');
    expect(await page.getAttribute('body', 'data-error')).toBe('no_payment_methods:true');
    expect(await page.getByRole('radio').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a payment link opened in the browser reaches the hosted payment page', async () => {
    const link = await createLink({ order: order('EUR', 'FI', 'link-browser-1') });
    const { page, problems } = await newPage();
    await page.goto(link.url);
    expect(new URL(page.url()).pathname).toMatch(/^\/pay\/chk_[0-9a-f]{32}\/[0-9a-f]{64}$/);
    expect(await page.getByRole('button', { name: /^Pay / }).first().isVisible()).toBe(true);
    expect(await page.getByText('link-browser-1').first().isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("a link with a landing page: initFromQR on the merchant's page loads the session, hides the token, and continues to Kassa", async () => {
    const link = await createLink({
      order: order('EUR', 'FI', 'link-landing-1'),
      landing_url: `${shopOrigin}/landing`,
    });
    const { page, problems } = await newPage();
    await page.goto(link.url);
    await page.waitForSelector('body[data-ready]');
    const landing = new URL(page.url());
    expect(landing.origin).toBe(shopOrigin);
    expect(landing.searchParams.get('kassa_link')).toBe(link.payment_link_id);
    expect(landing.searchParams.get('kassa_session')).toMatch(/^chk_/);
    expect(landing.searchParams.has('kassa_token')).toBe(false);

    // A reload still works: the token was kept for this tab.
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    await page.getByRole('button', { name: 'Continue to secure payment' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/pay/'));
    expect(await page.getByText('link-landing-1').first().isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a used link opened again says it is used', async () => {
    const link = await createLink({ order: order('EUR', 'FI', 'link-used-1') });
    const { page, problems } = await newPage();
    await page.goto(link.url);
    const checkoutId = /\/pay\/(chk_[0-9a-f]{32})\//.exec(page.url())![1]!;
    const paid = await kassa.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: merchant.headers,
      payload: {
        checkout_id: checkoutId,
        payment_method: {
          type: 'card',
          card: {
            number: '4242424242424242',
            exp_month: 12,
            exp_year: 2040,
            cvc: '123',
            holder_name: 'Ada Lovelace',
          },
        },
      },
    });
    expect(paid.statusCode).toBe(201);

    const response = await page.goto(link.url);
    expect(response?.status()).toBe(410);
    expect(
      await page.getByRole('heading', { name: 'This payment link has already been used' }).isVisible(),
    ).toBe(true);
    expect(await page.getByText('link-used-1').isVisible()).toBe(true);
    // Chrome reports the page's own 410 on the console; anything else is a problem.
    expect(problems.filter((problem) => !problem.includes('status of 410'))).toEqual([]);
    await page.close();
  });

  async function createLink(extra: Record<string, unknown>) {
    const response = await kassa.app.inject({
      method: 'POST',
      url: '/v1/payment-links',
      headers: merchant.headers,
      payload: { ...base, ...extra },
    });
    if (response.statusCode !== 201) throw new Error(`link: ${response.body}`);
    return response.json<{ payment_link_id: string; url: string }>();
  }
});
