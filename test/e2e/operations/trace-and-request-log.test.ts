/**
 * Trace context and request log lines (docs/operations.md#logs): an incoming W3C `traceparent` names the
 * request in its log line and travels on to the merchant's callback server; the request line names the
 * merchant, credential and mode; in development request lines are at debug level.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { CARDS, cardForm, csrfOf, formBody, getPage } from '../hosted-page/hosted-fixtures.ts';
import {
  FAST_CALLBACK_ENV,
  createCallbackCheckout,
  startCallbackReceiver,
  type CallbackReceiver,
} from '../callbacks/callback-fixtures.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

let t: TestApp;
let merchant: TestMerchant;
let receiver: CallbackReceiver;

beforeAll(async () => {
  t = await createTestApp({ env: FAST_CALLBACK_ENV });
  merchant = await t.createMerchant({ name: 'Traced Shop' });
  receiver = await startCallbackReceiver();
});

afterAll(async () => {
  await receiver.close();
  await t.close();
});

type LogLine = Record<string, unknown> & { msg: string };
const requestLines = (app: TestApp) =>
  app.logs
    .flatMap((chunk) => chunk.split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.msg === 'request completed');

describe('request log line', () => {
  it('names the trace, merchant, credential and mode of an authenticated request', async () => {
    const response = await t.app.inject({
      url: '/v1/merchant',
      headers: { ...merchant.headers, traceparent: TRACEPARENT },
    });
    expect(response.statusCode).toBe(200);
    expect(String(response.headers.traceresponse)).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    const line = requestLines(t).find((l) => l.reqId === response.headers['x-request-id'])!;
    const { rows } = await t.services.db.query<{ id: string }>(
      'SELECT id FROM api_keys WHERE merchant_id = $1',
      [merchant.merchantId],
    );
    expect(line).toMatchObject({
      level: 30,
      trace_id: TRACE_ID,
      merchant_id: merchant.merchantId,
      credential_kind: 'api_key',
      credential_id: rows[0]!.id,
      livemode: false,
      route: '/v1/merchant',
      res: { statusCode: 200 },
      req: { method: 'GET', url: '/v1/merchant' },
    });
    expect(JSON.stringify(line)).not.toContain(merchant.apiKey);
  });

  it('starts a new trace for a missing or malformed traceparent, and names no merchant when anonymous', async () => {
    const response = await t.app.inject({ url: '/healthz', headers: { traceparent: '00-not-a-trace-01' } });
    const line = requestLines(t).find((l) => l.reqId === response.headers['x-request-id'])!;
    expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(line.trace_id).not.toBe(TRACE_ID);
    expect(line).not.toHaveProperty('merchant_id');
  });

  it('masks the signature of a hosted-page URL (the route template is logged instead)', async () => {
    const checkout = await createCallbackCheckout(t, merchant, {});
    const response = await t.app.inject({ url: checkout.path });
    const line = requestLines(t).find((l) => l.reqId === response.headers['x-request-id'])!;
    const signature = checkout.path.split('/').pop()!;
    expect(JSON.stringify(line)).not.toContain(signature);
    expect(line.route).toMatch(/^\/pay\/:/);
  });
});

describe('outgoing requests', () => {
  it('carry the trace of the request that made them (a verify_order callback during a payment)', async () => {
    receiver.on('/verify', { status: 200, body: 'OKAY' });
    const checkout = await createCallbackCheckout(t, merchant, { verify_order: `${receiver.url}/verify` });
    const page = await getPage(t, checkout.path);
    const paid = await t.app.inject({
      method: 'POST',
      url: checkout.path,
      headers: { 'content-type': 'application/x-www-form-urlencoded', traceparent: TRACEPARENT },
      payload: formBody(cardForm(csrfOf(page.html), CARDS.approved)),
    });
    expect(paid.statusCode).toBe(303);
    const [callback] = receiver.receivedAt('/verify');
    expect(callback!.headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    // The span id sent on is Kassa's own for this request, not the caller's.
    expect(callback!.headers.traceparent).not.toBe(TRACEPARENT);
  });
});

describe('in development', () => {
  it('writes request lines at debug level, so they stay out of the default (info) output', async () => {
    const dev = await createTestApp({ env: { KASSA_ENV: 'development', KASSA_DEMO: 'false' } });
    try {
      await dev.app.inject({ url: '/healthz' });
      expect(requestLines(dev)).toEqual([]);
    } finally {
      await dev.close();
    }
    const verbose = await createTestApp({
      env: { KASSA_ENV: 'development', KASSA_DEMO: 'false', KASSA_LOG_LEVEL: 'debug' },
    });
    try {
      await verbose.app.inject({ url: '/healthz' });
      expect(requestLines(verbose)).toMatchObject([{ level: 20, route: '/healthz' }]);
    } finally {
      await verbose.close();
    }
  });
});
