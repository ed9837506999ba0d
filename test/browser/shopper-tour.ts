import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import {
  FAST_CALLBACK_ENV,
  startCallbackReceiver,
  type CallbackReceiver,
} from '../e2e/callbacks/callback-fixtures.ts';
import {
  CARDS,
  createHostedCheckout,
  payWithCard,
  type CheckoutOptions,
} from '../e2e/hosted-page/hosted-fixtures.ts';
import { startMerchantReceiver, type MerchantReceiver } from './merchant-receiver.ts';

/**
 * Every page a shopper can meet, in one language, each brought into its state the way a shopper (or the
 * merchant's server) would: the payment page (as opened, after a decline, with invoice chosen), the sandbox
 * 3-D Secure and wallet pages, the status pages (paid, pending, canceled, expired, confirming), the error
 * pages of a failed merchant callback (money taken, and not), the unknown-checkout page, the payment-link
 * pages, and a merchant's page with the browser SDK's injected methods. Shared by the accessibility test and
 * `npm run screenshots` (not a test file itself). Nothing leaves loopback.
 */

export const MOBILE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36';

export type Viewport = { width: number; height: number };

export type TourStop = {
  name: string;
  /** Opens the page in a new context of `browser` and brings it into its state; the caller closes the context. */
  open(browser: Browser, viewport: Viewport): Promise<{ context: BrowserContext; page: Page }>;
};

export type ShopperWorld = {
  t: TestApp;
  merchant: TestMerchant;
  store: MerchantReceiver;
  callbacks: CallbackReceiver;
  shopOrigin: string;
  close(): Promise<void>;
};

/** The SDK's merchant page: a shop on its own loopback origin with its own strict CSP. */
function shopPage(
  kassaUrl: string,
  sessionId: string,
  token: string,
  lang: string,
): { html: string; nonce: string } {
  const nonce = randomBytes(16).toString('base64');
  const html = `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1"><title>Nordlys Outdoor – checkout</title>
    <script src="${kassaUrl}/sdk/v1/kassa.js"></script></head>
    <body><main><h1>Nordlys Outdoor</h1><div id="methods"></div></main>
    <script nonce="${nonce}">
      Kassa.init(${JSON.stringify({ sessionId, token })}).injectPaymentMethods('#methods').then(
        function (result) { document.body.setAttribute('data-ready', String(result.methods.length)); },
        function (error) { document.body.setAttribute('data-error', error.code); }
      );
    </script></body></html>`;
  return { html, nonce };
}

/** A gateway on loopback (embedded PostgreSQL), a merchant, its store, its callback server and its shop. */
export async function startShopperWorld(): Promise<ShopperWorld> {
  // The tour declines the same test card on purpose in every language and width: the card-testing limits
  // (test/e2e/security/card-testing.test.ts) would refuse it after a few rounds, so they are off here.
  const t = await createTestApp({
    listen: true,
    env: { ...FAST_CALLBACK_ENV, KASSA_CARD_DECLINES_PER_CARD: '0', KASSA_CARD_DECLINES_PER_ADDRESS: '0' },
  });
  const merchant = await t.createMerchant({ name: 'Nordlys Outdoor' });
  await t.app.inject({
    method: 'PATCH',
    url: '/v1/merchant',
    headers: merchant.headers,
    payload: { display_name: 'Nordlys Outdoor', branding: { primary_color: '#0f766e' } },
  });
  const store = await startMerchantReceiver();
  const callbacks = await startCallbackReceiver();
  callbacks.on('/down', { status: 500, body: 'internal error' });
  const shops = new Map<string, { sessionId: string; token: string; lang: string }>();
  const shop: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const found = shops.get(url.searchParams.get('page') ?? '');
    if (!found) {
      response.writeHead(404).end();
      return;
    }
    const { html, nonce } = shopPage(t.baseUrl, found.sessionId, found.token, found.lang);
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}' ${t.baseUrl}; connect-src ${t.baseUrl}; style-src 'none'`,
    });
    response.end(html);
  });
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
  const shopOrigin = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
  shopRegistry.set(shopOrigin, (id, entry) => shops.set(id, entry));
  return {
    t,
    merchant,
    store,
    callbacks,
    shopOrigin,
    async close() {
      shopRegistry.delete(shopOrigin);
      await new Promise<void>((resolve) => {
        shop.closeAllConnections();
        shop.close(() => resolve());
      });
      await callbacks.close();
      await store.close();
      await t.close();
    },
  };
}

const shopRegistry = new Map<
  string,
  (id: string, entry: { sessionId: string; token: string; lang: string }) => void
>();

