/**
 * The typed Node client (packages/node) against a running gateway on loopback: automatic idempotency keys and
 * retries that are safe (a lost answer is retried with the same key and the checkout exists once), a PATCH
 * without a key is not retried, pagination over a list, problem documents as typed errors, and a webhook
 * delivered by the real worker verified with the client's helper.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKassa,
  KassaApiError,
  KassaConnectionError,
  KassaWebhookError,
  verifyWebhook,
} from '../../../packages/node/src/index.ts';
import { startWorkers } from '../../../src/workers/workers.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { authorizedPayment } from '../payments/payment-fixtures.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';

let t: TestApp;
let merchant: TestMerchant;
let receiver: WebhookReceiver;
let workers: { stop(): Promise<void> } | undefined;

beforeAll(async () => {
  t = await createTestApp({ listen: true });
  merchant = await t.createMerchant({ name: 'Client Shop' });
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await workers?.stop();
  await receiver.close();
  await t.close();
});

/** A fetch that records what the client sends, and can lose answers or fail before sending. */
function recordingFetch(plan: { loseAnswers?: number; failBeforeSending?: number } = {}) {
  const sent: { method: string; path: string; idempotencyKey: string | null; status?: number }[] = [];
  let lose = plan.loseAnswers ?? 0;
  let fail = plan.failBeforeSending ?? 0;
  const fetchImpl: typeof fetch = async (input, init) => {
    const request = new Request(input as Request, init);
    const record = {
      method: request.method,
      path: new URL(request.url).pathname + new URL(request.url).search,
      idempotencyKey: request.headers.get('idempotency-key'),
    };
    sent.push(record);
    if (fail > 0) {
      fail -= 1;
      throw new TypeError('fetch failed (connection refused)');
    }
    const response = await fetch(request);
    Object.assign(record, { status: response.status });
    if (lose > 0) {
      // The gateway did the work; the answer never arrives.
      lose -= 1;
      await response.body?.cancel();
      throw new TypeError('fetch failed (connection reset)');
    }
    return response;
  };
  return { fetch: fetchImpl, sent };
}

const order = (merchantOrderId: string) => checkoutRequest(simpleOrder('EUR', 'DE', 1500, merchantOrderId));

