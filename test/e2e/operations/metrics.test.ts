/**
 * `/metrics` (docs/operations.md#monitoring): scraped before and after real traffic — a checkout paid by card
 * through the hosted page and the sandbox acquirer, a `verify_order` callback and a webhook delivered by the
 * real outbox worker to receivers on 127.0.0.1, an idempotency conflict — and the series must exist and move.
 * Also who may scrape: the bearer token on the main port (401 otherwise), the separate listener, and 404 when
 * neither is configured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsListener } from '../../../src/metrics/index.ts';
import { startWorkers } from '../../../src/workers/workers.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { CARDS, cardForm, csrfOf, getPage, postForm } from '../hosted-page/hosted-fixtures.ts';
import {
  FAST_CALLBACK_ENV,
  createCallbackCheckout,
  paymentsOfCheckout,
  startCallbackReceiver,
  type CallbackReceiver,
} from '../callbacks/callback-fixtures.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';

const TOKEN = 'metrics-token-0123456789abcdef';

let t: TestApp;
let merchant: TestMerchant;
let callbacks: CallbackReceiver;
let webhooks: WebhookReceiver;
let workers: { stop(): Promise<void> };

beforeAll(async () => {
  t = await createTestApp({
    env: { ...FAST_CALLBACK_ENV, KASSA_METRICS_TOKEN: TOKEN, KASSA_WEBHOOK_RETRY_SCHEDULE: '0.2,0.4' },
  });
  merchant = await t.createMerchant({ name: 'Metered Shop' });
  callbacks = await startCallbackReceiver();
  webhooks = await startWebhookReceiver(() => ({ status: 200, body: 'ok' }));
  workers = startWorkers(t.services, t.app.log);
});

afterAll(async () => {
  await workers.stop();
  await webhooks.close();
  await callbacks.close();
  await t.close();
});

type Samples = Map<string, number>;

/** Exposition text → `name{label="value",…}` (labels sorted) → value. */
function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparseable metrics line: ${line}`);
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, name, value]) => `${name}="${value}"`)
      .sort()
      .join(',');
    samples.set(labels ? `${match[1]}{${labels}}` : match[1]!, Number(match[3]));
  }
  return samples;
}

async function scrape(): Promise<Samples> {
  const response = await t.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(response.body);
}

const value = (samples: Samples, key: string) => samples.get(key) ?? 0;

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await probe();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('/metrics', () => {
  it('exposes the named series, and they move when traffic flows', async () => {
    const before = await scrape();
    // Present before any traffic: the process, event loop and database gauges.
    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'kassa_db_pool_waiting_requests',
      'kassa_webhook_backlog_deliveries',
      'kassa_webhook_backlog_oldest_seconds',
      'kassa_outbox_pending_events',
      'kassa_webhook_endpoints_disabled',
    ]) {
      expect(before.has(name), name).toBe(true);
    }
    expect(before.has('kassa_db_pool_connections{state="total"}')).toBe(true);
    expect(value(before, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    // A webhook endpoint on a loopback receiver, then one disabled endpoint.
    const endpoint = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: merchant.headers,
      payload: { url: `${webhooks.url}/hooks`, enabled_events: ['payment.succeeded'] },
    });
    expect(endpoint.statusCode).toBe(201);
    const spare = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: merchant.headers,
      payload: { url: `${webhooks.url}/spare`, enabled_events: ['refund.succeeded'] },
    });
    const disabled = await t.app.inject({
      method: 'PATCH',
      url: `/v1/webhook-endpoints/${spare.json<{ id: string }>().id}`,
      headers: merchant.headers,
      payload: { status: 'DISABLED' },
    });
    expect(disabled.statusCode).toBe(200);

    // A checkout paid by card on the hosted page, with a verify_order callback.
    callbacks.on('/verify', { status: 200, body: 'OKAY' });
    const checkout = await createCallbackCheckout(t, merchant, { verify_order: `${callbacks.url}/verify` });
    const page = await getPage(t, checkout.path);
    const paid = await postForm(t, checkout.path, cardForm(csrfOf(page.html), CARDS.approved));
    expect(paid.status).toBe(303);
    expect(await paymentsOfCheckout(t, checkout.checkoutId)).toMatchObject([{ status: 'SUCCEEDED' }]);

    // An idempotency conflict: the same key with another body.
    const first = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: { ...merchant.headers, 'idempotency-key': 'metrics-conflict' },
      payload: { url: `${webhooks.url}/a`, enabled_events: ['refund.succeeded'] },
    });
    expect(first.statusCode).toBe(201);
    const conflict = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: { ...merchant.headers, 'idempotency-key': 'metrics-conflict' },
      payload: { url: `${webhooks.url}/b`, enabled_events: ['refund.succeeded'] },
    });
    expect(expectProblem(conflict).code).toBe('idempotency_key_reused');

    // The worker delivers payment.succeeded to the receiver; the counter moves once the result is recorded.
    const after = await waitFor(async () => {
      const samples = await scrape();
      return value(samples, 'kassa_webhook_deliveries_total{result="succeeded"}') >= 1 ? samples : undefined;
    });
    expect(webhooks.received.filter((r) => r.path === '/hooks').length).toBeGreaterThanOrEqual(1);

    const moved = (key: string) => value(after, key) - value(before, key);
    expect(moved('kassa_webhook_deliveries_total{result="succeeded"}')).toBeGreaterThanOrEqual(1);
    expect(moved('kassa_callback_results_total{kind="verify_order",result="accepted"}')).toBe(1);
    expect(moved('kassa_idempotency_conflicts_total{code="idempotency_key_reused"}')).toBe(1);
    expect(value(after, 'kassa_webhook_endpoints_disabled')).toBe(1);
    // The card payment: one sale (automatic capture) at the sandbox, answered "captured".
    const processorCalls = [...after.entries()].filter(
      ([key, count]) =>
        key.startsWith('kassa_processor_call_duration_seconds_count{') &&
        key.includes('processor="sandbox"') &&
        count > 0,
    );
    expect(processorCalls.map(([key]) => key)).toContainEqual(
      expect.stringMatching(
        /operation="(sale|authorize)",processor="sandbox",result="(captured|authorized)"/,
      ),
    );
    expect(
      after.get(
        'kassa_processor_call_duration_seconds_sum{operation="sale",processor="sandbox",result="captured"}',
      ) ??
        after.get(
          'kassa_processor_call_duration_seconds_sum{operation="authorize",processor="sandbox",result="authorized"}',
        ),
    ).toBeGreaterThan(0);

    // Requests by route template and status — never the raw URL, whose last segment is a signature.
    expect(
      moved('kassa_http_request_duration_seconds_count{method="POST",route="/v1/checkouts",status="201"}'),
    ).toBe(1);
    const payRoutes = [...after.keys()].filter(
      (key) => key.startsWith('kassa_http_request_duration_seconds_count{') && key.includes('/pay/'),
    );
    expect(payRoutes.length).toBeGreaterThan(0);
    for (const key of payRoutes) expect(key).toMatch(/route="\/pay\/:[A-Za-z]+\/:[A-Za-z]+/);
    const signature = checkout.path.split('/').pop()!;
    expect([...after.keys()].some((key) => key.includes(signature))).toBe(false);
    expect(value(after, 'kassa_db_pool_connections{state="total"}')).toBeGreaterThan(0);
  });

  it('reports the backlog of due deliveries and how old the oldest is', async () => {
    // A delivery made pending again, due 90 s ago, under a lease held by the test so the running worker
    // does not take it before the scrape.
    await t.services.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        `SELECT id FROM webhook_deliveries ORDER BY created_at LIMIT 1`,
      );
      expect(rows).toHaveLength(1);
      await tx.query(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now() - interval '90 seconds',
           lease_until = now() + interval '1 hour', lease_token = 'held-by-test' WHERE id = $1`,
        [rows[0]!.id],
      );
    });
    const samples = await scrape();
    expect(value(samples, 'kassa_webhook_backlog_deliveries')).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'kassa_webhook_backlog_oldest_seconds')).toBeGreaterThanOrEqual(89);
    await t.services.db.query(
      `UPDATE webhook_deliveries SET status = 'canceled' WHERE lease_token = 'held-by-test'`,
    );
    const cleared = await scrape();
    expect(value(cleared, 'kassa_webhook_backlog_oldest_seconds')).toBeLessThan(89);
  });

  it('refuses a scrape without the token, or with another one, with a 401 problem document', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token-0123456789abcdef' },
      { authorization: TOKEN },
    ]) {
      const response = await t.app.inject({ method: 'GET', url: '/metrics', headers });
      expect(response.statusCode).toBe(401);
      expect(expectProblem(response).code).toBe('authentication_required');
      expect(response.body).not.toContain('kassa_');
    }
  });

  it('serves a separate listener (KASSA_METRICS_PORT) that asks for the token when one is set', async () => {
    const listener = await startMetricsListener({
      metrics: t.services.metrics,
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
    });
    try {
      const url = `http://127.0.0.1:${listener.port}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('kassa_http_request_duration_seconds_bucket');
      expect((await fetch(`http://127.0.0.1:${listener.port}/other`)).status).toBe(404);
    } finally {
      await listener.close();
    }
  });
});

describe('without KASSA_METRICS_TOKEN', () => {
  it('answers 404 on the main port', async () => {
    const plain = await createTestApp();
    try {
      const response = await plain.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.statusCode).toBe(404);
      expectProblem(response);
    } finally {
      await plain.close();
    }
  });
});
