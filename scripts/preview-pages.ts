/**
 * Renders every hosted page with sample data into .tmp/preview/*.html and screenshots each one in Chromium,
 * desktop (1280×900) and mobile (390×844), served from 127.0.0.1 with the real security headers so a CSP
 * violation shows up as a console error. Also drives the payment form with JavaScript (client-side errors,
 * method switch, "Processing…").
 *
 *   node --import tsx scripts/preview-pages.ts
 *
 * Needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import { renderChallengePage } from '../src/http/pages/challenge-page.ts';
import { renderCheckoutPage } from '../src/http/pages/checkout-page.ts';
import type { CheckoutPageModel, OrderSummaryView } from '../src/http/pages/checkout-page.ts';
import { createCspNonce, pageSecurityHeaders } from '../src/http/pages/page-security.ts';
import { renderErrorPage, renderStatusPage } from '../src/http/pages/status-page.ts';
import { renderWalletPage } from '../src/http/pages/wallet-page.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, '.tmp', 'preview');
const publicDir = path.join(root, 'public');
const STORE = 'https://shop.example';

const usdOrder: OrderSummaryView = {
  merchantOrderId: 'NO-10482',
  currency: 'USD',
  products: [
    { name: 'Trail Runner GTX — size 42', quantity: 1, unitPrice: 12900 },
    { name: 'Merino wool hiking socks', quantity: 2, unitPrice: 1800 },
  ],
  subtotal: 16500,
  discounts: [{ description: 'Spring sale', amount: 2000 }],
  taxes: [{ description: 'Sales tax (8.25%)', amount: 1196 }],
  shipping: 495,
  total: 16191,
};

const mxnOrder: OrderSummaryView = {
  merchantOrderId: 'TS-2291',
  currency: 'MXN',
  products: [
    { name: 'Café de Chiapas 500 g', quantity: 3, unitPrice: 24900 },
    { name: 'Prensa francesa', quantity: 1, unitPrice: 58900 },
  ],
  subtotal: 133600,
  discounts: [],
  taxes: [{ description: 'IVA (16%)', amount: 21376 }],
  shipping: 9900,
  total: 164876,
};

const dkkOrder: OrderSummaryView = {
  merchantOrderId: 'ND-7781',
  currency: 'DKK',
  products: [{ name: 'Egetræsbord, 180 cm', quantity: 1, unitPrice: 649500 }],
  subtotal: 649500,
  discounts: [{ amount: 50000 }],
  taxes: [],
  shipping: 0,
  total: 599500,
};

const jpyOrder: OrderSummaryView = {
  merchantOrderId: 'KY-0042',
  currency: 'JPY',
  products: [
    { name: 'Sencha tea, 100 g', quantity: 2, unitPrice: 1500 },
    { name: 'Tea cup', quantity: 1, unitPrice: 2200 },
  ],
  subtotal: 5200,
  discounts: [],
  taxes: [{ description: 'Consumption tax', amount: 520 }],
  shipping: 800,
  total: 6520,
};

function checkout(overrides: Partial<CheckoutPageModel> & Pick<CheckoutPageModel, 'order'>) {
  return (nonce: string) =>
    renderCheckoutPage({
      locale: 'en-US',
      livemode: false,
      merchant: { displayName: 'Nordlys Outdoor', primaryColor: '#0f766e' },
      methods: [
        { type: 'card', brands: ['visa', 'mastercard', 'amex'] },
        { type: 'invoice' },
        { type: 'wallet' },
      ],
      csrfToken: 'csrf-sample-token',
      payAction: '/pay',
      cancelAction: '/cancel',
      nonce,
      assetBase: '/public',
      ...overrides,
    });
}

const shell = (nonce: string) => ({ nonce, assetBase: '/public' });

const PAGES: Record<string, (nonce: string) => string> = {
  'checkout-en': checkout({ order: usdOrder }),
  'checkout-en-errors': checkout({
    order: usdOrder,
    values: { cardName: 'Ada Lovelace', cardExpiry: '12/20' },
    fieldErrors: { cardNumber: 'invalid', cardExpiry: 'expired', cardCvc: 'required' },
    globalError: 'declined',
  }),
  'checkout-es-latam': checkout({
    locale: 'es-MX',
    merchant: { displayName: 'Tienda Sol', primaryColor: '#f5b700' },
    order: mxnOrder,
    methods: [{ type: 'card', brands: ['visa', 'mastercard'] }, { type: 'wallet' }],
    globalError: 'insufficient_funds',
    values: { cardName: 'María Fernanda López' },
  }),
  'checkout-da': checkout({
    locale: 'DA',
    livemode: true,
    merchant: { displayName: 'Nordisk Design', primaryColor: '#1e3a5f' },
    order: dkkOrder,
    selectedMethod: 'invoice',
  }),
  'checkout-jpy': checkout({
    locale: 'en-US',
    merchant: { displayName: 'Kyoto Tea House', primaryColor: '#b91c1c' },
    order: jpyOrder,
    methods: [{ type: 'card', brands: ['visa', 'jcb'] }],
  }),
  challenge: (nonce) =>
    renderChallengePage({
      ...shell(nonce),
      locale: 'EN',
      merchant: { displayName: 'Nordlys Outdoor' },
      amount: { amountMinor: 16191, currency: 'USD' },
      card: { brand: 'visa', last4: '3220' },
      action: '/3ds',
      csrfToken: 'csrf-sample-token',
    }),
  'wallet-da': (nonce) =>
    renderWalletPage({
      ...shell(nonce),
      locale: 'da-DK',
      merchant: { displayName: 'Nordisk Design' },
      merchantOrderId: 'ND-7781',
      amount: { amountMinor: 599500, currency: 'DKK' },
      action: '/wallet',
      csrfToken: 'csrf-sample-token',
    }),
  'status-completed': (nonce) =>
    renderStatusPage({
      ...shell(nonce),
      kind: 'completed',
      locale: 'EN',
      livemode: false,
      merchant: { displayName: 'Nordlys Outdoor', primaryColor: '#0f766e' },
      merchantOrderId: 'NO-10482',
      amount: { amountMinor: 16191, currency: 'USD' },
      returnUrl: `${STORE}/orders/NO-10482`,
    }),
  'status-pending-es': (nonce) =>
    renderStatusPage({
      ...shell(nonce),
      kind: 'pending',
      locale: 'ES_LATAM',
      livemode: false,
      merchant: { displayName: 'Tienda Sol', primaryColor: '#f5b700' },
      merchantOrderId: 'TS-2291',
      amount: { amountMinor: 164876, currency: 'MXN' },
    }),
  'status-canceled-da': (nonce) =>
    renderStatusPage({
      ...shell(nonce),
      kind: 'canceled',
      locale: 'DA',
      livemode: true,
      merchant: { displayName: 'Nordisk Design', primaryColor: '#1e3a5f' },
      merchantOrderId: 'ND-7781',
      returnUrl: STORE,
    }),
  'status-expired': (nonce) =>
    renderStatusPage({
      ...shell(nonce),
      kind: 'expired',
      locale: 'EN',
      livemode: false,
      merchant: { displayName: 'Kyoto Tea House', primaryColor: '#b91c1c' },
      returnUrl: STORE,
    }),
  'error-callback': (nonce) =>
    renderErrorPage({
      ...shell(nonce),
      locale: 'EN',
      livemode: false,
      merchant: { displayName: 'Nordlys Outdoor', primaryColor: '#0f766e' },
      merchantOrderId: 'NO-10482',
      paymentId: 'pay_3f9c2a7e41d84b0c9e1f5a6b7c8d9e0f',
      amount: { amountMinor: 16191, currency: 'USD' },
      returnUrl: STORE,
    }),
};

let postCount = 0;

const CONTENT_TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript' };

async function startServer() {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST') {
      // Hold POSTs for a while so a screenshot can catch the "Processing…" state.
      postCount += 1;
      setTimeout(() => res.writeHead(303, { Location: '/status-completed.html' }).end(), 3000);
      return;
    }
    const pageName = url.pathname.match(/^\/([a-z0-9-]+)\.html$/)?.[1];
    const render = pageName ? PAGES[pageName] : undefined;
    if (render) {
      const nonce = createCspNonce();
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        ...pageSecurityHeaders(nonce, { formActionOrigins: [STORE] }),
      });
      res.end(render(nonce));
      return;
    }
    const assetPath = url.pathname.startsWith('/public/')
      ? path.join(publicDir, url.pathname.slice(8))
      : null;
    if (assetPath && assetPath.startsWith(publicDir + path.sep)) {
      try {
        const body = await readFile(assetPath);
        res.writeHead(200, {
          'Content-Type': CONTENT_TYPES[path.extname(assetPath)] ?? 'application/octet-stream',
          'X-Content-Type-Options': 'nosniff',
        });
        res.end(body);
        return;
      } catch {
        // fall through to 404
      }
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const VIEWPORTS = {
  desktop: { width: 1280, height: 900 },
  mobile: { width: 390, height: 844 },
} as const;

function watchConsole(page: Page, name: string, problems: string[]) {
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      problems.push(`${name}: console ${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
}

async function main() {
  await mkdir(outDir, { recursive: true });
  for (const [name, render] of Object.entries(PAGES)) {
    await writeFile(path.join(outDir, `${name}.html`), render('cHJldmlldy1ub25jZS0xMjM='));
  }
  const server = await startServer();
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const problems: string[] = [];
  try {
    for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
      for (const name of Object.keys(PAGES)) {
        const page = await context.newPage();
        watchConsole(page, `${name} (${viewportName})`, problems);
        await page.goto(`${base}/${name}.html`, { waitUntil: 'load' });
        await page.screenshot({ path: path.join(outDir, `${name}-${viewportName}.png`), fullPage: true });
        await page.close();
      }
      await context.close();
    }

    // Interactions, with JavaScript on (desktop).
    const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
    const page = await context.newPage();
    watchConsole(page, 'interactive', problems);
    await page.goto(`${base}/checkout-en.html`);
    await page.fill('#card-name', 'Ada Lovelace');
    await page.fill('#card-number', '4242424242424241');
    await page.fill('#card-expiry', '13/30');
    await page.click('button.button--pay');
    await page.screenshot({ path: path.join(outDir, 'js-client-errors-desktop.png'), fullPage: true });
    problems.push(
      `info: after client errors, focus is on #${await page.evaluate(() => document.activeElement?.id)}`,
    );
    await page.click('label[for="payment-method-1"]');
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(outDir, 'js-invoice-selected-desktop.png'), fullPage: true });
    await page.click('label[for="payment-method-0"]');
    await page.fill('#card-number', '');
    await page.type('#card-number', '4242424242424242');
    await page.fill('#card-expiry', '');
    await page.type('#card-expiry', '1230');
    await page.fill('#card-cvc', '123');
    problems.push(
      `info: formatted number "${await page.inputValue('#card-number')}", expiry "${await page.inputValue('#card-expiry')}"`,
    );
    // The "Processing…" state: a listener added after checkout.js's own records what they decided, then
    // stops the navigation so the page can be inspected (Playwright cannot look at a page mid-POST).
    await page.evaluate(() => {
      const form = document.querySelector('form[data-checkout-form]')!;
      const decisions: boolean[] = [];
      (window as unknown as { decisions: boolean[] }).decisions = decisions;
      form.addEventListener('submit', (event) => {
        decisions.push(event.defaultPrevented);
        event.preventDefault();
      });
      const button = document.querySelector<HTMLButtonElement>('button.button--pay')!;
      button.click();
      button.click();
    });
    await page.waitForTimeout(100);
    problems.push(
      `info: pay button after a double click: ${await page.evaluate(() => {
        const button = document.querySelector<HTMLButtonElement>('button.button--pay')!;
        const decisions = (window as unknown as { decisions: boolean[] }).decisions;
        return JSON.stringify({ label: button.textContent?.trim(), disabled: button.disabled, decisions });
      })}`,
    );
    await page.screenshot({ path: path.join(outDir, 'js-processing-desktop.png'), fullPage: true });

    // And for real: a double click sends one POST.
    const real = await context.newPage();
    await real.goto(`${base}/checkout-en.html`);
    await real.fill('#card-name', 'Ada Lovelace');
    await real.fill('#card-number', '4242 4242 4242 4242');
    await real.fill('#card-expiry', '12/30');
    await real.fill('#card-cvc', '123');
    const before = postCount;
    await real.evaluate(() => {
      const button = document.querySelector<HTMLButtonElement>('button.button--pay')!;
      button.click();
      setTimeout(() => button.click(), 30);
    });
    await real.waitForURL('**/status-completed.html');
    problems.push(`info: POSTs sent by a double click: ${postCount - before}`);
    await context.close();

    // JavaScript off: every field is visible.
    const noJs = await browser.newContext({ viewport: VIEWPORTS.mobile, javaScriptEnabled: false });
    const noJsPage = await noJs.newPage();
    await noJsPage.goto(`${base}/checkout-da.html`);
    await noJsPage.screenshot({ path: path.join(outDir, 'nojs-checkout-da-mobile.png'), fullPage: true });
    await noJs.close();
  } finally {
    await browser.close();
    server.close();
  }
  for (const line of problems) console.log(line);
  console.log(`Wrote ${outDir}`);
}

await main();
