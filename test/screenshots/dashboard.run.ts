import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers } from '../../src/workers/workers.ts';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import { addUser } from '../e2e/dashboard/dashboard-fixtures.ts';
import { createPaymentCheckout, payByApi } from '../e2e/payments/payment-fixtures.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../e2e/webhooks/webhook-receiver.ts';
import { signInThroughForms } from '../browser/dashboard-sign-in.ts';

/**
 * `npm run screenshots:dashboard`: the README's pictures of the dashboard (docs/images/dashboard-*.png), taken in
 * Debian's Chromium at 1280 px from a gateway on loopback with a small shop's history made through the API:
 * paid, authorized and declined orders, one partly refunded, and a webhook endpoint whose receiver fails for
 * one path. Not a test of the pages (test/browser/dashboard-*.test.ts are): it fails only when a page cannot
 * be reached.
 */

const IMAGES = new URL('../../docs/images/', import.meta.url);
const OWNER = 'owner@bakery.example';

describe('screenshots of the main dashboard pages', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let browser: Browser;
  let page: Page;
  let receiver: WebhookReceiver;
  let workers: { stop(): Promise<void> };
  let refundedOrderId: string;
  let endpointId: string;

  beforeAll(async () => {
    t = await createTestApp({ listen: true });
    merchant = await t.createMerchant({ name: 'Corner Bakery' });
    await addUser(t, merchant.merchantId, OWNER, 'owner');
    await addUser(t, merchant.merchantId, 'dev@bakery.example', 'developer');
    await addUser(t, merchant.merchantId, 'help@bakery.example', 'support');
    receiver = await startWebhookReceiver((request) =>
      request.path === '/fail' ? { status: 500, body: 'receiver broke' } : { status: 200, body: 'ok' },
    );
    const endpoint = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: merchant.headers,
      payload: { url: `${receiver.url}/fail`, enabled_events: ['refund.succeeded', 'refund.failed'] },
    });
    expect(endpoint.statusCode, endpoint.body).toBe(201);
    endpointId = endpoint.json().id;
    const working = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: merchant.headers,
      payload: { url: `${receiver.url}/ok`, enabled_events: ['*'] },
    });
    expect(working.statusCode, working.body).toBe(201);
    workers = startWorkers(t.services, t.app.log);

    const shoppers = ['ada', 'grace', 'linus', 'margaret', 'alan', 'barbara'];
    for (const [n, name] of shoppers.entries()) {
      const checkout = await createPaymentCheckout(t, merchant, {
        currency: 'EUR',
        amount: 1200 + n * 350,
        capture: n % 3 === 1 ? 'manual' : 'automatic',
        merchantOrderId: `BAKE-${1001 + n}`,
        customerEmail: `${name}@customer.example`,
      });
      const paid = await payByApi(t, merchant, checkout.checkout_id);
      expect(paid.statusCode, paid.body).toBe(201);
      if (n === 0) refundedOrderId = checkout.order.order_id;
    }
    await createPaymentCheckout(t, merchant, { currency: 'EUR', amount: 990, merchantOrderId: 'BAKE-1099' });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await signInThroughForms(page, t, OWNER);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await workers?.stop();
    await receiver?.close();
    await t?.close();
  });

  async function shoot(path: string, name: string) {
    const response = await page.goto(`${t.baseUrl}${path}`);
    expect(response?.status(), path).toBe(200);
    await page.screenshot({ path: new URL(`dashboard-${name}.png`, IMAGES).pathname, fullPage: true });
  }

  it('takes the README pictures', async () => {
    // A partial refund through the dashboard's own form, so the order page and its timeline show one.
    await page.goto(`${t.baseUrl}/dashboard/orders/${refundedOrderId}`);
    const refund = page.locator('form[action$="/refund"]').first();
    await refund.locator('input[name="amount"]').fill('5.00');
    await refund.locator('input[name="reason"]').fill('Crushed croissant');
    await refund.locator('button[type="submit"], button:not([type])').first().click();
    await page.waitForLoadState('load');
    // Let the worker try the failing endpoint, so Developers shows failed deliveries.
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    await shoot('/dashboard', 'home');
    await shoot('/dashboard/orders', 'orders');
    await shoot(`/dashboard/orders/${refundedOrderId}`, 'order');
    // The newest part of the timeline, from the page as a whole (a sticky banner would cover an element shot).
    const box = (await page.locator('.dash-timeline').boundingBox())!;
    await page.screenshot({
      path: new URL('dashboard-order-timeline.png', IMAGES).pathname,
      fullPage: true,
      clip: { x: box.x, y: box.y, width: box.width, height: Math.min(box.height, 1000) },
    });
    await shoot(`/dashboard/webhooks/${endpointId}`, 'webhook-deliveries');
    await shoot('/dashboard/settings', 'settings');
    await shoot('/dashboard/team', 'team');
  }, 120_000);
});
