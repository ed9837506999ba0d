/**
 * OpenTelemetry span export (docs/operations.md#tracing): with `OTEL_EXPORTER_OTLP_ENDPOINT` set, Kassa sends
 * its spans over OTLP/HTTP (JSON) to a collector — here a real HTTP server on loopback that records what the
 * exporter posts. A request's server span and its processor calls share the caller's trace id, as does the
 * webhook the worker sends later for a request's event, and the `traceparent` each outgoing request carries names its own span.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../../src/connectors/stripe/index.ts';
import { startWorkers } from '../../../src/workers/workers.ts';
import { startFakeStripe, STRIPE_TEST_CARDS, type FakeStripe } from '../../fakes/stripe/fake-stripe.ts';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { cardMethod } from '../payments/payment-fixtures.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';

type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
};
type OtlpRequest = {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
};

/** An OTLP/HTTP collector on loopback: keeps every export request's path, content type and parsed body. */
async function startCollector() {
  const exports: { path: string; contentType: string; body: OtlpRequest }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      exports.push({
        path: req.url ?? '',
        contentType: String(req.headers['content-type']),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpRequest,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    spans: () =>
      exports.flatMap((e) => e.body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue;
};
const SERVER = 2;
const CLIENT = 3;

let collector: Awaited<ReturnType<typeof startCollector>>;
let t: TestApp;
let receiver: WebhookReceiver;
let stripe: FakeStripe;
let workers: { stop(): Promise<void> } | undefined;

beforeAll(async () => {
  collector = await startCollector();
  t = await createTestApp({
    env: {
      KASSA_ENV: 'development',
      KASSA_DEMO: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'kassa-under-test',
    },
  });
  receiver = await startWebhookReceiver();
  stripe = await startFakeStripe({
    apiVersion: STRIPE_API_VERSION,
    secretKey: `sk_live_${randomBytes(12).toString('hex')}`,
  });
});

afterAll(async () => {
  await workers?.stop();
  await t.services.tracer?.shutdown();
  await stripe.close();
  await receiver.close();
  await t.close();
  await collector.close();
});

describe('OTLP span export', () => {
  it('exports the request and processor spans of one trace, with the ids the headers carry', async () => {
    const merchant = await t.createMerchant({ livemode: true, name: 'Exported Shop' });
    const connected = await t.app.inject({
      method: 'POST',
      url: '/v1/processor-accounts',
      headers: merchant.headers,
      payload: {
        processor: 'stripe',
        credentials: { secret_key: stripe.secretKey },
        payment_methods: ['card'],
        api_base_url: stripe.url,
      },
    });
    expect(connected.statusCode, connected.body).toBe(201);
    const checkout = await t.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: merchant.headers,
      payload: checkoutRequest(simpleOrder('EUR', 'DE', 4200), { capture_mode: 'manual' }),
    });
    expect(checkout.statusCode, checkout.body).toBe(201);

    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const paid = await t.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: { ...merchant.headers, traceparent: `00-${traceId}-${callerSpan}-01` },
      payload: {
        checkout_id: checkout.json<{ checkout_id: string }>().checkout_id,
        payment_method: cardMethod(STRIPE_TEST_CARDS.visa),
      },
    });
    expect(paid.statusCode, paid.body).toBe(201);
    await t.services.tracer!.forceFlush();

    expect(collector.exports.length).toBeGreaterThan(0);
    expect(collector.exports.every((e) => e.path === '/v1/traces')).toBe(true);
    expect(collector.exports[0]!.contentType).toMatch(/^application\/json/);
    const service = collector.exports[0]!.body.resourceSpans[0]!.resource.attributes.find(
      (a) => a.key === 'service.name',
    );
    expect(service?.value.stringValue).toBe('kassa-under-test');

    const inTrace = collector.spans().filter((span) => span.traceId === traceId);
    const server = inTrace.find((span) => span.name === 'POST /v1/payments');
    expect(server, JSON.stringify(inTrace.map((s) => s.name))).toBeDefined();
    expect(server).toMatchObject({ kind: SERVER, parentSpanId: callerSpan });
    expect(attribute(server!, 'http.route')).toBe('/v1/payments');
    expect(Number(attribute(server!, 'http.response.status_code'))).toBe(201);
    expect(String(paid.headers.traceresponse)).toBe(`00-${traceId}-${server!.spanId}-01`);

    // Every call to Stripe: a client span under the request's, whose id the request's traceparent names.
    const processorCalls = inTrace.filter((span) => span.name === 'POST processor');
    expect(processorCalls.length).toBeGreaterThan(0);
    for (const call of processorCalls) {
      expect(call).toMatchObject({ kind: CLIENT, parentSpanId: server!.spanId });
      expect(attribute(call, 'server.address')).toBe('127.0.0.1');
    }
    const sentToStripe = stripe.requests.map((request) => request.headers.traceparent);
    expect(sentToStripe.sort()).toEqual(
      processorCalls.map((call) => `00-${traceId}-${call.spanId}-01`).sort(),
    );
  });

  it('exports the webhook the worker sends later in the trace of the request that caused its event', async () => {
    const merchant = await t.createMerchant({ name: 'Exported test shop' });
    const endpoint = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: merchant.headers,
      payload: { url: `${receiver.url}/hooks`, enabled_events: ['checkout.created'] },
    });
    expect(endpoint.statusCode, endpoint.body).toBe(201);
    const traceId = randomBytes(16).toString('hex');
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: { ...merchant.headers, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      payload: checkoutRequest(simpleOrder('EUR', 'DE', 4200)),
    });
    expect(created.statusCode, created.body).toBe(201);

    workers = startWorkers(t.services, t.app.log);
    await receiver.waitFor((received) => received.length >= 1);
    // The client span ends once the worker has read the answer, a moment after the receiver sent it.
    for (let waited = 0; waited < 5_000; waited += 50) {
      await t.services.tracer!.forceFlush();
      if (collector.spans().some((span) => span.traceId === traceId && span.name === 'POST webhook')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const inTrace = collector.spans().filter((span) => span.traceId === traceId);
    const server = inTrace.find((span) => span.name === 'POST /v1/checkouts');
    const webhook = inTrace.find((span) => span.name === 'POST webhook');
    expect(webhook, JSON.stringify(inTrace.map((s) => s.name))).toMatchObject({
      kind: CLIENT,
      parentSpanId: server!.spanId,
    });
    expect(Number(attribute(webhook!, 'http.response.status_code'))).toBe(200);
    expect(receiver.received[0]!.headers.traceparent).toBe(`00-${traceId}-${webhook!.spanId}-01`);
  });

  it('keeps a caller’s decision not to sample: nothing of its trace is exported, the flags travel on', async () => {
    const traceId = randomBytes(16).toString('hex');
    const response = await t.app.inject({
      url: '/healthz',
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-00` },
    });
    expect(String(response.headers.traceresponse)).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    await t.services.tracer!.forceFlush();
    expect(collector.spans().filter((span) => span.traceId === traceId)).toEqual([]);
    // A request without a traceparent starts a sampled trace of its own, and is exported.
    const fresh = await t.app.inject({ url: '/healthz' });
    const freshTrace = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(String(fresh.headers.traceresponse))![1];
    await t.services.tracer!.forceFlush();
    expect(collector.spans().filter((span) => span.traceId === freshTrace)).toMatchObject([
      { name: 'GET /healthz', kind: SERVER },
    ]);
  });
});