describe('the Node client against a running gateway', () => {
  it('sends an Idempotency-Key with every POST and retries a lost answer with the same key: one checkout', async () => {
    const transport = recordingFetch({ loseAnswers: 1 });
    const kassa = createKassa({
      apiKey: merchant.apiKey,
      baseUrl: t.baseUrl,
      retryDelayMs: 5,
      fetch: transport.fetch,
    });
    const checkout = await kassa.post('/v1/checkouts', { body: order('retried-1') as never });
    expect(checkout.status).toBe('OPEN');
    expect(transport.sent).toHaveLength(2);
    const [first, second] = transport.sent;
    expect(first!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(second!.idempotencyKey).toBe(first!.idempotencyKey);
    expect(first!.status).toBe(201);
    const { rows } = await t.database.db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM orders WHERE merchant_id = $1 AND merchant_order_id = 'retried-1'`,
      [merchant.merchantId],
    );
    expect(rows[0]!.count).toBe(1);
  });

  it('does not retry a PATCH, which has no key to make a repeat safe', async () => {
    const transport = recordingFetch({ failBeforeSending: 1 });
    const kassa = createKassa({ apiKey: merchant.apiKey, baseUrl: t.baseUrl, fetch: transport.fetch });
    await expect(kassa.patch('/v1/merchant', { body: { name: 'Renamed' } as never })).rejects.toBeInstanceOf(
      KassaConnectionError,
    );
    expect(transport.sent).toHaveLength(1);
    // A GET is safe to repeat: the same failure is retried and answered.
    const again = recordingFetch({ failBeforeSending: 1 });
    const reader = createKassa({
      apiKey: merchant.apiKey,
      baseUrl: t.baseUrl,
      retryDelayMs: 5,
      fetch: again.fetch,
    });
    expect(await reader.get('/v1/merchant')).toMatchObject({ id: merchant.merchantId });
    expect(again.sent).toHaveLength(2);
  });

  it('pages through a list with an async iterator, newest first, fetching pages as it goes', async () => {
    const shop = await t.createMerchant({ name: 'Paged Shop' });
    const writer = createKassa({ apiKey: shop.apiKey, baseUrl: t.baseUrl });
    const created: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      // Typed from the document: no cast, a wrong field fails `npm run typecheck`.
      const checkout = await writer.post('/v1/checkouts', {
        body: {
          completed_redirect_url: 'https://shop.example/done',
          canceled_redirect_url: 'https://shop.example/cancel',
          order: {
            merchant_order_id: `paged-${index}`,
            currency: 'EUR',
            country_code: 'DE',
            subtotal_amount: 1500,
            total_amount: 1500,
            products: [{ id: 'sku-1', name: 'Tea', quantity: 1, unit_price: 1500 }],
          },
        },
      });
      created.push(checkout.checkout_id);
    }
    const transport = recordingFetch();
    const kassa = createKassa({ apiKey: shop.apiKey, baseUrl: t.baseUrl, fetch: transport.fetch });
    const seen: string[] = [];
    for await (const checkout of kassa.paginate('/v1/checkouts', { params: { query: { limit: 2 } } })) {
      seen.push(checkout.checkout_id);
    }
    expect(seen).toEqual([...created].reverse());
    expect(transport.sent.map((request) => request.path)).toEqual([
      '/v1/checkouts?limit=2',
      `/v1/checkouts?limit=2&starting_after=${created[3]}`,
      `/v1/checkouts?limit=2&starting_after=${created[1]}`,
    ]);
    // Breaking out of the loop fetches nothing more.
    const early = recordingFetch();
    const lazy = createKassa({ apiKey: shop.apiKey, baseUrl: t.baseUrl, fetch: early.fetch });
    for await (const checkout of lazy.paginate('/v1/checkouts', { params: { query: { limit: 2 } } })) {
      expect(checkout.checkout_id).toBe(created[4]);
      break;
    }
    expect(early.sent).toHaveLength(1);
    // Given ending_before, it walks towards newer checkouts.
    const back = recordingFetch();
    const backwards = createKassa({ apiKey: shop.apiKey, baseUrl: t.baseUrl, fetch: back.fetch });
    const newer: string[] = [];
    for await (const checkout of backwards.paginate('/v1/checkouts', {
      params: { query: { limit: 2, ending_before: created[0] } },
    })) {
      newer.push(checkout.checkout_id);
    }
    expect(newer).toEqual([created[2], created[1], created[4], created[3]]);
    expect(back.sent.map((request) => request.path)).toEqual([
      `/v1/checkouts?limit=2&ending_before=${created[0]}`,
      `/v1/checkouts?limit=2&ending_before=${created[2]}`,
    ]);
  });

  it('throws problem documents as typed errors', async () => {
    const kassa = createKassa({ apiKey: merchant.apiKey, baseUrl: t.baseUrl });
    const missing = await kassa
      .get('/v1/checkouts/{id}', { params: { path: { id: 'chk_00000000000000000000000000000000' } } })
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(KassaApiError);
    expect(missing).toMatchObject({
      status: 404,
      code: 'not_found',
      requestId: expect.stringMatching(/^req_/),
    });

    const invalid = await kassa
      .post('/v1/checkouts', { body: { order: { currency: 'EUR' } } as never })
      .catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(KassaApiError);
    const error = invalid as KassaApiError;
    expect(error.status).toBe(422);
    expect(error.code).toBe('validation_failed');
    expect(error.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.fieldErrors.length).toBeGreaterThan(0);
    expect(error.fieldErrors.every((field) => field.pointer.startsWith('/'))).toBe(true);

    const unauthenticated = createKassa({ apiKey: 'sk_test_wrong', baseUrl: t.baseUrl });
    await expect(unauthenticated.get('/v1/merchant')).rejects.toMatchObject({ status: 401 });
  });

  it('verifies a webhook the gateway delivered, and refuses a tampered one', async () => {
    const kassa = createKassa({ apiKey: merchant.apiKey, baseUrl: t.baseUrl });
    const endpoint = await kassa.post('/v1/webhook-endpoints', {
      body: { url: `${receiver.url}/kassa`, enabled_events: ['checkout.created'] } as never,
    });
    const checkout = await kassa.post('/v1/checkouts', { body: order('hooked-1') as never });
    workers = startWorkers(t.services, t.app.log);
    await receiver.waitFor((received) => received.length >= 1);
    const webhook = receiver.received[0]!;

    const event = verifyWebhook(endpoint.secret, webhook.body, webhook.headers);
    expect(event.type).toBe('checkout.created');
    if (event.type === 'checkout.created') expect(event.data.checkout_id).toBe(checkout.checkout_id);
    expect(kassa.webhooks.verify(endpoint.secret, webhook.body, webhook.headers)).toEqual(event);

    const tampered = webhook.body.replace(checkout.checkout_id, 'chk_someoneelse');
    expect(() => verifyWebhook(endpoint.secret, tampered, webhook.headers)).toThrow(KassaWebhookError);
    const fetchHeaders = new Headers(webhook.headers as Record<string, string>);
    expect(() =>
      verifyWebhook('whsec_' + Buffer.alloc(32, 1).toString('base64'), webhook.body, fetchHeaders),
    ).toThrow(KassaWebhookError);
  });
  it('leaves out the body of an operation whose fields are all optional: no body, no content type', async () => {
    const sent: { path: string; contentType: string | null; body: string }[] = [];
    const fetchImpl: typeof fetch = async (input, init) => {
      const request = new Request(input as Request, init);
      const body = await request.clone().text();
      sent.push({
        path: new URL(request.url).pathname,
        contentType: request.headers.get('content-type'),
        body,
      });
      return fetch(request);
    };
    const kassa = createKassa({ apiKey: merchant.apiKey, baseUrl: t.baseUrl, fetch: fetchImpl });
    const payment = await authorizedPayment(t, merchant, { currency: 'EUR', amount: 1200 });

    // Without `body` (and, where the path has no parameter, without any options): this compiles only while
    // /openapi.json marks these request bodies optional — `npm run typecheck` checks this file.
    const capture = await kassa.post('/v1/payments/{id}/capture', { params: { path: { id: payment.id } } });
    expect(capture).toMatchObject({ amount: 1200, status: 'SUCCEEDED' });
    expect(capture.payment.captured_amount).toBe(1200);
    const rolled = await kassa.post('/v1/merchant/signing-secret/roll');
    expect(rolled.object).toBe('signing_secret');

    expect(sent.map(({ path, contentType, body }) => [path, contentType, body])).toEqual([
      [`/v1/payments/${payment.id}/capture`, null, ''],
      ['/v1/merchant/signing-secret/roll', null, ''],
    ]);
  });
});