async function api<T>(world: ShopperWorld, method: 'POST' | 'GET', url: string, payload?: object) {
  const response = await world.t.app.inject({
    method,
    url,
    headers: world.merchant.headers,
    ...(payload ? { payload } : {}),
  });
  if (response.statusCode >= 300)
    throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.json<T>();
}

/** How long the processor takes on the waiting page's stop: time to look at the page before it moves on. */
export const PROCESSING_LATENCY_MS = 12_000;

/** Numbers the tour's orders and links across languages and runs (merchant order ids stay distinct). */
let sequence = 0;

const ORDER = {
  merchantOrderId: 'NO-10482',
  currency: 'DKK',
  country: 'DK',
  amount: 24900,
} satisfies CheckoutOptions;

/** The tour's stops for one language (a page locale such as `en` or `de`). */
export function shopperTour(world: ShopperWorld, locale: string): TourStop[] {
  const { t } = world;
  const checkout = (options: CheckoutOptions = {}) =>
    createHostedCheckout(t, world.merchant, {
      ...ORDER,
      locale,
      completedUrl: world.store.completedUrl,
      canceledUrl: world.store.canceledUrl,
      allowSave: true,
      ...options,
      merchantOrderId: `${ORDER.merchantOrderId}-${++sequence}`,
    });

  async function newPage(browser: Browser, viewport: Viewport, mobile = viewport.width < 500) {
    const context = await browser.newContext({
      viewport,
      // The browser asks for the tour's language (Accept-Language), as a shopper's would.
      locale,
      // Tools (axe) are injected as inline scripts, which the pages' own CSP would rightly refuse.
      bypassCSP: true,
      ...(mobile ? { userAgent: MOBILE_UA, isMobile: true, hasTouch: true } : {}),
    });
    return { context, page: await context.newPage() };
  }

  async function fillCard(page: Page, number: string) {
    await page.fill('#card-name', 'Ada Lovelace');
    await page.fill('#card-number', number);
    await page.fill('#card-expiry', '12/34');
    await page.fill('#card-cvc', '737');
  }

  /** A page opened straight at `url` once `prepare` has put the checkout into its state. */
  const at = (name: string, prepare: () => Promise<string>, ready?: string): TourStop => ({
    name,
    async open(browser, viewport) {
      const url = await prepare();
      const opened = await newPage(browser, viewport);
      await opened.page.goto(url);
      if (ready) await opened.page.waitForSelector(ready);
      return opened;
    },
  });

  /** A page reached by acting on the payment page in the browser. */
  const via = (
    name: string,
    options: CheckoutOptions & { mobile?: boolean },
    act: (page: Page, url: string) => Promise<void>,
  ): TourStop => ({
    name,
    async open(browser, viewport) {
      const created = await checkout(options);
      const opened = await newPage(browser, viewport, options.mobile);
      await opened.page.goto(created.url);
      await act(opened.page, created.url);
      return opened;
    },
  });

  /** A payment page whose merchant callback (`ok` or `fail`) answers 500: Kassa's error page follows. */
  const callbackFails = (name: string, kind: 'ok' | 'fail', card: string): TourStop => ({
    name,
    async open(browser, viewport) {
      const url = await createCallbackHostedCheckout(
        world,
        locale,
        { [kind]: `${world.callbacks.url}/down` },
        ++sequence,
      );
      const opened = await newPage(browser, viewport);
      await opened.page.goto(url);
      await fillCard(opened.page, card);
      await opened.page.click('button.button--pay');
      await opened.page.waitForSelector('.page--status');
      return opened;
    },
  });

  return [
    via('checkout', {}, async () => {}),
    via('checkout-declined', {}, async (page) => {
      await fillCard(page, CARDS.declined);
      await page.click('button.button--pay');
      await page.waitForSelector('#error-summary:not([hidden])');
    }),
    via('checkout-invoice', {}, async (page) => {
      await page.check('input[name="payment_method"][value="invoice"]');
    }),
    via('three-ds', {}, async (page) => {
      await fillCard(page, CARDS.threeDs);
      await page.click('button.button--pay');
      await page.waitForURL('**/sandbox/3ds/**');
    }),
    via('wallet', { mobile: true }, async (page) => {
      await page.check('input[name="payment_method"][value="wallet"]');
      await page.click('button.button--pay');
      await page.waitForURL('**/sandbox/wallet/**');
    }),
    at('status-paid', async () => {
      const created = await checkout();
      await payWithCard(t, created.path, CARDS.approved);
      return created.url;
    }),
    at('status-pending', async () => {
      const created = await checkout();
      await payWithCard(t, created.path, CARDS.pending);
      return created.url;
    }),
    via('status-canceled', {}, async (page, url) => {
      await page.click('.cancel-form button');
      await page.waitForURL(`${world.store.origin}/**`);
      await page.goto(url);
    }),
    at('status-expired', async () => {
      const created = await checkout();
      await api(world, 'POST', `/v1/checkouts/${created.checkoutId}/expire`);
      return created.url;
    }),
    {
      // "Confirming your payment": what a second tab shows while the first one's payment is in flight.
      name: 'status-processing',
      async open(browser, viewport) {
        const created = await checkout();
        const opened = await newPage(browser, viewport);
        const first = await opened.context.newPage();
        await first.goto(created.url);
        await fillCard(first, CARDS.approved);
        t.services.sandbox.setFaults({ latencyMs: PROCESSING_LATENCY_MS });
        try {
          // The first tab's answer comes only when the processor does: its click is not waited for.
          first.click('button.button--pay').catch(() => {});
          await waitForPayment(world, created.checkoutId);
          await opened.page.goto(created.url);
          // The processor call began with the payment row; a moment more, then later stops run at full speed.
          await opened.page.waitForTimeout(500);
        } finally {
          t.services.sandbox.setFaults({});
        }
        return opened;
      },
    },
    callbackFails('error-callback-paid', 'ok', CARDS.approved),
    callbackFails('error-callback-declined', 'fail', CARDS.declined),
    at('not-found', async () => `${t.baseUrl}/pay/chk_${'0'.repeat(32)}`),
    at('payment-link-used', async () => {
      const link = await paymentLink(world, locale, `link-used-${++sequence}`);
      const opened = await t.app.inject({ method: 'GET', url: new URL(link.url).pathname });
      const path = new URL(String(opened.headers.location), t.baseUrl).pathname;
      await payWithCard(t, path, CARDS.approved);
      return link.url;
    }),
    at('payment-link-deactivated', async () => {
      const link = await paymentLink(world, locale, `link-off-${++sequence}`);
      await api(world, 'POST', `/v1/payment-links/${link.payment_link_id}/deactivate`);
      return link.url;
    }),
    {
      name: 'sdk-methods',
      async open(browser, viewport) {
        const created = await api<{ checkout_id: string; client_token: string }>(
          world,
          'POST',
          '/v1/checkouts',
          {
            completed_redirect_url: world.store.completedUrl,
            canceled_redirect_url: world.store.canceledUrl,
            locale,
            order: {
              merchant_order_id: `sdk-${++sequence}`,
              currency: 'EUR',
              country_code: 'FI',
              subtotal_amount: 2500,
              total_amount: 2500,
              products: [{ id: 'sku-1', name: 'Trail shoes', quantity: 1, unit_price: 2500 }],
            },
          },
        );
        const id = `sdk-${locale}-${sequence}`;
        shopRegistry.get(world.shopOrigin)!(id, {
          sessionId: created.checkout_id,
          token: created.client_token,
          lang: locale,
        });
        const opened = await newPage(browser, viewport);
        await opened.page.goto(`${world.shopOrigin}/shop?page=${id}`);
        await opened.page.waitForSelector('body[data-ready]');
        return opened;
      },
    },
  ];
}

