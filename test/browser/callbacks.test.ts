import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callbackPageHeaders } from '../../src/modules/callbacks/callback-page-security.ts';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import {
  FAST_CALLBACK_ENV,
  createCallbackCheckout,
  startCallbackReceiver,
  type CallbackReceiver,
} from '../e2e/callbacks/callback-fixtures.ts';

/**
 * A hostile callback page in Debian's Chromium (docs/hosted-page.md, done-when of issue 5 item 5): the merchant's
 * `ok` URL answers with `<script>`, `onerror=`, a `javascript:` link, `<iframe>`, `<object>`, `<embed>`, `<svg>`
 * script, `<meta http-equiv=refresh>`, `<base href>`, `autofocus onfocus`, a prefetch and http: resources. The
 * shopper pays on the real hosted page; the page Kassa serves must run no script, and every request it makes
 * must be same-origin (Kassa and its proxy) or one the policy allows (the merchant's own form, when submitted).
 * The receiver records every request: none may reach `/pwned`.
 */

// 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

function hostilePage(attacker: string): string {
  return `<!doctype html>
<html lang="en"><head>
<meta http-equiv="refresh" content="0;url=${attacker}/pwned?refresh">
<base href="${attacker}/shop/">
<title>Receipt</title>
<script>document.title = 'pwned'; fetch('${attacker}/pwned?script');</script>
<script src="${attacker}/pwned?script-src"></script>
<link rel="stylesheet" href="/assets/style.css">
<link rel="prefetch" href="${attacker}/pwned?prefetch">
<style>.hero { background: url(/assets/hero.png); min-height: 4px }</style>
</head>
<body onload="document.title = 'pwned'">
<h1 id="thanks">Thank you, your order is confirmed</h1>
<div class="hero">hero</div>
<img id="logo" src="/assets/logo.png" alt="logo">
<img id="broken" src="missing.png" onerror="document.title = 'pwned'; new Image().src = '${attacker}/pwned?onerror'">
<a id="js-link" href="javascript:document.title = 'pwned'; fetch('${attacker}/pwned?js')">click me</a>
<a id="receipt" href="receipt?id=1">Your receipt</a>
<iframe src="${attacker}/pwned?iframe"></iframe>
<object data="${attacker}/pwned?object"></object>
<embed src="${attacker}/pwned?embed">
<svg><script>document.title = 'pwned'</script><image href="${attacker}/pwned?svg"/></svg>
<input id="focus-trap" autofocus onfocus="document.title = 'pwned'">
<form id="survey" action="survey" method="post"><input name="rating" value="5"><button id="send" type="submit">Send</button></form>
</body></html>`;
}

