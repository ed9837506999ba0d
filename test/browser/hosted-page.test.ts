import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyReturnSignature } from '../../src/lib/return-signature.ts';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import {
  CARDS,
  countAuthorizations,
  createHostedCheckout,
  orderStatus,
  paymentsOf,
  signingSecret,
  type CheckoutOptions,
} from '../e2e/hosted-page/hosted-fixtures.ts';
import { startMerchantReceiver, type MerchantReceiver } from './merchant-receiver.ts';

/**
 * The hosted payment page in Debian's Chromium against a gateway on loopback, landing on a real (tiny) store
 * on 127.0.0.1 whose URL signature is verified as a merchant would. Screenshots go to .tmp/screenshots/.
 */

const SCREENSHOTS = new URL('../../.tmp/screenshots/', import.meta.url);

describe('the hosted payment page in a browser', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let secret: string;
  let receiver: MerchantReceiver;
  let browser: Browser;
  let context: BrowserContext;
  const problems: string[] = [];

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    t = await createTestApp({ listen: true });
    merchant = await t.createMerchant({ name: 'Nordlys Outdoor' });
    await t.app.inject({
      method: 'PATCH',
      url: '/v1/merchant',
      headers: merchant.headers,
      payload: { display_name: 'Nordlys Outdoor', branding: { primary_color: '#0f766e' } },
    });
    secret = await signingSecret(t, merchant);
    receiver = await startMerchantReceiver();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await t?.close();
  });
  afterEach(async () => {
    await context?.close();
    // A CSP violation or a script error shows up as a console error: there must be none.
    const seen = problems.splice(0);
    expect(seen).toEqual([]);
  });

  async function open(
    checkoutOptions: CheckoutOptions = {},
    contextOptions: Parameters<Browser['newContext']>[0] = {},
  ) {
    const checkout = await createHostedCheckout(t, merchant, {
      completedUrl: receiver.completedUrl,
      canceledUrl: receiver.canceledUrl,
      ...checkoutOptions,
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...contextOptions });
    const page = await context.newPage();
    page.on('console', (message) => {
      // Chromium reports every non-2xx document (402 after a decline, 422 for field errors) as a failed load.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        problems.push(`console: ${message.text()}`);
      }
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      const host = new URL(request.url()).hostname;
      if (!request.url().startsWith('data:') && host !== '127.0.0.1')
        problems.push(`left loopback: ${request.url()}`);
    });
    await page.goto(checkout.url);
    return { checkout, page };
  }

  async function fillCard(page: Page, number: string, cvc = '737') {
    await page.fill('#card-name', 'Ada Lovelace');
    await page.fill('#card-number', number);
    await page.fill('#card-expiry', '12/34');
    await page.fill('#card-cvc', cvc);
  }

  async function expectLandedOn(
    page: Page,
    base: string,
    status: string,
    checkout: { checkoutId: string; orderId: string },
  ) {
    await page.waitForURL(`${base}**`);
    expect(await page.textContent('h1')).toBe('Back at the shop');
    const result = verifyReturnSignature(page.url(), secret);
    expect(result).toMatchObject({
      valid: true,
      status,
      checkoutId: checkout.checkoutId,
      orderId: checkout.orderId,
    });
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });

  it('approved card: lands on the store with a verifiable signature, paid', async () => {
    const { checkout, page } = await open({ amount: 16191, merchantOrderId: 'NO-10482' });
    expect(await page.textContent('button.button--pay')).toContain('Pay $161.91');
    await fillCard(page, '4242 4242 4242 4242');
    expect(await page.inputValue('#card-number')).toBe('4242 4242 4242 4242');
    await shot(page, 'checkout-filled-en');
    await page.click('button.button--pay');
    await expectLandedOn(page, `${receiver.origin}/complete`, 'PAID', checkout);
    expect(page.url()).toContain('ref=browser');
    expect(await orderStatus(t, checkout.orderId)).toBe('PAID');
  });

  it('declined, then approved with another card', async () => {
    const { checkout, page } = await open();
    await fillCard(page, CARDS.declined);
    await page.click('button.button--pay');
    await page.waitForSelector('#error-summary:not([hidden])');
    expect(await page.textContent('#error-summary')).toContain('Your card was declined.');
    // The summary takes focus so the shopper (and a screen reader) hears what happened.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('error-summary');
    expect(await page.inputValue('#card-name')).toBe('Ada Lovelace');
    expect(await page.inputValue('#card-number')).toBe('');
    await shot(page, 'checkout-declined-en');
    await fillCard(page, CARDS.approved);
    await page.click('button.button--pay');
    await expectLandedOn(page, `${receiver.origin}/complete`, 'PAID', checkout);
    expect((await paymentsOf(t, checkout.checkoutId)).map((p) => p.status)).toEqual([
      'REJECTED',
      'SUCCEEDED',
    ]);
  });

  it('3-D Secure: completing authentication pays', async () => {
    const { checkout, page } = await open();
    await fillCard(page, CARDS.threeDs);
    await page.click('button.button--pay');
    await page.waitForURL('**/sandbox/3ds/**');
    expect(await page.textContent('main')).toContain('Visa •••• 3220');
    await shot(page, 'sandbox-3ds');
    await page.click('button:has-text("Complete authentication")');
    await expectLandedOn(page, `${receiver.origin}/complete`, 'PAID', checkout);
  });

  it('3-D Secure: failing authentication returns to the page with the reason', async () => {
    const { checkout, page } = await open();
    await fillCard(page, CARDS.threeDs);
    await page.click('button.button--pay');
    await page.waitForURL('**/sandbox/3ds/**');
    await page.click('button:has-text("Fail authentication")');
    await page.waitForURL(`**${checkout.path}/return/**`);
    expect(await page.textContent('#error-summary')).toContain('Your card could not be authenticated.');
    expect((await paymentsOf(t, checkout.checkoutId)).map((p) => p.status)).toEqual(['REJECTED']);
  });

  it('invoice: the order stays PENDING, the store is told so', async () => {
    const { checkout, page } = await open({ currency: 'DKK', country: 'DK', amount: 49900 });
    await page.click('label[for="payment-method-1"]');
    expect(await page.isVisible('#card-number')).toBe(false);
    await page.click('button.button--pay');
    await expectLandedOn(page, `${receiver.origin}/complete`, 'PENDING', checkout);
    expect(await orderStatus(t, checkout.orderId)).toBe('PENDING');
  });

  it("cancel: back to the store's canceled URL, order canceled", async () => {
    const { checkout, page } = await open();
    await page.click('button:has-text("Cancel and return to the store")');
    await expectLandedOn(page, `${receiver.origin}/cancel`, 'CANCELED', checkout);
    expect(await orderStatus(t, checkout.orderId)).toBe('CANCELED');
  });

  it('an expired session shows the expired page, with a way back to the store', async () => {
    const checkout = await createHostedCheckout(t, merchant, {
      completedUrl: receiver.completedUrl,
      canceledUrl: receiver.canceledUrl,
    });
    const expired = await t.app.inject({
      method: 'POST',
      url: `/v1/checkouts/${checkout.checkoutId}/expire`,
      headers: merchant.headers,
    });
    expect(expired.statusCode).toBe(200);
    context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(checkout.url);
    expect(response?.status()).toBe(410);
    expect(await page.textContent('h1')).toBe('This checkout has expired');
    expect(await page.locator('form').count()).toBe(0);
    await shot(page, 'status-expired-en');
    await page.click('a:has-text("Return to the store")');
    await expectLandedOn(page, `${receiver.origin}/cancel`, 'EXPIRED', checkout);
  });

  it('a double click on Pay sends one authorization (with JavaScript)', async () => {
    const { checkout, page } = await open();
    await fillCard(page, CARDS.approved);
    await page.dblclick('button.button--pay');
    await expectLandedOn(page, `${receiver.origin}/complete`, 'PAID', checkout);
    const payments = await paymentsOf(t, checkout.checkoutId);
    expect(payments).toHaveLength(1);
    expect(
      await countAuthorizations(
        t,
        payments.map((p) => p.id),
      ),
    ).toBe(1);
  });

  it('without JavaScript: every field is there, the payment works, a double click still charges once', async () => {
    const { checkout, page } = await open(
      {},
      { javaScriptEnabled: false, viewport: { width: 390, height: 844 } },
    );
    expect(await page.isVisible('#card-number')).toBe(true);
    await shot(page, 'checkout-nojs-mobile');
    await fillCard(page, CARDS.approved);
    t.services.sandbox.setFaults({ latencyMs: 200 });
    try {
      await page.dblclick('button.button--pay');
      // Either the first answer wins the navigation (the store), or the second does: "Confirming your
      // payment", which refreshes itself into "This order is paid" with a signed link back to the store.
      await Promise.race([
        page.waitForURL(`${receiver.origin}/complete**`),
        page.waitForSelector('h1:has-text("This order is paid")'),
      ]);
      if (!page.url().startsWith(receiver.origin)) {
        await shot(page, 'status-paid-after-double-submit-nojs');
        await page.click('a:has-text("Return to the store")');
      }
      await expectLandedOn(page, `${receiver.origin}/complete`, 'PAID', checkout);
    } finally {
      t.services.sandbox.setFaults({});
    }
    const payments = await paymentsOf(t, checkout.checkoutId);
    expect(payments.map((p) => p.status)).toEqual(['SUCCEEDED']);
    expect(
      await countAuthorizations(
        t,
        payments.map((p) => p.id),
      ),
    ).toBe(1);
  });

  it('without JavaScript: server-side field errors are shown next to the fields', async () => {
    const { page } = await open({}, { javaScriptEnabled: false });
    await fillCard(page, '4242 4242 4242 4241', '12');
    await page.click('button.button--pay');
    await page.waitForSelector('#card-number-error:not([hidden])');
    expect(await page.textContent('#card-number-error')).toBe('The card number is not valid.');
    expect(await page.textContent('#card-cvc-error')).toBe('The security code is not valid.');
    expect(await page.inputValue('#card-number')).toBe('');
    await shot(page, 'checkout-field-errors-nojs');
  });

  it('Danish page, DKK formatted the Danish way', async () => {
    const { page } = await open({ locale: 'DA', currency: 'DKK', country: 'DK', amount: 599500 });
    expect(await page.getAttribute('html', 'lang')).toBe('da');
    expect(await page.textContent('button.button--pay')).toContain('Betal 5.995,00');
    expect(await page.textContent('body')).toContain('Annuller og vend tilbage til butikken');
    expect(await page.textContent('label[for="card-number"]')).toBe('Kortnummer');
    await shot(page, 'checkout-da');
  });

  it('Spanish (Latin America) page, paid in MXN', async () => {
    const { checkout, page } = await open({
      locale: 'ES_LATAM',
      currency: 'MXN',
      country: 'MX',
      amount: 990,
    });
    expect(await page.getAttribute('html', 'lang')).toBe('es-419');
    // Spanish for a Mexican order: pesos as "$9.90" (the country's own currency), never "MXN 9.90".
    const pay = (await page.innerText('button.button--pay')).replace(/\s+/g, ' ').trim();
    expect(pay).toBe('Pagar $9.90');
    expect(await page.textContent('body')).not.toContain('MXN');
    expect(await page.textContent('label[for="card-name"]')).toBe('Nombre en la tarjeta');
    await shot(page, 'checkout-es-latam');
    await fillCard(page, CARDS.approved);
    await page.click('button.button--pay');
    await expectLandedOn(page, `${receiver.origin}/complete`, 'PAID', checkout);
  });

  it('saved card: "Save this card" once, then pay with "Visa •••• 4242" without typing it again', async () => {
    const email = 'browser.saver@example.com';
    const first = await open({ allowSave: true, email });
    await fillCard(first.page, CARDS.approved);
    await first.page.check('#save-card');
    await shot(first.page, 'checkout-save-card');
    await first.page.click('button.button--pay');
    await expectLandedOn(first.page, `${receiver.origin}/complete`, 'PAID', first.checkout);
    await context.close();

    const { checkout, page } = await open({ allowSave: true, email, verified: true });
    const saved = page.locator('label.method--saved');
    expect(await saved.textContent()).toContain('Visa •••• 4242');
    expect(await page.isChecked('label.method--saved input')).toBe(true);
    // checkout.js hides (and disables) the card fields while a saved card is chosen.
    expect(await page.isVisible('#card-number')).toBe(false);
    await shot(page, 'checkout-saved-card');
    await page.click('button.button--pay');
    await expectLandedOn(page, `${receiver.origin}/complete`, 'PAID', checkout);
    expect((await paymentsOf(t, checkout.checkoutId))[0]!.saved_payment_method_id).toMatch(/^pm_/);
  });

  it('a JPY order shows no decimals', async () => {
    const { page } = await open({ currency: 'JPY', country: 'JP', amount: 6520 });
    const label = await page.textContent('button.button--pay');
    expect(label).toContain('¥6,520');
    expect(label).not.toMatch(/6,520\.\d/);
    await shot(page, 'checkout-jpy');
  });
});