async function waitForPayment(world: ShopperWorld, checkoutId: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await world.t.services.db.query('SELECT 1 FROM payments WHERE checkout_id = $1', [
      checkoutId,
    ]);
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error('the payment did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function paymentLink(world: ShopperWorld, locale: string, merchantOrderId: string) {
  return api<{ payment_link_id: string; url: string }>(world, 'POST', '/v1/payment-links', {
    completed_redirect_url: world.store.completedUrl,
    canceled_redirect_url: world.store.canceledUrl,
    locale,
    order: {
      merchant_order_id: merchantOrderId,
      currency: 'DKK',
      country_code: 'DK',
      subtotal_amount: 24900,
      total_amount: 24900,
      products: [{ id: 'sku-1', name: 'Trail shoes', quantity: 1, unit_price: 24900 }],
    },
  });
}

async function createCallbackHostedCheckout(
  world: ShopperWorld,
  locale: string,
  callbacks: Record<string, string>,
  sequence: number,
): Promise<string> {
  const created = await api<{ checkout_redirect_url: string }>(world, 'POST', '/v1/checkouts', {
    completed_redirect_url: world.store.completedUrl,
    canceled_redirect_url: world.store.canceledUrl,
    locale,
    callbacks,
    order: {
      merchant_order_id: `NO-CB-${sequence}`,
      currency: 'DKK',
      country_code: 'DK',
      subtotal_amount: 24900,
      total_amount: 24900,
      products: [{ id: 'sku-1', name: 'Trail shoes', quantity: 1, unit_price: 24900 }],
    },
  });
  return created.checkout_redirect_url;
}
