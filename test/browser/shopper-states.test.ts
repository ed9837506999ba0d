import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWorkers } from '../../src/workers/workers.ts';
import { launchBrowser } from '../fixtures/browser.ts';
import { createHostedCheckout } from '../e2e/hosted-page/hosted-fixtures.ts';
import { shopperTour, startShopperWorld, type ShopperWorld } from './shopper-tour.ts';

/**
 * What the shopper's browser itself sees, in Chromium: the page's language chosen from the checkout's locale
 * or the browser's languages, and the pages that must tell the truth — the tampered or cut checkout address,
 * an unknown page (HTML for a browser, a problem document for an API client), and the error page after the
 * merchant's callback failed although the money was taken. Nothing leaves loopback.
 */

const DESKTOP = { width: 1280, height: 900 };

describe("the shopper's browser: languages and the pages that must tell the truth", () => {
  let world: ShopperWorld;
  let browser: Browser;
  let context: BrowserContext | undefined;
  const problems: string[] = [];

  beforeAll(async () => {
    world = await startShopperWorld();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    expect(problems.splice(0)).toEqual([]);
  });

  /** A fresh browser whose languages are `locale` (navigator.languages and the Accept-Language it sends). */
  async function newPage(locale: string): Promise<Page> {
    context = await browser.newContext({ viewport: DESKTOP, locale });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1')
        problems.push(`left loopback: ${url.href}`);
    });
    return page;
  }

  const checkout = (locale: string | null, merchantOrderId: string, extra = {}) =>
    createHostedCheckout(world.t, world.merchant, {
      locale,
      currency: 'EUR',
      country: 'DE',
      amount: 990,
      merchantOrderId,
      ...extra,
    });

  it("a checkout without a locale (locale: null) follows the browser's languages, skipping ones the pages do not speak", async () => {
    const created = await checkout(null, 'lang-null-1');
    const api = await world.t.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${created.checkoutId}`,
      headers: world.merchant.headers,
    });
    expect(api.json()).toMatchObject({ locale: null });

    const german = await newPage('de-DE');
    await german.goto(created.url);
    expect(await german.getAttribute('html', 'lang')).toBe('de');
    expect(await german.textContent('label[for="card-number"]')).toBe('Kartennummer');
    expect((await german.innerText('.button--pay')).replace(/\s/g, ' ')).toContain('9,90 €');
    await context?.close();

    // Chromium sends "ja-JP,ja;q=0.9" for a Japanese browser: nothing the pages speak → the merchant's default.
    const japanese = await newPage('ja-JP');
    await japanese.goto(created.url);
    expect(await japanese.getAttribute('html', 'lang')).toBe('en');
    expect(await japanese.textContent('label[for="card-number"]')).toBe('Card number');
  });

  it('an unsupported checkout locale falls back by language (es → Latin America, de-AT → German, nn → Bokmål), else to the merchant default', async () => {
    const cases: [string, string, string][] = [
      ['es', 'es-419', 'Número de tarjeta'],
      ['es-ES', 'es-ES', 'Número de tarjeta'],
      ['de-AT', 'de', 'Kartennummer'],
      ['nn-NO', 'nb', 'Kortnummer'],
      ['pt-PT', 'pt-BR', 'Número do cartão'],
      // The merchant chose a language the pages do not speak: its default, not the shopper's browser.
      ['ja-JP', 'en', 'Card number'],
    ];
    for (const [index, [locale, lang, cardNumber]] of cases.entries()) {
      const created = await checkout(locale, `lang-fallback-${index}`);
      const page = await newPage('fr-FR');
      await page.goto(created.url);
      expect(await page.getAttribute('html', 'lang'), locale).toBe(lang);
      expect(await page.textContent('label[for="card-number"]'), locale).toBe(cardNumber);
      await context?.close();
      context = undefined;
    }
  });

  it('a tampered or cut checkout address says the checkout link is not valid, in HTML for the browser and as a problem document for an API client', async () => {
    const created = await checkout('EN', 'tampered-1');
    const [, , id, signature] = created.path.split('/') as [string, string, string, string];
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
    const page = await newPage('en-GB');
    for (const path of [`/pay/${id}/${flipped}`, `/pay/${id}`]) {
      const response = await page.goto(`${world.t.baseUrl}${path}`);
      expect(response?.status(), path).toBe(404);
      expect(response?.headers()['content-type'], path).toBe('text/html; charset=utf-8');
      expect(await page.textContent('h1'), path).toBe('This checkout link is not valid');
      expect(await page.textContent('main')).toContain('Open the checkout again from the store.');
      expect(await page.textContent('body')).not.toContain('payment link');
    }
    const unknown = await page.goto(`${world.t.baseUrl}/no/such/page`);
    expect(unknown?.status()).toBe(404);
    expect(unknown?.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(await page.textContent('h1')).toBe('Page not found');
    // The same addresses asked for by an API client (Accept: application/json): RFC 9457 problem documents.
    for (const path of [`/pay/${id}`, '/no/such/page']) {
      const api = await page.request.get(`${world.t.baseUrl}${path}`, {
        headers: { accept: 'application/json' },
      });
      expect(api.status()).toBe(404);
      expect(api.headers()['content-type']).toContain('application/problem+json');
      expect(await api.json()).toMatchObject({ status: 404 });
    }
  });

  it("the merchant's callback fails after the money was taken: the page says the payment went through, with the order number and the payment id", async () => {
    const stop = shopperTour(world, 'en').find((entry) => entry.name === 'error-callback-paid')!;
    const opened = await stop.open(browser, DESKTOP);
    context = opened.context;
    const { page } = opened;
    expect(await page.textContent('h1')).toBe('Your payment went through');
    expect(await page.textContent('main')).toContain('Do not pay again');
    const details = await page.$$eval('.details__row', (rows) =>
      rows.map((row) => [row.querySelector('dt')?.textContent, row.querySelector('dd')?.textContent]),
    );
    const value = (label: string) => details.find(([name]) => name === label)?.[1] ?? '';
    expect(value('Order number')).toMatch(/^NO-CB-\d+$/);
    expect(value('Payment ID')).toMatch(/^pay_/);
    // Both are the real ones: the payment exists, succeeded, and belongs to that order.
    const payment = await world.t.app.inject({
      method: 'GET',
      url: `/v1/payments/${value('Payment ID')}`,
      headers: world.merchant.headers,
    });
    expect(payment.statusCode).toBe(200);
    const { status, order_id: orderId } = payment.json<{ status: string; order_id: string }>();
    expect(status).toBe('SUCCEEDED');
    const order = await world.t.app.inject({
      method: 'GET',
      url: `/v1/orders/${orderId}`,
      headers: world.merchant.headers,
    });
    expect(order.json()).toMatchObject({ merchant_order_id: value('Order number') });
  });

  it('an invoice paid in the browser with automatic capture is notified once, with its final state: SUCCEEDED, order PAID', async () => {
    world.callbacks.on('/notify', { status: 200, body: 'ok' });
    const created = await world.t.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: world.merchant.headers,
      payload: {
        completed_redirect_url: world.store.completedUrl,
        canceled_redirect_url: world.store.canceledUrl,
        locale: 'DA',
        capture_mode: 'automatic',
        callbacks: { notification: `${world.callbacks.url}/notify` },
        order: {
          merchant_order_id: 'invoice-notified-1',
          currency: 'DKK',
          country_code: 'DK',
          subtotal_amount: 24900,
          total_amount: 24900,
          products: [{ id: 'sku-1', name: 'Trail shoes', quantity: 1, unit_price: 24900 }],
          customer: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' },
        },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { checkout_id: checkoutId, checkout_redirect_url: url } = created.json<{
      checkout_id: string;
      checkout_redirect_url: string;
    }>();
    const page = await newPage('da-DK');
    await page.goto(url);
    await page.check('input[name="payment_method"][value="invoice"]');
    expect((await page.innerText('.button--pay')).replace(/\s+/g, ' ')).toBe(
      'Bestil og betal 249,00 kr. mod faktura',
    );
    await page.click('.button--pay');
    await page.waitForURL((landed) => landed.href.startsWith(world.store.completedUrl));

    const { rows } = await world.t.services.db.query<{ id: string; status: string }>(
      'SELECT id, status FROM payments WHERE checkout_id = $1',
      [checkoutId],
    );
    expect(rows).toEqual([{ id: expect.stringMatching(/^pay_/), status: 'PENDING' }]);
    const paymentId = rows[0]!.id;
    // The invoice provider approves it later (the sandbox's resolve control stands in for its notification).
    const resolved = await world.t.app.inject({
      method: 'POST',
      url: `/v1/sandbox/payments/${paymentId}/resolve`,
      headers: world.merchant.headers,
      payload: { outcome: 'SUCCEEDED' },
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    const worker = createWorkers(world.t.services).find(
      (candidate) => candidate.name === 'callback-notifications',
    )!;
    const deadline = Date.now() + 10_000;
    while (world.callbacks.receivedAt('/notify').length === 0 && Date.now() < deadline) {
      await worker.run();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (let round = 0; round < 3; round += 1) await worker.run();
    const received = world.callbacks.receivedAt('/notify');
    expect(received).toHaveLength(1);
    expect(Object.fromEntries(received[0]!.form)).toMatchObject({
      callback: 'notification',
      payment_id: paymentId,
      status: 'SUCCEEDED',
      order_status: 'PAID',
      amount: '24900',
      currency: 'DKK',
    });
  });
});