describe('a hostile callback page in a real browser', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let receiver: CallbackReceiver;
  let browser: Browser;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    t = await createTestApp({ listen: true, env: FAST_CALLBACK_ENV });
    merchant = await t.createMerchant({ name: 'Hostile Shop' });
    receiver = await startCallbackReceiver();
    receiver.on('/ok', {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: hostilePage(receiver.url),
    });
    receiver.on('/assets/logo.png', { status: 200, headers: { 'content-type': 'image/png' }, body: PNG });
    receiver.on('/assets/hero.png', { status: 200, headers: { 'content-type': 'image/png' }, body: PNG });
    receiver.on('/assets/style.css', {
      status: 200,
      headers: { 'content-type': 'text/css' },
      body: 'h1 { color: rgb(1, 2, 3); } .hero { background-image: url(hero.png) }',
    });
    receiver.on('/shop/survey', {
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: '<p id="survey-done">Thanks for the rating</p>',
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await t?.close();
  });

  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  const pwned = () => receiver.received.filter((request) => request.path.startsWith('/pwned'));

  async function openPage(): Promise<{ page: Page; requests: string[]; consoleErrors: string[] }> {
    context = await browser.newContext();
    const page = await context.newPage();
    const requests: string[] = [];
    const consoleErrors: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    return { page, requests, consoleErrors };
  }

  it('pays, shows the merchant page, runs no script, and requests nothing outside the policy', async () => {
    const checkout = await createCallbackCheckout(t, merchant, { ok: `${receiver.url}/ok` });
    const { page, requests, consoleErrors } = await openPage();
    await page.goto(checkout.url);
    await page.fill('#card-name', 'Ada Lovelace');
    await page.fill('#card-number', '4242 4242 4242 4242');
    await page.fill('#card-expiry', '12/34');
    await page.fill('#card-cvc', '737');
    const payRequests = requests.length;
    await page.click('button.button--pay');
    await page.waitForSelector('#thanks');
    // Give a 0-second refresh, lazy loads and focus handlers every chance to fire.
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(750);

    expect(await page.textContent('#thanks')).toBe('Thank you, your order is confirmed');
    expect(page.url()).toBe(checkout.url); // no refresh, no navigation away
    expect(await page.title()).toBe('Receipt');

    // The merchant's design still works: its http: stylesheet and images came through Kassa's proxy.
    const kassa = new URL(t.baseUrl).origin;
    const afterPay = requests.slice(payRequests);
    const proxied = afterPay.filter((url) => url.startsWith(`${kassa}/callback-proxy/`));
    expect(proxied.length).toBeGreaterThanOrEqual(3); // style.css, logo.png, hero.png (+ missing.png)
    expect(await page.$eval('#logo', (img) => (img as HTMLImageElement).naturalWidth)).toBe(1);
    expect(await page.$eval('#thanks', (h1) => getComputedStyle(h1).color)).toBe('rgb(1, 2, 3)');
    // The relative link points at the merchant (resolved against its own <base href>).
    expect(await page.getAttribute('#receipt', 'href')).toBe(`${receiver.url}/shop/receipt?id=1`);

    // Every request the callback page made is Kassa's (the form POST that produced it, the proxy).
    for (const url of afterPay) expect(new URL(url).origin, url).toBe(kassa);
    expect(pwned()).toEqual([]);
    // Nothing was even attempted that the CSP had to refuse.
    expect(consoleErrors.filter((text) => /Content Security Policy|sandboxed/i.test(text))).toEqual([]);

    // The javascript: link has no target any more: clicking it does nothing.
    await page.click('#js-link');
    await page.waitForTimeout(300);
    expect(page.url()).toBe(checkout.url);
    expect(await page.title()).toBe('Receipt');
    expect(pwned()).toEqual([]);

    // The merchant's own form still works: it posts to the merchant (allowed by form-action), never to Kassa.
    const before = requests.length;
    await page.click('#send');
    await page.waitForSelector('#survey-done');
    expect(requests.slice(before)).toEqual([`${receiver.url}/shop/survey`]);
    const [survey] = receiver.receivedAt('/shop/survey');
    expect(survey).toMatchObject({ method: 'POST', body: 'rating=5' });
    expect(pwned()).toEqual([]);
  });

  it("a 30x from the ok callback takes the shopper to the merchant's page (allowed by the payment form's policy)", async () => {
    receiver.on('/ok-redirect', { status: 302, headers: { location: '/thanks?order=42' } });
    receiver.on('/thanks', {
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: '<h1 id="landed">Thanks</h1>',
    });
    const checkout = await createCallbackCheckout(t, merchant, { ok: `${receiver.url}/ok-redirect` });
    const { page, consoleErrors } = await openPage();
    await page.goto(checkout.url);
    await page.fill('#card-name', 'Ada Lovelace');
    await page.fill('#card-number', '4242 4242 4242 4242');
    await page.fill('#card-expiry', '12/34');
    await page.fill('#card-cvc', '737');
    await page.click('button.button--pay');
    await page.waitForSelector('#landed');
    expect(page.url()).toBe(`${receiver.url}/thanks?order=42`);
    expect(consoleErrors.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
  });

  describe('the CSP alone (the sanitiser bypassed)', () => {
    let server: Server;
    let origin: string;

    beforeAll(async () => {
      // Plays Kassa's part: serves the hostile page UNSANITISED, with the callback page's headers.
      server = createServer((request, response) => {
        if (request.url === '/page') {
          const headers = callbackPageHeaders({
            publicUrl: origin,
            formOrigins: [receiver.url],
            merchantOrigins: [receiver.url],
          });
          response.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' });
          response.end(hostilePage(receiver.url));
          return;
        }
        response.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    });

    it('still runs no script, follows no refresh, and loads nothing from elsewhere', async () => {
      const { page } = await openPage();
      const answered: string[] = [];
      const blockedByPolicy: string[] = [];
      page.on('response', (response) => answered.push(response.url()));
      page.on('requestfailed', (request) => {
        if (request.failure()?.errorText === 'csp') blockedByPolicy.push(request.url());
      });
      await page.goto(`${origin}/page`);
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(750);
      expect(page.url()).toBe(`${origin}/page`); // the sandbox refuses the meta refresh
      await page.click('#js-link');
      await page.waitForTimeout(300);
      expect(await page.title()).toBe('Receipt');
      expect(pwned()).toEqual([]);
      // What reached a server is this origin only (the page's relative assets, which 404 here: no proxy);
      // the prefetch and the frames / objects were refused by the policy before leaving the browser.
      for (const url of answered) expect(new URL(url).origin, url).toBe(origin);
      expect(blockedByPolicy.length).toBeGreaterThan(0);
      for (const url of blockedByPolicy) expect(url).toContain('/pwned');
    });
  });
});
