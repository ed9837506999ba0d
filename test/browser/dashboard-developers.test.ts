import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../../src/modules/events/event.repository.ts';
import { startWorkers } from '../../src/workers/workers.ts';
import { axeViolations } from '../fixtures/axe.ts';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import { addUser } from '../e2e/dashboard/dashboard-fixtures.ts';
import { signInThroughForms } from './dashboard-sign-in.ts';
import {
  startWebhookReceiver,
  verifyWebhook,
  type WebhookReceiver,
} from '../e2e/webhooks/webhook-receiver.ts';

/**
 * The dashboard's developer pages in Debian's Chromium with JavaScript off: a developer adds a webhook endpoint,
 * sees a delivery fail against a loopback receiver answering 500, fixes the receiver and redelivers; rolls an
 * API key and uses the new one; and axe-core finds no WCAG A/AA violation on any of these pages.
 */
describe('the dashboard developer pages in a real browser', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let browser: Browser;
  let receiver: WebhookReceiver;
  let workers: { stop(): Promise<void> };
  let context: BrowserContext | undefined;
  let problems: string[] = [];
  let receiverBroken = true;

  beforeAll(async () => {
    t = await createTestApp({ listen: true, env: { KASSA_WEBHOOK_RETRY_SCHEDULE: '0.2,0.4' } });
    merchant = await t.createMerchant({ name: 'Developer Shop' });
    await addUser(t, merchant.merchantId, 'dev@browser.test', 'developer');
    await addUser(t, merchant.merchantId, 'owner@browser.test', 'owner');
    receiver = await startWebhookReceiver(() =>
      receiverBroken ? { status: 500, body: 'database is down' } : { status: 200, body: 'thanks' },
    );
    workers = startWorkers(t.services, t.app.log);
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
    await workers?.stop();
    await receiver?.close();
    await t?.close();
  });

  /** JavaScript is off for the journeys (the pages need none); axe-core needs it on to run in the page. */
  async function signedIn(
    width: number,
    email = 'dev@browser.test',
    javaScriptEnabled = false,
  ): Promise<Page> {
    context = await browser.newContext({ viewport: { width, height: 800 }, javaScriptEnabled });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1')
        problems.push(`left loopback: ${request.url()}`);
    });
    await signInThroughForms(page, t, email);
    return page;
  }

  async function fits(page: Page, width: number) {
    // The page never scrolls sideways (a wide table scrolls inside its own wrapper); on failure the message
    // names the elements that stick out, so it says what to fix.
    const overflow = await page.evaluate((limit) => {
      if (document.documentElement.scrollWidth <= limit) return [];
      return [...document.querySelectorAll('main *')]
        .filter(
          (element) => element.getBoundingClientRect().right > limit && !element.closest('.dash-table-wrap'),
        )
        .slice(-3)
        .map(
          (element) => `${element.tagName}.${element.className}: ${element.getBoundingClientRect().right}`,
        );
    }, width);
    expect(overflow, page.url()).toEqual([]);
  }

  /** Reloads until the text shows (the page has no script; the delivery worker runs meanwhile). */
  async function reloadUntil(page: Page, text: string) {
    const deadline = Date.now() + 15_000;
    while (!(await page.textContent('main'))!.includes(text)) {
      if (Date.now() > deadline) throw new Error(`"${text}" never showed on ${page.url()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await page.reload();
    }
  }

  it('adds an endpoint, sees a delivery fail, and redelivers it once the receiver is fixed', async () => {
    const page = await signedIn(375);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard/webhooks`);
    await fits(page, 375);
    await page.getByLabel('URL').fill(`${receiver.url}/hooks`);
    await page.getByLabel('Description').fill('Order system');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = (await page.textContent('.dash-secret__value'))!;
    expect(secret).toMatch(/^whsec_/);
    await fits(page, 375);

    const { id: eventId } = await t.services.db.transaction((tx) =>
      emitEvent(tx, {
        merchantId: merchant.merchantId,
        livemode: false,
        type: 'payment.succeeded',
        objectId: 'pay_browser000000000000000000000001',
        data: { object: 'payment', id: 'pay_browser000000000000000000000001', amount: 4200, currency: 'EUR' },
      }),
    );
    t.services.outbox.notify();

    await page.getByRole('link', { name: `${receiver.url}/hooks` }).click();
    await reloadUntil(page, 'FAILED');
    expect(receiver.received).toHaveLength(3);
    await page.getByText('Request and response').first().click();
    expect(await page.textContent('main')).toContain('database is down');
    await fits(page, 375);

    receiverBroken = false;
    await page.getByRole('button', { name: /^Redeliver/ }).click();
    await page.waitForURL(/notice=redelivered$/);
    expect(await page.textContent('.dash-notice--success')).toContain('delivered again');
    await receiver.waitFor((received) => received.length === 4);
    expect(receiver.received[3]!.headers['webhook-id']).toBe(eventId);
    expect(verifyWebhook(secret, receiver.received[3]!)).toMatchObject({ type: 'payment.succeeded' });
    await reloadUntil(page, 'SUCCEEDED');

    await page
      .getByRole('link', { name: 'Events log' })
      .click()
      .catch(async () => {
        await page.goto(`${t.baseUrl}/dashboard/events`);
      });
    await page.goto(`${t.baseUrl}/dashboard/events`);
    await fits(page, 375);
    await page.getByRole('link', { name: 'payment.succeeded' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard/events/${eventId}`);
    expect(await page.textContent('main')).toContain('"amount": 4200');
    await fits(page, 375);
  }, 180_000);

  // Rolling the merchant's secret key (every scope) takes a role that holds every scope: the owner.
  it('rolls an API key on the keys page, and the new key works', async () => {
    const page = await signedIn(1280, 'owner@browser.test');
    await page.getByRole('link', { name: 'Developers' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard/developers`);
    await page.getByRole('button', { name: /^Roll/ }).first().click();
    const secret = (await page.textContent('.dash-secret__value'))!;
    expect(secret).toMatch(/^sk_test_/);
    expect(await page.textContent('main')).toContain('keeps working until');
    const response = await t.app.inject({
      method: 'GET',
      url: '/v1/webhook-endpoints',
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(response.statusCode).toBe(200);
    await fits(page, 1280);
  }, 120_000);

  it('finds no WCAG A/AA violation with axe-core on any developer page, nor its answers to forms', async () => {
    const page = await signedIn(375, 'owner@browser.test', true);
    const violations: Record<string, unknown[]> = {};
    const check = async (name: string) => {
      violations[name] = await axeViolations(page);
      await fits(page, 375);
    };
    await page.goto(`${t.baseUrl}/dashboard/webhooks`);
    await check('webhooks');
    const endpoint = page.getByRole('link', { name: `${receiver.url}/hooks` });
    await endpoint.click();
    await page.getByText('Request and response').first().click();
    await check('webhook endpoint, a delivery opened');
    await page.getByLabel('Keep signing with the current secret for').selectOption('0');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    expect(await page.textContent('.dash-secret__value')).toMatch(/^whsec_/);
    await check('webhook endpoint, new secret');
    await page.goto(`${t.baseUrl}/dashboard/events`);
    await check('events');
    await page.getByRole('link', { name: 'payment.succeeded' }).first().click();
    await check('event');
    await page.goto(`${t.baseUrl}/dashboard/developers/oauth-clients`);
    await check('OAuth clients');
    await page.getByRole('button', { name: 'Create client' }).click();
    expect(await page.textContent('.dash-secret__value')).toBeTruthy();
    await check('OAuth clients, new secret');
    await page.getByRole('link', { name: 'Processors' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard/processor-accounts`);
    await check('processor accounts');
    await page.getByRole('button', { name: 'Connect sandbox' }).click();
    await page.waitForURL(/notice=created$/);
    expect(await page.textContent('tbody')).toContain('sandbox');
    await check('processor accounts, one connected');
    await page.goto(`${t.baseUrl}/dashboard/developers`);
    await check('API keys');
    expect(violations).toEqual(Object.fromEntries(Object.keys(violations).map((name) => [name, []])));
  }, 240_000);
});
