import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { TestApp, TestMerchant } from '../../fixtures/test-app.ts';

/**
 * A merchant's callback server on 127.0.0.1 (node:http): records every request (method, path, headers, raw
 * body) and answers per path with what the test sets. Signatures are checked with the reference
 * `standardwebhooks` library, never with Kassa's code.
 */

export type ReceivedCallback = {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  form: URLSearchParams;
};

export type CallbackReply = {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Answer after this many ms (a slow merchant). */
  delayMs?: number;
  /** Never answer (the socket stays open until the server closes). */
  hang?: boolean;
};

export type CallbackReceiver = {
  url: string;
  received: ReceivedCallback[];
  /** Sets the answer for a path (without query); unknown paths answer 404. */
  on(
    path: string,
    reply: CallbackReply | ((request: ReceivedCallback, index: number) => CallbackReply),
  ): void;
  receivedAt(path: string): ReceivedCallback[];
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
};

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const routes = new Map<string, (request: ReceivedCallback, index: number) => CallbackReply>();
  const received: ReceivedCallback[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      const request: ReceivedCallback = {
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        body,
        form: new URLSearchParams(body),
      };
      received.push(request);
      const seen = received.filter((r) => r.path === path).length - 1;
      const reply = routes.get(path)?.(request, seen) ?? { status: 404, body: 'not found' };
      if (reply.hang) return;
      const send = () => {
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    on(path, reply) {
      routes.set(path, typeof reply === 'function' ? reply : () => reply);
    },
    receivedAt: (path) => received.filter((r) => r.path === path),
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`receiver: condition not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Short callback timeouts, so timeout tests take a second, not half a minute. */
/**
 * The receivers stand in for a merchant's public server, so the operator allow-list vouches for their address:
 * outside production Kassa reaches loopback but never shows what a target production would refuse answered
 * (docs/callbacks.md; test/e2e/security/callback-disclosure.test.ts tests that refusal).
 */
export const RECEIVER_ALLOW_LIST_ENV = { KASSA_EGRESS_ALLOW_LIST: '127.0.0.1' };

export const FAST_CALLBACK_ENV = {
  KASSA_CALLBACK_CONNECT_TIMEOUT_MS: '500',
  KASSA_CALLBACK_RESPONSE_TIMEOUT_MS: '1000',
  ...RECEIVER_ALLOW_LIST_ENV,
};

/** The merchant's callback signing key as a Standard Webhooks secret (docs/callbacks.md). */
export async function callbackSecret(t: TestApp, merchant: TestMerchant): Promise<string> {
  const response = await t.app.inject({
    method: 'GET',
    url: '/v1/merchant/signing-secret',
    headers: merchant.headers,
  });
  if (response.statusCode !== 200) throw new Error(`signing secret: ${response.statusCode}`);
  const { secret } = response.json() as { secret: string };
  return `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;
}

/** Throws unless the reference library accepts the request's signature. */
export function verifyCallback(secret: string, request: ReceivedCallback): void {
  new Webhook(secret).verify(
    request.body,
    {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    },
    { jsonParse: false },
  );
}

export type CallbackCheckout = { checkoutId: string; orderId: string; url: string; path: string };

export async function createCallbackCheckout(
  t: TestApp,
  merchant: TestMerchant,
  callbacks: Record<string, string | null>,
  options: {
    amount?: number;
    currency?: string;
    country?: string;
    capture?: 'automatic' | 'manual';
    merchantOrderId?: string;
    metadata?: Record<string, unknown>;
  } = {},
): Promise<CallbackCheckout> {
  const amount = options.amount ?? 2500;
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/checkouts',
    headers: merchant.headers,
    payload: {
      completed_redirect_url: 'https://shop.example/complete',
      canceled_redirect_url: 'https://shop.example/cancel',
      locale: 'EN',
      capture_mode: options.capture ?? 'automatic',
      callbacks,
      metadata: options.metadata ?? {},
      order: {
        merchant_order_id: options.merchantOrderId ?? 'ORDER-CB-1',
        currency: options.currency ?? 'USD',
        country_code: options.country ?? 'US',
        subtotal_amount: amount,
        total_amount: amount,
        products: [{ id: 'sku-1', name: 'Trail shoes', quantity: 1, unit_price: amount }],
        customer: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' },
      },
    },
  });
  if (response.statusCode !== 201)
    throw new Error(`create checkout: ${response.statusCode} ${response.body}`);
  const json = response.json() as {
    checkout_id: string;
    checkout_redirect_url: string;
    order: { order_id: string };
  };
  return {
    checkoutId: json.checkout_id,
    orderId: json.order.order_id,
    url: json.checkout_redirect_url,
    path: new URL(json.checkout_redirect_url).pathname,
  };
}

export async function paymentsOfCheckout(t: TestApp, checkoutId: string) {
  const { rows } = await t.services.db.query<{
    id: string;
    status: string;
    decline_code: string | null;
    failure_message: string | null;
  }>(
    'SELECT id, status, decline_code, failure_message FROM payments WHERE checkout_id = $1 ORDER BY created_at, id',
    [checkoutId],
  );
  return rows;
}

export async function callbackAttemptsOf(t: TestApp, orderId: string) {
  const { rows } = await t.services.db.query<{
    kind: string;
    result: string;
    status_code: number | null;
    error: string | null;
    url: string;
    webhook_id: string;
    attempt_number: number;
    response_excerpt: string | null;
  }>('SELECT * FROM callback_attempts WHERE order_id = $1 ORDER BY created_at, id', [orderId]);
  return rows;
}
