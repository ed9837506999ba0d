/**
 * Routing payments to processor accounts, live mode's rules, and processor webhooks into Kassa.
 *
 * The external processor is a test double (test/fixtures/fake-processor.ts) installed in the `stripe` slot
 * of this app: an in-memory ledger whose captures, voids and refunds answer `pending` (as Adyen's do) until a
 * webhook signed with the account's secret (HMAC-SHA256) says how they ended. Kassa's side is all real:
 * database, HTTP routes, payment pipeline, events.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFakeProcessor, FAKE_CARDS, type FakeWebhookEvent } from '../../fixtures/fake-processor.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { linkRequest } from '../payment-links/payment-link-fixtures.ts';
import {
  cardForm,
  createHostedCheckout,
  csrfOf,
  getPage,
  localPath,
  paymentsOf,
} from '../hosted-page/hosted-fixtures.ts';
import { cardMethod, kassaTotals, paymentEvents, type PaymentJson } from '../payments/payment-fixtures.ts';

const fake = createFakeProcessor('stripe');
const LIVE_KEY = 'fk_live_51ZyXwVuTs4k2M';
const TEST_KEY = 'fk_test_51AbCdEfGh9z7Q';
const WEBHOOK_SECRET = 'whsec_routing_0123456789';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ processorModules: { stripe: fake.module } });
});
afterAll(async () => {
  await t.close();
});

function call(method: 'POST' | 'GET' | 'PATCH' | 'DELETE', url: string, who: TestMerchant, payload?: object) {
  return t.app.inject({ method, url, headers: who.headers, ...(payload ? { payload } : {}) });
}

async function connect(who: TestMerchant, body: Record<string, unknown>): Promise<string> {
  const response = await call('POST', '/v1/processor-accounts', who, body);
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: string }>().id;
}

async function checkout(
  who: TestMerchant,
  currency: string,
  extra: Record<string, unknown> = {},
  country = 'DE',
): Promise<string> {
  const response = await call(
    'POST',
    '/v1/checkouts',
    who,
    checkoutRequest(simpleOrder(currency, country, 2000), { capture_mode: 'manual', ...extra }),
  );
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ checkout_id: string }>().checkout_id;
}

async function pay(who: TestMerchant, checkoutId: string, method: unknown = cardMethod()) {
  return call('POST', '/v1/payments', who, { checkout_id: checkoutId, payment_method: method as object });
}

async function payOk(who: TestMerchant, currency: string, number: string = FAKE_CARDS.approved) {
  const response = await pay(who, await checkout(who, currency), cardMethod(number));
  expect(response.statusCode, response.body).toBe(201);
  return response.json<PaymentJson>();
}

async function connectorOf(paymentId: string): Promise<string> {
  const { rows } = await t.database.db.query<{ connector_id: string }>(
    'SELECT connector_id FROM payments WHERE id = $1',
    [paymentId],
  );
  return rows[0]!.connector_id;
}

function webhook(accountId: string, events: FakeWebhookEvent[], secret = WEBHOOK_SECRET, timestamp?: Date) {
  const signed = fake.signedWebhook(secret, events, timestamp ? { timestamp } : {});
  return t.app.inject({
    method: 'POST',
    url: `/v1/processor-webhooks/${accountId}`,
    headers: signed.headers,
    payload: signed.body,
  });
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return read();
}

async function paymentJson(who: TestMerchant, id: string): Promise<PaymentJson & Record<string, unknown>> {
  return (await call('GET', `/v1/payments/${id}`, who)).json();
}

describe('routing in test mode', () => {
  let merchant: TestMerchant;
  beforeAll(async () => {
    merchant = await t.createMerchant();
  });

  it('without an account, payments go to the built-in sandbox', async () => {
    const payment = await payOk(merchant, 'EUR');
    expect(payment.status).toBe('AUTHORIZED');
    expect(await connectorOf(payment.id)).toBe('sandbox');
  });

  it('goes to the enabled account that takes the method and currency, lowest priority first', async () => {
    const anyCurrency = await connect(merchant, {
      processor: 'sandbox',
      credentials: {},
      payment_methods: ['card'],
      priority: 5,
    });
    const euroOnly = await connect(merchant, {
      processor: 'sandbox',
      credentials: {},
      payment_methods: ['card'],
      currencies: ['EUR'],
      priority: 1,
    });
    expect(await connectorOf((await payOk(merchant, 'EUR')).id)).toBe(euroOnly);
    expect(await connectorOf((await payOk(merchant, 'DKK')).id)).toBe(anyCurrency);
    // An invoice no account takes: test mode falls back to the sandbox.
    const invoice = await pay(merchant, await checkout(merchant, 'EUR'), { type: 'invoice' });
    expect(invoice.statusCode, invoice.body).toBe(201);
    expect(await connectorOf(invoice.json<PaymentJson>().id)).toBe('sandbox');
    // Disabled: skipped.
    await call('PATCH', `/v1/processor-accounts/${euroOnly}`, merchant, { status: 'DISABLED' });
    expect(await connectorOf((await payOk(merchant, 'EUR')).id)).toBe(anyCurrency);
  });

  it('a deleted account takes no new payment, but what it took is still captured and refunded through it', async () => {
    const merchantB = await t.createMerchant({ name: 'Deleting shop' });
    const account = await connect(merchantB, {
      processor: 'sandbox',
      credentials: {},
      payment_methods: ['card'],
    });
    const payment = await payOk(merchantB, 'EUR');
    expect(await connectorOf(payment.id)).toBe(account);
    expect((await call('DELETE', `/v1/processor-accounts/${account}`, merchantB)).statusCode).toBe(200);
    expect(await connectorOf((await payOk(merchantB, 'EUR')).id)).toBe('sandbox');
    const captured = await call('POST', `/v1/payments/${payment.id}/capture`, merchantB, {});
    expect(captured.statusCode, captured.body).toBe(201);
    expect(captured.json()).toMatchObject({ status: 'SUCCEEDED', payment: { captured_amount: 2000 } });
    const refund = await call('POST', `/v1/payments/${payment.id}/refunds`, merchantB, { amount: 500 });
    expect(refund.statusCode, refund.body).toBe(201);
    expect(refund.json()).toMatchObject({ status: 'SUCCEEDED' });
    // The sandbox ledger (behind the account) holds the same capture and refund.
    const operations = await t.services.sandbox.listOperations({ paymentId: payment.id });
    expect(operations.filter((op) => op.outcome === 'succeeded').map((op) => op.kind)).toEqual(
      expect.arrayContaining(['capture', 'refund']),
    );
  });

  it('the hosted page passes the shopper’s browser to the processor and finishes 3-D Secure with completeAction', async () => {
    const shop = await t.createMerchant({ name: 'Hosted shop' });
    const account = await connect(shop, {
      processor: 'stripe',
      credentials: { api_key: TEST_KEY },
      payment_methods: ['card'],
    });
    const created = await createHostedCheckout(t, shop, { capture: 'manual' });
    const page = await getPage(t, created.path, {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Test',
      'accept-language': 'da-DK,da;q=0.9',
    });
    const response = await t.app.inject({
      method: 'POST',
      url: created.path,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Test',
        accept: 'text/html',
        'accept-language': 'da-DK,da;q=0.9',
      },
      payload: new URLSearchParams(cardForm(csrfOf(page.html), FAKE_CARDS.threeDSecure)).toString(),
    });
    expect(response.statusCode).toBe(303);
    const [payment] = await paymentsOf(t, created.checkoutId);
    expect(payment!.status).toBe('REQUIRES_ACTION');
    expect(await connectorOf(payment!.id)).toBe(account);
    const authorizeCall = fake.calls.find((entry) => entry.paymentId === payment!.id);
    expect(authorizeCall?.shopper).toMatchObject({
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Test',
      acceptHeader: 'text/html',
      language: 'da-DK',
      ipAddress: expect.any(String),
    });
    // The processor sends the shopper back to the return URL with its own parameters.
    const location = String(response.headers.location);
    expect(location).toContain('fake_result=pending');
    const back = await getPage(t, localPath(location.replace('fake_result=pending', 'fake_result=pass')));
    expect([200, 303]).toContain(back.status);
    const completeCall = fake.calls.find(
      (entry) => entry.operation === 'complete_action' && entry.accountId === account,
    );
    expect(completeCall?.returnParameters).toEqual({ fake_result: 'pass' });
    expect((await paymentsOf(t, created.checkoutId))[0]!.status).toBe('AUTHORIZED');
  });
});

describe('live mode', () => {
  let live: TestMerchant;
  beforeAll(async () => {
    live = await t.createMerchant({ livemode: true, name: 'Live shop' });
  });

  it('without a processor account, checkouts and payment links are refused up front with no_processor', async () => {
    const refused = await call(
      'POST',
      '/v1/checkouts',
      live,
      checkoutRequest(simpleOrder('EUR', 'DE', 2000), { completed_redirect_url: 'http://shop.example/done' }),
    );
    const problem = expectProblem(refused);
    expect(problem).toMatchObject({ status: 422, code: 'no_processor' });
    const pointers = problem.errors!.map((error) => `${error.pointer} ${error.code}`);
    expect(pointers).toEqual(
      expect.arrayContaining(['/completed_redirect_url invalid_url', '/payment_methods no_processor']),
    );
    expect(problem.errors!.filter((error) => error.code === 'no_processor').map((e) => e.message)).toEqual([
      'names card, which no enabled live processor account takes in EUR',
      'names invoice, which no enabled live processor account takes in EUR',
      'names wallet, which no enabled live processor account takes in EUR',
    ]);
    const link = await call('POST', '/v1/payment-links', live, linkRequest());
    expect(expectProblem(link)).toMatchObject({ status: 422, code: 'no_processor' });
    const { rows } = await t.database.db.query('SELECT 1 FROM checkouts WHERE merchant_id = $1', [
      live.merchantId,
    ]);
    expect(rows).toEqual([]);
  });

  it('routes to the live account; methods it does not take are hidden with an explain reason', async () => {
    const account = await connect(live, {
      processor: 'stripe',
      credentials: { api_key: LIVE_KEY, webhook_secret: WEBHOOK_SECRET },
      payment_methods: ['card'],
      currencies: ['EUR'],
    });
    const usd = await call('POST', '/v1/checkouts', live, checkoutRequest(simpleOrder('USD', 'US', 2000)));
    expect(expectProblem(usd)).toMatchObject({ code: 'no_processor' });
    const invoiceOnly = await call(
      'POST',
      '/v1/checkouts',
      live,
      checkoutRequest(simpleOrder('EUR', 'DE', 2000), { payment_methods: ['invoice'] }),
    );
    expect(expectProblem(invoiceOnly).detail).toMatch(/invoice in EUR/);

    const checkoutId = await checkout(live, 'EUR');
    const methods = await call(
      'GET',
      `/v1/checkouts/${checkoutId}/payment-methods?explain=true&device=mobile`,
      live,
    );
    expect(methods.statusCode, methods.body).toBe(200);
    const body = methods.json<{
      livemode: boolean;
      payment_methods: { type: string }[];
      hidden: { type: string; rule: string; message: string }[];
    }>();
    expect(body.livemode).toBe(true);
    expect(body.payment_methods.map((method) => method.type)).toEqual(['card']);
    expect(body.hidden).toEqual(
      expect.arrayContaining([
        {
          type: 'invoice',
          rule: 'no_processor',
          message: 'no enabled live processor account takes invoice in EUR',
        },
        {
          type: 'wallet',
          rule: 'no_processor',
          message: 'no enabled live processor account takes wallet in EUR',
        },
      ]),
    );
    const invoice = await pay(live, checkoutId, { type: 'invoice' });
    expect(expectProblem(invoice)).toMatchObject({ status: 422, code: 'no_processor' });

    const paid = await pay(live, checkoutId);
    expect(paid.statusCode, paid.body).toBe(201);
    const payment = paid.json<PaymentJson>();
    expect(payment).toMatchObject({ status: 'AUTHORIZED', livemode: true });
    expect(await connectorOf(payment.id)).toBe(account);
    expect(fake.calls).toContainEqual(
      expect.objectContaining({ accountId: account, operation: 'authorize', paymentId: payment.id }),
    );
  });

  it('the hosted page offers only what the live account takes, read in one statement with the checkout', async () => {
    const shop = await t.createMerchant({ livemode: true, name: 'Live page shop' });
    await connect(shop, {
      processor: 'stripe',
      credentials: { api_key: LIVE_KEY, webhook_secret: WEBHOOK_SECRET },
      payment_methods: ['card'],
      currencies: ['EUR'],
    });
    const created = await call(
      'POST',
      '/v1/checkouts',
      shop,
      checkoutRequest(simpleOrder('EUR', 'DE', 2000)),
    );
    expect(created.statusCode, created.body).toBe(201);
    const path = new URL(created.json<{ checkout_redirect_url: string }>().checkout_redirect_url).pathname;
    const offered = (html: string) =>
      [...html.matchAll(/<input[^>]*name="payment_method"[^>]*value="([^"]+)"/g)].map((match) => match[1]);

    const first = await t.app.inject({ method: 'GET', url: path });
    expect(first.statusCode, first.body).toBe(200);
    expect(offered(first.body)).toEqual(['card']);

    // With the merchant and its settings cached, a view is one statement: the accounts come with the checkout.
    const { pool } = t.services.db;
    const query = vi.spyOn(pool, 'query');
    try {
      const again = await t.app.inject({ method: 'GET', url: path });
      expect(again.statusCode).toBe(200);
      expect(offered(again.body)).toEqual(['card']);
      expect(query).toHaveBeenCalledTimes(1);
    } finally {
      query.mockRestore();
    }
  });

  describe('processor webhooks', () => {
    let account: string;
    let payment: PaymentJson;
    beforeAll(async () => {
      const shop = await t.createMerchant({ livemode: true, name: 'Webhook shop' });
      live = shop;
      account = await connect(shop, {
        processor: 'stripe',
        credentials: { api_key: LIVE_KEY, webhook_secret: WEBHOOK_SECRET },
        payment_methods: ['card'],
      });
      payment = await payOk(shop, 'EUR');
    });

    const storedCount = async () =>
      (
        await t.database.db.query<{ count: number }>(
          'SELECT count(*)::int AS count FROM processor_notifications WHERE processor_account_id = $1',
          [account],
        )
      ).rows[0]!.count;

    it('a capture the processor decides later stays PENDING until its signed webhook, applied once', async () => {
      const capture = await call('POST', `/v1/payments/${payment.id}/capture`, live, { amount: 1500 });
      expect(capture.statusCode, capture.body).toBeLessThan(300);
      expect((await paymentJson(live, payment.id)).status).toBe('AUTHORIZED');
      expect(await kassaTotals(t, payment.id)).toMatchObject({ pendingCaptures: 1500, captured: 0 });
      const { rows } = await t.database.db.query<{ connector_reference: string }>(
        'SELECT connector_reference FROM captures WHERE payment_id = $1',
        [payment.id],
      );
      const operationReference = rows[0]!.connector_reference;
      expect(operationReference).toMatch(/^fkop_/);
      const reference = (
        await t.database.db.query<{ connector_reference: string }>(
          'SELECT connector_reference FROM payments WHERE id = $1',
          [payment.id],
        )
      ).rows[0]!.connector_reference;

      // Forged, unsigned and stale webhooks are refused and change nothing.
      const event: FakeWebhookEvent = {
        id: 'evt_capture_1',
        kind: 'capture',
        reference,
        operation_reference: operationReference,
        status: 'succeeded',
      };
      const forged = await webhook(account, [event], 'whsec_not_the_secret_at_all');
      expect(expectProblem(forged)).toMatchObject({ status: 401, code: 'invalid_signature' });
      const unsigned = await t.app.inject({
        method: 'POST',
        url: `/v1/processor-webhooks/${account}`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ events: [event] }),
      });
      expect(expectProblem(unsigned).status).toBe(401);
      const stale = await webhook(account, [event], WEBHOOK_SECRET, new Date(Date.now() - 10 * 60_000));
      expect(expectProblem(stale)).toMatchObject({ status: 401, code: 'invalid_signature' });
      const unknownAccount = await webhook(`pa_${'0'.repeat(32)}`, [event]);
      expect(unknownAccount.statusCode).toBe(404);
      expect(await storedCount()).toBe(0);
      expect(await kassaTotals(t, payment.id)).toMatchObject({ pendingCaptures: 1500, captured: 0 });

      const accepted = await webhook(account, [event]);
      expect(accepted.statusCode).toBe(200);
      expect(accepted.body).toBe('[accepted]');
      const settled = await until(
        () => paymentJson(live, payment.id),
        (json) => json.status === 'SUCCEEDED',
      );
      expect(settled).toMatchObject({ status: 'SUCCEEDED', captured_amount: 1500 });
      const again = await webhook(account, [event]);
      expect(again.statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const types = (await paymentEvents(t, payment.id)).map((row) => row.type);
      expect(types.filter((type) => type === 'payment.captured')).toHaveLength(1);
      expect(types.filter((type) => type === 'payment.succeeded')).toHaveLength(1);
      expect(await storedCount()).toBe(1);
    });

    it('a late or out-of-order notification changes nothing; a refund can fail later, with refund.failed', async () => {
      const reference = (
        await t.database.db.query<{ connector_reference: string }>(
          'SELECT connector_reference FROM payments WHERE id = $1',
          [payment.id],
        )
      ).rows[0]!.connector_reference;
      const before = (await paymentEvents(t, payment.id)).length;
      // The authorization's own notification, arriving after the capture: the payment does not move back.
      const late = await webhook(account, [
        {
          id: 'evt_auth_late',
          kind: 'authorization',
          reference,
          payment_id: payment.id,
          status: 'authorized',
        },
      ]);
      expect(late.statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await paymentJson(live, payment.id)).status).toBe('SUCCEEDED');
      expect((await paymentEvents(t, payment.id)).length).toBe(before);

      const refund = await call('POST', `/v1/payments/${payment.id}/refunds`, live, { amount: 400 });
      expect(refund.statusCode, refund.body).toBeLessThan(300);
      const refundId = refund.json<{ id: string; status: string }>().id;
      expect(refund.json()).toMatchObject({ status: 'PENDING' });
      const operationReference = (
        await t.database.db.query<{ connector_reference: string }>(
          'SELECT connector_reference FROM refunds WHERE id = $1',
          [refundId],
        )
      ).rows[0]!.connector_reference;
      const failed = await webhook(account, [
        {
          id: 'evt_refund_failed',
          kind: 'refund',
          reference,
          operation_reference: operationReference,
          status: 'failed',
        },
      ]);
      expect(failed.statusCode).toBe(200);
      await until(
        async () => (await paymentEvents(t, payment.id)).map((row) => row.type),
        (types) => types.includes('refund.failed'),
      );
      // A contradicting later notification for the same refund changes nothing: statuses only move forward.
      await webhook(account, [
        {
          id: 'evt_refund_ok',
          kind: 'refund',
          reference,
          operation_reference: operationReference,
          status: 'succeeded',
        },
      ]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const refunds = (await call('GET', `/v1/payments/${payment.id}/refunds`, live)).json<{
        data: { id: string; status: string }[];
      }>();
      expect(refunds.data.find((row) => row.id === refundId)?.status).toBe('FAILED');
      expect(await kassaTotals(t, payment.id)).toMatchObject({ refunded: 0, pendingRefunds: 0 });
      expect((await paymentJson(live, payment.id)).refunded_amount).toBe(0);
      const types = (await paymentEvents(t, payment.id)).map((row) => row.type);
      expect(types.filter((type) => type.startsWith('refund.'))).toEqual(['refund.failed']);
    });

    it('refuses every webhook until the account’s webhook secret is set', async () => {
      const shop = await t.createMerchant({ livemode: true, name: 'No secret yet' });
      const noSecret = await connect(shop, {
        processor: 'stripe',
        credentials: { api_key: LIVE_KEY },
        payment_methods: ['card'],
      });
      const event: FakeWebhookEvent = {
        id: 'evt_1',
        kind: 'authorization',
        reference: 'fkpay_x',
        status: 'authorized',
      };
      const refused = await webhook(noSecret, [event]);
      expect(expectProblem(refused)).toMatchObject({ status: 403 });
      const patched = await call('PATCH', `/v1/processor-accounts/${noSecret}`, shop, {
        credentials: { webhook_secret: WEBHOOK_SECRET },
      });
      expect(patched.statusCode).toBe(200);
      expect((await webhook(noSecret, [event])).statusCode).toBe(200);
    });
  });
});
