/**
 * The hosted page's outcome with callbacks (the callbacks flow): the result is POSTed, form-encoded and signed, to
 * `ok` / `fail` / `open`; the merchant's HTML is served sanitised under a sandboxing CSP, a 30x redirects the
 * shopper, and no usable answer shows Kassa's error page with the order number and payment id (HTTP 502).
 * Real app, real database, a real receiver on 127.0.0.1; timeouts shortened through configuration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  CARDS,
  cardForm,
  csrfOf,
  decideOnSandboxPage,
  getPage,
  localPath,
  postForm,
} from '../hosted-page/hosted-fixtures.ts';
import {
  FAST_CALLBACK_ENV,
  callbackAttemptsOf,
  callbackSecret,
  createCallbackCheckout,
  paymentsOfCheckout,
  startCallbackReceiver,
  verifyCallback,
  type CallbackReceiver,
} from './callback-fixtures.ts';

let t: TestApp;
let receiver: CallbackReceiver;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ env: FAST_CALLBACK_ENV });
  receiver = await startCallbackReceiver();
  merchant = await t.createMerchant({ name: 'Callback Shop' });
});

afterAll(async () => {
  await receiver.close();
  await t.close();
});

const html = (body: string) => ({
  status: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body,
});

async function pay(path: string, card: string = CARDS.approved) {
  const page = await getPage(t, path);
  expect(page.status).toBe(200);
  return postForm(t, path, cardForm(csrfOf(page.html), card));
}

describe('ok', () => {
  it('posts the result form-encoded and signed like a webhook, and serves the sanitised answer', async () => {
    receiver.on(
      '/ok-basic',
      html(`<!doctype html><html><head><title>Thank you</title><script>alert(1)</script></head>
        <body onload="alert(2)"><h1>Thank you for your order</h1><img src="/logo.png" onerror="alert(3)">
        <a href="javascript:alert(4)">x</a><a href="receipt?id=7">Receipt</a></body></html>`),
    );
    const checkout = await createCallbackCheckout(
      t,
      merchant,
      { ok: `${receiver.url}/ok-basic?shop=1` },
      { merchantOrderId: 'ORDER-OK-1', metadata: { cart: 'c-77', gift: true } },
    );
    const response = await pay(checkout.path);

    expect(response.status).toBe(200);
    expect(response.html).toContain('Thank you for your order');
    expect(response.html).not.toMatch(/<script|onload|onerror|javascript:/i);
    // Relative links become the merchant's absolute URLs; http images come through the signed proxy.
    expect(response.html).toContain(`href="${receiver.url}/receipt?id=7"`);
    expect(response.html).toMatch(
      /<img src="\/callback-proxy\/[A-Za-z0-9_-]{43}\?url=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Flogo\.png"/,
    );
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain('sandbox allow-forms');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).not.toContain('allow-scripts');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');

    const [request] = receiver.receivedAt('/ok-basic');
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const secret = await callbackSecret(t, merchant);
    expect(() => verifyCallback(secret, request!)).not.toThrow();
    // The same key as the return-URL signing secret, taken raw.
    const raw = (
      await t.app.inject({ method: 'GET', url: '/v1/merchant/signing-secret', headers: merchant.headers })
    ).json() as { secret: string };
    expect(() =>
      new Webhook(raw.secret, { format: 'raw' }).verify(
        request!.body,
        {
          'webhook-id': String(request!.headers['webhook-id']),
          'webhook-timestamp': String(request!.headers['webhook-timestamp']),
          'webhook-signature': String(request!.headers['webhook-signature']),
        },
        { jsonParse: false },
      ),
    ).not.toThrow();
    // A tampered body fails the same check.
    expect(() => verifyCallback(secret, { ...request!, body: request!.body.replace('2500', '1') })).toThrow();

    const [payment] = await paymentsOfCheckout(t, checkout.checkoutId);
    const form = request!.form;
    expect(request!.headers['webhook-id']).toBe(`${payment!.id}_ok`);
    expect(Object.fromEntries(form)).toMatchObject({
      callback: 'ok',
      livemode: 'false',
      checkout_id: checkout.checkoutId,
      order_id: checkout.orderId,
      merchant_order_id: 'ORDER-OK-1',
      payment_id: payment!.id,
      status: 'SUCCEEDED',
      order_status: 'PAID',
      amount: '2500',
      currency: 'USD',
      method: 'card',
      card_brand: 'visa',
      card_last4: '4242',
      'metadata[cart]': 'c-77',
      'metadata[gift]': 'true',
    });
    expect(new Date(form.get('timestamp')!).toISOString()).toBe(form.get('timestamp'));
    // No card number or CVC ever goes to a merchant host.
    expect(request!.body).not.toContain(CARDS.approved);
    expect(request!.body).not.toMatch(/cvc/i);

    const attempts = await callbackAttemptsOf(t, checkout.orderId);
    expect(attempts).toMatchObject([{ kind: 'ok', result: 'html', status_code: 200, error: null }]);
  });

  it('answers a 30x with a 303 to its Location (resolved against the callback URL), without following it', async () => {
    receiver.on('/ok-redirect', { status: 302, headers: { location: '/thanks?order=9' } });
    receiver.on('/thanks', html('<p>never fetched by Kassa</p>'));
    const checkout = await createCallbackCheckout(t, merchant, { ok: `${receiver.url}/ok-redirect` });
    const response = await pay(checkout.path);
    expect(response.status).toBe(303);
    expect(response.location).toBe(`${receiver.url}/thanks?order=9`);
    expect(receiver.receivedAt('/thanks')).toHaveLength(0);
    expect(await callbackAttemptsOf(t, checkout.orderId)).toMatchObject([
      { kind: 'ok', result: 'redirect', status_code: 302 },
    ]);
  });

  it('refuses a redirect to a non-http(s) Location: error page', async () => {
    receiver.on('/ok-bad-redirect', { status: 302, headers: { location: 'javascript:alert(1)' } });
    const checkout = await createCallbackCheckout(t, merchant, { ok: `${receiver.url}/ok-bad-redirect` });
    const response = await pay(checkout.path);
    expect(response.status).toBe(502);
    expect(response.location).toBeUndefined();
  });

  it('a redirect to an origin the payment form may not post to gets a page with a link instead of a blocked 303', async () => {
    receiver.on('/ok-elsewhere', { status: 303, headers: { location: 'https://receipts.example/r/1' } });
    const checkout = await createCallbackCheckout(t, merchant, { ok: `${receiver.url}/ok-elsewhere` });
    const response = await pay(checkout.path);
    expect(response.status).toBe(200);
    expect(response.html).toContain('href="https://receipts.example/r/1"');
  });

  it("uses the merchant's default callbacks when the checkout names none", async () => {
    const shop = await t.createMerchant({ name: 'Defaults Shop' });
    const patched = await t.app.inject({
      method: 'PATCH',
      url: '/v1/merchant',
      headers: shop.headers,
      payload: { default_callbacks: { ok: `${receiver.url}/ok-default` } },
    });
    expect(patched.statusCode).toBe(200);
    receiver.on('/ok-default', html('<p>Default receipt</p>'));
    const checkout = await createCallbackCheckout(t, shop, {});
    const response = await pay(checkout.path);
    expect(response.status).toBe(200);
    expect(response.html).toContain('Default receipt');
    expect(receiver.receivedAt('/ok-default')).toHaveLength(1);
  });
});

describe('no usable answer', () => {
  async function expectErrorPage(
    path: string,
    reply: Parameters<CallbackReceiver['on']>[1],
    expectedError: RegExp,
  ) {
    receiver.on(path, reply);
    const checkout = await createCallbackCheckout(
      t,
      merchant,
      { ok: `${receiver.url}${path}` },
      { merchantOrderId: `ORDER${path.replaceAll('/', '-')}` },
    );
    const started = performance.now();
    const response = await pay(checkout.path);
    const elapsed = performance.now() - started;
    const [payment] = await paymentsOfCheckout(t, checkout.checkoutId);
    expect(response.status).toBe(502);
    expect(response.html).toContain(`ORDER${path.replaceAll('/', '-')}`);
    expect(response.html).toContain(payment!.id);
    // The payment itself stands.
    expect(payment!.status).toBe('SUCCEEDED');
    const [attempt] = await callbackAttemptsOf(t, checkout.orderId);
    expect(attempt).toMatchObject({ kind: 'ok', result: 'error' });
    expect(attempt!.error).toMatch(expectedError);
    return elapsed;
  }

  it('a 5xx answer', async () => {
    await expectErrorPage('/ok-500', { status: 500, body: 'boom' }, /^HTTP 500$/);
  });

  it('a 4xx answer', async () => {
    await expectErrorPage(
      '/ok-404',
      { status: 404, headers: { 'content-type': 'text/html' }, body: '<h1>Not found</h1>' },
      /^HTTP 404$/,
    );
  });

  it('no answer in time (the configured response timeout, 28 s in production)', async () => {
    const elapsed = await expectErrorPage('/ok-hang', { status: 200, hang: true }, /^response_timeout/);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('no connection (nothing listens on the port)', async () => {
    const closed = await startCallbackReceiver();
    const url = `${closed.url}/ok`;
    await closed.close();
    const checkout = await createCallbackCheckout(
      t,
      merchant,
      { ok: url },
      { merchantOrderId: 'ORDER-REFUSED' },
    );
    const response = await pay(checkout.path);
    expect(response.status).toBe(502);
    expect(response.html).toContain('ORDER-REFUSED');
    const [attempt] = await callbackAttemptsOf(t, checkout.orderId);
    expect(attempt).toMatchObject({ kind: 'ok', result: 'error', status_code: null });
    expect(attempt!.error).toMatch(/^(connection_failed|connect_timeout)/);
  });

  it('a 2xx that is not HTML', async () => {
    await expectErrorPage(
      '/ok-json',
      { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' },
      /content type "application\/json"/,
    );
  });
});

describe('fail and open', () => {
  it('a declined card posts to fail and shows its page; the session stays open for another try', async () => {
    receiver.on('/fail', html('<p>Sorry, the payment failed. <a href="/retry">Try again</a></p>'));
    const checkout = await createCallbackCheckout(t, merchant, {
      ok: `${receiver.url}/ok-unused`,
      fail: `${receiver.url}/fail`,
    });
    const response = await pay(checkout.path, CARDS.declined);
    expect(response.status).toBe(200);
    expect(response.html).toContain('Sorry, the payment failed.');
    expect(response.html).toContain(`href="${receiver.url}/retry"`);
    const [request] = receiver.receivedAt('/fail');
    expect(request!.form.get('callback')).toBe('fail');
    expect(request!.form.get('status')).toBe('REJECTED');
    expect(request!.form.get('decline_code')).toBe('card_declined');
    expect(receiver.receivedAt('/ok-unused')).toHaveLength(0);
    // Still payable: the page shows the form again.
    const again = await getPage(t, checkout.path);
    expect(again.status).toBe(200);
    expect(again.html).toContain('name="card_number"');
  });

  it('without a fail callback a decline re-renders the payment page, as without callbacks', async () => {
    const before = receiver.received.length;
    const checkout = await createCallbackCheckout(t, merchant, { ok: `${receiver.url}/ok-unused-2` });
    const response = await pay(checkout.path, CARDS.declined);
    expect(response.status).toBe(402);
    expect(response.html).toContain('name="card_number"');
    expect(receiver.received.length).toBe(before);
  });

  it('a pending payment posts to open', async () => {
    receiver.on('/open', html('<p>We will let you know.</p>'));
    const checkout = await createCallbackCheckout(t, merchant, {
      ok: `${receiver.url}/ok-unused-3`,
      open: `${receiver.url}/open`,
    });
    const response = await pay(checkout.path, CARDS.pending);
    expect(response.status).toBe(200);
    expect(response.html).toContain('We will let you know.');
    const [request] = receiver.receivedAt('/open');
    expect(request!.form.get('callback')).toBe('open');
    expect(request!.form.get('status')).toBe('PENDING');
  });

  it('after 3-D Secure, the return to the payment page posts to ok (or fail) the same way', async () => {
    receiver.on('/ok-3ds', html('<p>Authenticated and paid</p>'));
    receiver.on('/fail-3ds', html('<p>Authentication failed, sorry</p>'));
    for (const [outcome, expected, path] of [
      ['complete', 'Authenticated and paid', '/ok-3ds'],
      ['fail', 'Authentication failed, sorry', '/fail-3ds'],
    ] as const) {
      const checkout = await createCallbackCheckout(t, merchant, {
        ok: `${receiver.url}/ok-3ds`,
        fail: `${receiver.url}/fail-3ds`,
      });
      const challenge = await pay(checkout.path, CARDS.threeDs);
      expect(challenge.status).toBe(303);
      const decided = await decideOnSandboxPage(t, challenge.location!, 'outcome', outcome);
      expect(decided.status).toBe(303);
      const returned = await getPage(t, localPath(decided.location!));
      expect(returned.status).toBe(200);
      expect(returned.html).toContain(expected);
      expect(receiver.receivedAt(path).at(-1)!.form.get('checkout_id')).toBe(checkout.checkoutId);
    }
  });

  it('without callbacks the shopper is redirected to completed_redirect_url as before', async () => {
    const checkout = await createCallbackCheckout(t, merchant, {});
    const response = await pay(checkout.path);
    expect(response.status).toBe(303);
    expect(response.location).toMatch(/^https:\/\/shop\.example\/complete\?/);
  });
});

describe('timeline', () => {
  it('GET /v1/orders/{id}/timeline lists callback attempts next to the events', async () => {
    receiver.on('/ok-timeline', { status: 503, body: 'down for maintenance' });
    const checkout = await createCallbackCheckout(t, merchant, { ok: `${receiver.url}/ok-timeline` });
    await pay(checkout.path);
    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/orders/${checkout.orderId}/timeline`,
      headers: merchant.headers,
    });
    expect(response.statusCode).toBe(200);
    const timeline = response.json() as {
      data: { kind: string; at: string; attempt?: Record<string, unknown>; event?: { type: string } }[];
    };
    const callbacks = timeline.data.filter((entry) => entry.kind === 'callback_attempt');
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]!.attempt).toMatchObject({
      kind: 'ok',
      url: `${receiver.url}/ok-timeline`,
      status_code: 503,
      result: 'error',
      error: 'HTTP 503',
      response_excerpt: 'down for maintenance',
    });
    // After the payment's events: newest first, before every one of them.
    const kinds = timeline.data.map((entry) => entry.kind);
    expect(kinds.indexOf('event')).toBeGreaterThan(-1);
    expect(kinds.indexOf('callback_attempt')).toBeLessThan(kinds.indexOf('event'));
    // Another merchant cannot see it.
    const other = await t.createMerchant();
    const foreign = await t.app.inject({
      method: 'GET',
      url: `/v1/orders/${checkout.orderId}/timeline`,
      headers: other.headers,
    });
    expect(foreign.statusCode).toBe(404);
  });
});
