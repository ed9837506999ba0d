import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { verifyReturnSignature } from '../../src/lib/return-signature.ts';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import { createHostedCheckout, paymentsOf, signingSecret } from '../e2e/hosted-page/hosted-fixtures.ts';
import { startMerchantReceiver, type MerchantReceiver } from './merchant-receiver.ts';

/**
 * What the processor browser tests share (not a test file itself): a gateway on loopback with one test-mode
 * merchant whose card payments are routed to a processor account pointed at a fake of that processor, the
 * merchant's tiny store, Chromium, and the API calls the merchant makes afterwards.
 */

const SCREENSHOTS = new URL('../../.tmp/screenshots/', import.meta.url);

export type ProcessorPageRig = {
  t: TestApp;
  merchant: TestMerchant;
  receiver: MerchantReceiver;
  /** The processor account's id (`pa_…`): every payment of these tests must carry it. */
  accountId: string;
  webhookUrl: string;
  /** Opens a new hosted checkout in a fresh browser context. */
  open(options?: { capture?: 'automatic' | 'manual'; amount?: number }): Promise<OpenedCheckout>;
  /** Console errors, script errors and requests that left loopback, since the last call. */
  takeProblems(): string[];
  api(method: 'GET' | 'POST' | 'PATCH', path: string, body?: object): Promise<ApiAnswer>;
  shot(page: Page, name: string): Promise<void>;
  closeContext(): Promise<void>;
  close(): Promise<void>;
};

/** An API answer: the status and the parsed JSON body. */
export type ApiAnswer = { statusCode: number; json: Record<string, unknown> };

export type OpenedCheckout = {
  page: Page;
  checkoutId: string;
  orderId: string;
  path: string;
};

export async function startProcessorPageRig(options: {
  connect: { processor: 'stripe' | 'adyen'; credentials: Record<string, string>; apiBaseUrl: string };
  /** Told the account's webhook URL once it exists (the merchant registers it at the processor). */
  registerWebhook(url: string): void;
  /** The secret the processor shows once the URL is registered: `credentials` for the PATCH. */
  webhookSecret: Record<string, string>;
}): Promise<ProcessorPageRig> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const t = await createTestApp({ listen: true });
  const merchant = await t.createMerchant({ name: 'Nordlys Outdoor' });
  const receiver = await startMerchantReceiver();
  const browser: Browser = await launchBrowser();
  let context: BrowserContext | undefined;
  const problems: string[] = [];

  async function api(method: 'GET' | 'POST' | 'PATCH', path: string, body?: object): Promise<ApiAnswer> {
    const response = await t.app.inject({
      method,
      url: path,
      headers: merchant.headers,
      ...(body ? { payload: body } : {}),
    });
    return { statusCode: response.statusCode, json: response.json<Record<string, unknown>>() };
  }

  const connected = await api('POST', '/v1/processor-accounts', {
    processor: options.connect.processor,
    credentials: options.connect.credentials,
    payment_methods: ['card'],
    api_base_url: options.connect.apiBaseUrl,
  });
  if (connected.statusCode !== 201) throw new Error(`connect: ${JSON.stringify(connected.json)}`);
  const account = connected.json as { id: string; webhook_url: string };
  options.registerWebhook(account.webhook_url);
  const patched = await api('PATCH', `/v1/processor-accounts/${account.id}`, {
    credentials: options.webhookSecret,
  });
  if (patched.statusCode !== 200) throw new Error(`webhook secret: ${JSON.stringify(patched.json)}`);

  return {
    t,
    merchant,
    receiver,
    accountId: account.id,
    webhookUrl: account.webhook_url,
    async open({ capture = 'automatic', amount = 4200 } = {}) {
      const checkout = await createHostedCheckout(t, merchant, {
        completedUrl: receiver.completedUrl,
        canceledUrl: receiver.canceledUrl,
        currency: 'EUR',
        country: 'DE',
        amount,
        capture,
      });
      await context?.close();
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      page.on('console', (message) => {
        // Chromium reports every non-2xx document (402 after a decline) as a failed load.
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
          problems.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('request', (request) => {
        const host = new URL(request.url()).hostname;
        if (!request.url().startsWith('data:') && host !== '127.0.0.1')
          problems.push(`left loopback: ${request.url()}`);
      });
      await page.goto(checkout.url);
      return { page, checkoutId: checkout.checkoutId, orderId: checkout.orderId, path: checkout.path };
    },
    takeProblems: () => problems.splice(0),
    api,
    shot: async (page, name) => {
      await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
    },
    async closeContext() {
      await context?.close();
      context = undefined;
    },
    async close() {
      await context?.close();
      await browser.close();
      await receiver.close();
      await t.close();
    },
  };
}

export async function fillCard(page: Page, number: string, holderName = 'Ada Lovelace') {
  await page.fill('#card-name', holderName);
  await page.fill('#card-number', number);
  await page.fill('#card-expiry', '12/34');
  await page.fill('#card-cvc', '737');
}

/** Waits for the store's completed URL, and checks its signature and the order status it names. */
export async function expectLandedOn(
  rig: ProcessorPageRig,
  opened: OpenedCheckout,
  orderStatus: 'AUTHORIZED' | 'PAID' | 'PENDING',
): Promise<void> {
  const base = rig.receiver.completedUrl;
  await opened.page.waitForURL(`${new URL(base).origin}${new URL(base).pathname}**`);
  expect(await opened.page.textContent('h1')).toBe('Back at the shop');
  const secret = await signingSecret(rig.t, rig.merchant);
  expect(verifyReturnSignature(opened.page.url(), secret)).toMatchObject({
    valid: true,
    status: orderStatus,
    checkoutId: opened.checkoutId,
    orderId: opened.orderId,
  });
}

/** The checkout's one payment, read from the database: which account took it, and its processor reference. */
export async function onlyPayment(rig: ProcessorPageRig, checkoutId: string) {
  const payments = await paymentsOf(rig.t, checkoutId);
  expect(payments).toHaveLength(1);
  const { rows } = await rig.t.database.db.query<{ connector_id: string; connector_reference: string }>(
    'SELECT connector_id, connector_reference FROM payments WHERE id = $1',
    [payments[0]!.id],
  );
  return {
    ...payments[0]!,
    connectorId: rows[0]!.connector_id,
    connectorReference: rows[0]!.connector_reference,
  };
}

/** Polls `read` until `done` (webhooks are applied after they are acknowledged). */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
