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

/** `css`: the merchant's own stylesheet (served from the shop's origin); `locale`: injectPaymentMethods' option. */
type ShopPage = { sessionId?: string; token?: string; qr?: boolean; css?: string; locale?: string };

/** The merchant's stylesheet for the override test: plain rules, some less specific than a class. */
const MERCHANT_CSS = `
  :root { --kassa-radius: 0px; }
  .kassa-method { display: flex; flex-direction: row-reverse; }
  label { font-weight: 300; }
  * { row-gap: 3px; }
`;

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
  function shopHtml(options: ShopPage, pageId = ''): { html: string; nonce: string } {
    const nonce = randomBytes(16).toString('base64');
    const init = options.qr
      ? 'var client = Kassa.initFromQR();'
      : `var client = Kassa.init(${JSON.stringify({ sessionId: options.sessionId, token: options.token })});`;
    const inject = options.locale
      ? `client.injectPaymentMethods('#methods', ${JSON.stringify({ locale: options.locale })})`
      : "client.injectPaymentMethods('#methods')";
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo shop</title>
      <meta name="viewport" content="width=device-width, initial-scale=1">
      ${options.css === undefined ? '' : `<link rel="stylesheet" href="/shop.css?page=${encodeURIComponent(pageId)}">`}
      <script src="${kassa.baseUrl}/sdk/v1/kassa.js" integrity="${integrity}" crossorigin="anonymous"></script>
      </head><body><h1>Checkout</h1><div id="methods"></div>
      <script nonce="${nonce}">
        ${init}
        ${inject}.then(
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
      if (url.pathname === '/shop.css') {
        const css = pages.get(url.searchParams.get('page') ?? '')?.css;
        response.writeHead(css === undefined ? 404 : 200, { 'content-type': 'text/css' }).end(css ?? '');
        return;
      }
      const options =
        url.pathname === '/landing' ? { qr: true } : pages.get(url.searchParams.get('page') ?? '');
      if (!options) {
        response.writeHead(404).end();
        return;
      }
      const { html, nonce } = shopHtml(options, url.searchParams.get('page') ?? '');
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}' ${kassa.baseUrl}; connect-src ${kassa.baseUrl}; style-src ${options.css === undefined ? "'none'" : "'self'"}`,
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
    const types = eligible
      .json<{ payment_methods: { type: string }[] }>()
      .payment_methods.map((method) => method.type);
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

  /** A page in its own context (viewport, browser language), failing on script errors and CSP reports. */
  async function newContextPage(options: { viewport?: { width: number; height: number }; locale?: string }) {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    return { context, page, problems };
  }

  type Box = { name: string; left: number; top: number; right: number; bottom: number };

  /** The element boxes of the injected form's parts, in document order. */
  function injectedBoxes(page: Page) {
    return page.evaluate(() => {
      const parts = [
        '.kassa-total',
        '.kassa-legend',
        '.kassa-method__input',
        '.kassa-method__label',
        '.kassa-method__description',
        '.kassa-note',
        '.kassa-continue',
      ];
      const boxes: { name: string; left: number; top: number; right: number; bottom: number }[] = [];
      for (const element of document.querySelectorAll<HTMLElement>(parts.join(','))) {
        const rect = element.getBoundingClientRect();
        const name = `${element.className}${element.id ? '#' + element.id : ''} "${element.textContent ?? ''}"`;
        boxes.push({ name, left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom });
      }
      return {
        boxes,
        viewportWidth: document.documentElement.clientWidth,
        scrollWidth: document.documentElement.scrollWidth,
      };
    });
  }

  const overlaps = (a: Box, b: Box) =>
    Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 &&
    Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;

  for (const viewport of [
    { width: 375, height: 740 },
    { width: 1280, height: 900 },
  ]) {
    it(`on a bare merchant page (no CSS, CSP style-src 'none') at ${viewport.width} px, each injected label, description and button is its own box: none overlaps, none off-screen`, async () => {
      // German: the longest method descriptions of the SDK's languages.
      const checkout = await createCheckout({ ...base, locale: 'de', order: order('EUR', 'DE', 'sdk-bare') });
      const id = `bare-${viewport.width}`;
      registerShopPage(id, { sessionId: checkout.checkout_id, token: checkout.client_token });
      const { context, page, problems } = await newContextPage({ viewport });
      await page.goto(`${shopOrigin}/shop?page=${id}`);
      await page.waitForSelector('body[data-ready]');
      expect(await page.locator('link[rel="stylesheet"], style').count()).toBe(0);

      const { boxes, viewportWidth, scrollWidth } = await injectedBoxes(page);
      const methods = Number(await page.getAttribute('body', 'data-ready'));
      expect(boxes).toHaveLength(4 + 3 * methods);
      expect(scrollWidth).toBeLessThanOrEqual(viewportWidth);
      for (const box of boxes) {
        expect(box.right - box.left, box.name).toBeGreaterThan(0);
        expect(box.bottom - box.top, box.name).toBeGreaterThan(0);
        expect(box.left, box.name).toBeGreaterThanOrEqual(0);
        expect(box.right, box.name).toBeLessThanOrEqual(viewportWidth);
      }
      for (const [index, a] of boxes.entries())
        for (const b of boxes.slice(index + 1)) expect(overlaps(a, b), `${a.name} × ${b.name}`).toBe(false);

      // Each method: its description on a line of its own under its label; each method under the previous
      // one; the button under the note. Unstyled, they would run together on one line ("KarteMit Kredit…").
      const byClass = (name: string) => boxes.filter((box) => box.name.startsWith(name));
      const labels = byClass('kassa-method__label');
      const descriptions = byClass('kassa-method__description');
      expect(labels).toHaveLength(methods);
      for (const [index, label] of labels.entries()) {
        const description = descriptions[index]!;
        expect(description.top, description.name).toBeGreaterThanOrEqual(label.bottom - 0.5);
        expect(description.left, description.name).toBeCloseTo(label.left, 0);
        const next = labels[index + 1];
        if (next) expect(next.top, next.name).toBeGreaterThanOrEqual(description.bottom - 0.5);
      }
      const [note] = byClass('kassa-note');
      const [button] = byClass('kassa-continue');
      expect(button!.top).toBeGreaterThanOrEqual(note!.bottom - 0.5);
      // The defaults came in although the page's CSP allows no style at all (no CSP report either).
      expect(await page.$eval('.kassa-method', (element) => getComputedStyle(element).display)).toBe('grid');
      expect(problems).toEqual([]);
      await context.close();
    });
  }

  it("the merchant's own stylesheet overrides the defaults, even with rules less specific than a class", async () => {
    const checkout = await createCheckout({ ...base, order: order('EUR', 'FI', 'sdk-styled') });
    registerShopPage('styled', {
      sessionId: checkout.checkout_id,
      token: checkout.client_token,
      css: MERCHANT_CSS,
    });
    const { context, page, problems } = await newContextPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${shopOrigin}/shop?page=styled`);
    await page.waitForSelector('body[data-ready]');
    const style = await page.evaluate(() => {
      const computed = (selector: string) => getComputedStyle(document.querySelector(selector)!);
      return {
        methodDisplay: computed('.kassa-method').display,
        methodDirection: computed('.kassa-method').flexDirection,
        labelWeight: computed('.kassa-method__label').fontWeight,
        fieldsetRadius: computed('.kassa-fieldset').borderTopLeftRadius,
        formGap: computed('.kassa-payment-methods').rowGap,
        // Not overridden by the merchant: the default stays.
        radioWidth: computed('.kassa-method__input').width,
        buttonMinHeight: computed('.kassa-continue').minHeight,
      };
    });
    expect(style).toEqual({
      methodDisplay: 'flex', // `.kassa-method { display: flex }`
      methodDirection: 'row-reverse',
      labelWeight: '300', // `label { … }`: an element selector beats the default's class
      fieldsetRadius: '0px', // `--kassa-radius: 0px`
      formGap: '3px', // `* { row-gap: 3px }`
      radioWidth: '20px',
      buttonMinHeight: '44px',
    });
    expect(problems).toEqual([]);
    await context.close();
  });

  it("speaks the checkout's language, else the shopper's browser language; amounts by language and the order's country", async () => {
    const cases = [
      // [checkout locale, browser language, expected lang, label, button, total]
      {
        locale: 'fr',
        browser: 'en-US',
        lang: 'fr',
        card: 'Carte',
        button: 'Continuer vers le paiement sécurisé',
      },
      {
        locale: undefined,
        browser: 'pl-PL',
        lang: 'pl',
        card: 'Karta',
        button: 'Przejdź do bezpiecznej płatności',
      },
      { locale: 'es', browser: 'en-US', lang: 'es-419', card: 'Tarjeta', button: 'Continuar al pago seguro' },
      { locale: 'nn-NO', browser: 'en-US', lang: 'nb', card: 'Kort', button: 'Fortsett til sikker betaling' },
    ];
    for (const [index, entry] of cases.entries()) {
      const checkout = await createCheckout({
        ...base,
        ...(entry.locale ? { locale: entry.locale } : {}),
        order:
          index === 2 ? order('MXN', 'MX', `sdk-lang-${index}`) : order('EUR', 'FI', `sdk-lang-${index}`),
      });
      registerShopPage(`lang-${index}`, { sessionId: checkout.checkout_id, token: checkout.client_token });
      const { context, page, problems } = await newContextPage({ locale: entry.browser });
      await page.goto(`${shopOrigin}/shop?page=lang-${index}`);
      await page.waitForSelector('body[data-ready]');
      expect(await page.getAttribute('.kassa-payment-methods', 'lang')).toBe(entry.lang);
      expect(await page.getByRole('radio', { name: entry.card, exact: true }).isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: entry.button }).isVisible()).toBe(true);
      const total = await page.textContent('.kassa-total__amount');
      // A Mexican order in Spanish shows pesos as "$25.00"; a Finnish one in Polish or French "25,00 €".
      if (index === 2) expect(total).toBe('$25.00');
      else expect(total?.replace(/\s/g, ' ')).toBe('25,00 €');
      expect(problems).toEqual([]);
      await context.close();
    }
  });

  it("the injectPaymentMethods locale option wins over the checkout's", async () => {
    const checkout = await createCheckout({ ...base, locale: 'DA', order: order('EUR', 'FI', 'sdk-option') });
    registerShopPage('option', {
      sessionId: checkout.checkout_id,
      token: checkout.client_token,
      locale: 'it-IT',
    });
    const { context, page, problems } = await newContextPage({});
    await page.goto(`${shopOrigin}/shop?page=option`);
    await page.waitForSelector('body[data-ready]');
    expect(await page.getAttribute('.kassa-payment-methods', 'lang')).toBe('it');
    expect(await page.getByRole('group', { name: 'Metodo di pagamento' }).isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
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
    expect(new URL(page.url()).pathname).toMatch(/^\/pay\/chk_[0-9a-f]{44}\/[0-9a-f]{64}$/);
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
    const checkoutId = /\/pay\/(chk_[0-9a-f]{44})\//.exec(page.url())![1]!;
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
