import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import { createHostedCheckout } from '../e2e/hosted-page/hosted-fixtures.ts';
import { startMerchantReceiver, type MerchantReceiver } from './merchant-receiver.ts';

/**
 * A keyboard-only payment in Chromium: Tab, Shift+Tab, Space and Enter (and typing into the focused field),
 * never a click. The focus must walk the payment page in reading order — payment method, name, number,
 * expiry, security code, "save this card", Pay — with a visible focus indicator on every stop, and Enter
 * on Pay must pay: the shopper lands on the store and the API says the order is PAID (docs/accessibility.md).
 */

type Focused = { key: string; indicator: string; focusVisible: boolean };

describe('a keyboard-only payment', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let store: MerchantReceiver;
  let browser: Browser;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    t = await createTestApp({ listen: true });
    merchant = await t.createMerchant({ name: 'Nordlys Outdoor' });
    store = await startMerchantReceiver();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await store?.close();
    await t?.close();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  /**
   * What has the focus, named by id (or tag and text), and how its focus is drawn: an outline of at least
   * 2 px on the element or on the label that wraps it (a payment method's whole row), or a focus ring
   * (box-shadow) on a text field. Empty when nothing visible marks it.
   */
  const focused = (page: Page): Promise<Focused> =>
    page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      if (!element || element === document.body) return { key: 'body', indicator: '', focusVisible: false };
      const key =
        element.id ||
        `${element.tagName.toLowerCase()}:${(element.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 40)}`;
      const outlined = (candidate: Element | null) => {
        if (!candidate) return false;
        const style = getComputedStyle(candidate);
        return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
      };
      const ring = getComputedStyle(element).boxShadow;
      const indicator = outlined(element)
        ? 'outline'
        : outlined(element.closest('label'))
          ? 'outline of its label'
          : ring !== 'none'
            ? `ring ${ring}`
            : '';
      return { key, indicator, focusVisible: element.matches(':focus-visible') };
    });

  async function tab(page: Page, backwards = false): Promise<Focused> {
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    const now = await focused(page);
    // A visible indicator on every stop (WCAG 2.4.7): :focus-visible matches and something draws it.
    expect(now.focusVisible, `${now.key} does not match :focus-visible`).toBe(true);
    expect(now.indicator, `${now.key} has no visible focus indicator`).not.toBe('');
    return now;
  }

  it('Tab through the fields in order, Space to save the card, Enter on Pay: paid', async () => {
    const checkout = await createHostedCheckout(t, merchant, {
      locale: 'en',
      allowSave: true,
      completedUrl: store.completedUrl,
      canceledUrl: store.canceledUrl,
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(checkout.url);
    expect((await focused(page)).key).toBe('body');

    // Forward from the top of the page to Pay, typing into each card field as it gets the focus.
    const order: string[] = [];
    const typed: Record<string, string> = {
      'card-name': 'Ada Lovelace',
      'card-number': '4242424242424242',
      'card-expiry': '1234',
      'card-cvc': '737',
    };
    for (let step = 0; step < 20; step += 1) {
      const now = await tab(page);
      order.push(now.key);
      if (typed[now.key]) await page.keyboard.type(typed[now.key]!);
      if (now.key.startsWith('button:Pay')) break;
    }
    // The methods (one radio group: one Tab stop), then the card fields in reading order, then Pay.
    const fields = order.filter((key) => !key.startsWith('payment-method-'));
    expect(order[0]).toMatch(/^payment-method-/);
    expect(order.filter((key) => key.startsWith('payment-method-'))).toHaveLength(1);
    expect(fields).toEqual([
      'card-name',
      'card-number',
      'card-expiry',
      'card-cvc',
      'save-card',
      expect.stringMatching(/^button:Pay \$25\.00$/),
    ]);
    expect(await page.inputValue('#card-number')).toBe('4242 4242 4242 4242');
    expect(await page.inputValue('#card-expiry')).toMatch(/^12 ?\/ ?34$/);

    // Shift+Tab walks back the same way; Space ticks "save this card".
    expect((await tab(page, true)).key).toBe('save-card');
    expect((await tab(page, true)).key).toBe('card-cvc');
    expect((await tab(page)).key).toBe('save-card');
    expect(await page.isChecked('#save-card')).toBe(false);
    await page.keyboard.press('Space');
    expect(await page.isChecked('#save-card')).toBe(true);

    // Enter on Pay submits the form.
    expect((await tab(page)).key).toMatch(/^button:Pay/);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${store.origin}/complete**`);

    const orderResponse = await t.app.inject({
      method: 'GET',
      url: `/v1/orders/${checkout.orderId}`,
      headers: merchant.headers,
    });
    expect(orderResponse.statusCode).toBe(200);
    expect(orderResponse.json()).toMatchObject({ status: 'PAID' });
    const payments = await t.app.inject({
      method: 'GET',
      url: `/v1/orders/${checkout.orderId}/payments`,
      headers: merchant.headers,
    });
    expect(payments.statusCode, payments.body).toBe(200);
    const [payment] = payments.json<{ data: { status: string }[] }>().data;
    expect(payment).toMatchObject({ status: 'SUCCEEDED' });
    // Space really ticked the box: the shopper's card is saved.
    const saved = await t.app.inject({
      method: 'GET',
      url: `/v1/customers/${checkout.customerId}/payment-methods`,
      headers: merchant.headers,
    });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json<{ data: { card: { last4: string } }[] }>().data).toMatchObject([
      { card: { last4: '4242' } },
    ]);
  });
});
