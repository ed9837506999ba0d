import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signReturnParams } from '../../../src/lib/return-signature.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

/**
 * The demo shop (/demo) as a merchant server: what it refuses. Its happy paths run in a browser
 * (test/browser/demo-shop.test.ts). It talks to Kassa over HTTP, so the app listens on loopback.
 */

type Sent = { status: number; body: string; headers: Headers };

describe('demo shop', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let secret: string;

  beforeAll(async () => {
    t = await createTestApp({ listen: true, env: { KASSA_DEMO: 'true' } });
    merchant = await t.createMerchant({ name: 'Demo Shop' });
    const response = await t.app.inject({
      method: 'GET',
      url: '/v1/merchant/signing-secret',
      headers: merchant.headers,
    });
    secret = response.json<{ secret: string }>().secret;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function send(path: string, init: RequestInit = {}): Promise<Sent> {
    const response = await fetch(`${t.baseUrl}${path}`, { redirect: 'manual', ...init });
    return { status: response.status, body: await response.text(), headers: response.headers };
  }

  /** A callback signed like Kassa signs it (docs/callbacks.md), with `key` as the signing secret. */
  function signedCallback(fields: Record<string, string>, key = secret): RequestInit {
    const body = new URLSearchParams(fields).toString();
    const id = `pay_${'0'.repeat(32)}_${fields.callback ?? 'ok'}`;
    const timestamp = new Date();
    return {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': new Webhook(key, { format: 'raw' }).sign(id, timestamp, body),
      },
    };
  }

  async function createOrder(unitPrice: number, quantity = 1) {
    const subtotal = unitPrice * quantity;
    const shipping = subtotal >= 50_000 ? 0 : 3_900;
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: merchant.headers,
      payload: {
        completed_redirect_url: `${t.baseUrl}/demo/receipt`,
        canceled_redirect_url: `${t.baseUrl}/demo/cart`,
        order: {
          merchant_order_id: 'DEMO-TEST',
          currency: 'DKK',
          country_code: 'DK',
          subtotal_amount: subtotal,
          shipping_amount: shipping,
          total_amount: subtotal + shipping,
          products: [{ id: 'merino-scarf', name: 'Merino wool scarf', quantity, unit_price: unitPrice }],
        },
      },
    });
    expect(response.statusCode).toBe(201);
    return response.json<{ checkout_id: string; order: { order_id: string; total_amount: number } }>();
  }

  it('says it is not ready until it has an API key', async () => {
    const page = await send('/demo');
    expect(page.status).toBe(503);
    expect(page.body).toContain('The demo shop is not ready');
    t.services.demoShop.use({ apiKey: merchant.apiKey });
    const ready = await send('/demo');
    expect(ready.status).toBe(200);
    expect(ready.body).toContain('Merino wool scarf');
    // The page rules: a strict CSP, no inline handlers or styles.
    expect(ready.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(ready.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(ready.body).not.toMatch(/\son[a-z]+=|style="/);
  });

  it('keeps the cart in a signed cookie: a forged cookie is an empty cart', async () => {
    const added = await send('/demo/cart/add', {
      method: 'POST',
      body: 'product=oak-lamp',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(added.status).toBe(303);
    const cookie = added.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie).toMatch(/^kassa_demo_cart=v1\./);
    const cart = await send('/demo/cart', { headers: { cookie } });
    expect(cart.body).toContain('Oak table lamp');

    const [, payload] = cookie.split('.');
    const forgedItems = Buffer.from(
      JSON.stringify({ id: 'f'.repeat(32), items: { 'oak-lamp': 9 } }),
    ).toString('base64url');
    const forged = await send('/demo/cart', {
      headers: { cookie: cookie.replace(payload!, forgedItems) },
    });
    expect(forged.body).toContain('Your cart is empty');
  });

  it('answers only callbacks signed with the merchant’s signing secret', async () => {
    const checkout = await createOrder(34_900);
    const fields = {
      callback: 'ok',
      checkout_id: checkout.checkout_id,
      order_id: checkout.order.order_id,
      merchant_order_id: 'DEMO-TEST',
      payment_id: `pay_${'0'.repeat(32)}`,
      status: 'SUCCEEDED',
      amount: String(checkout.order.total_amount),
      currency: 'DKK',
      method: 'card',
      card_brand: 'visa',
      card_last4: '4242',
    };
    const forged = await send('/demo/callbacks/ok', signedCallback(fields, 'kss_not_the_secret'));
    expect(forged.status).toBe(400);
    expect(forged.body).not.toContain('Thank you');

    const unsigned = await send('/demo/callbacks/ok', {
      method: 'POST',
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(unsigned.status).toBe(400);

    const genuine = await send('/demo/callbacks/ok', signedCallback(fields));
    expect(genuine.status).toBe(200);
    expect(genuine.headers.get('content-type')).toMatch(/^text\/html/);
    expect(genuine.body).toContain('Thank you! Your order is confirmed.');
    expect(genuine.body).toContain('Visa •••• 4242');
    expect(genuine.body).toContain('Merino wool scarf');
    expect(genuine.body).not.toContain('<script');

    // The body is verified as sent: changing one byte after signing breaks it.
    const tampered = signedCallback(fields);
    tampered.body = String(tampered.body).replace('SUCCEEDED', 'SUCCEEDEE');
    expect((await send('/demo/callbacks/ok', tampered)).status).toBe(400);
  });

  it('verify_order: OKAY only for the shop’s own prices and the amount of the order', async () => {
    const good = await createOrder(34_900, 2);
    const verify = (checkout: typeof good, amount: number) =>
      send(
        '/demo/callbacks/verify_order',
        signedCallback({
          callback: 'verify_order',
          checkout_id: checkout.checkout_id,
          order_id: checkout.order.order_id,
          amount: String(amount),
          currency: 'DKK',
        }),
      );
    const okay = await verify(good, 69_800);
    expect(okay).toMatchObject({ status: 200, body: 'OKAY' });
    expect((await verify(good, 69_801)).body).toBe('The amount does not match the order');

    const cheap = await createOrder(100);
    expect((await verify(cheap, 4_000)).body).toBe('The price of Merino wool scarf changed');
  });

  it('shows a receipt only for a return URL Kassa signed', async () => {
    const checkout = await createOrder(74_900);
    const params = (key: string) =>
      new URLSearchParams(
        signReturnParams(
          { checkoutId: checkout.checkout_id, orderId: checkout.order.order_id, status: 'PAID' },
          key,
          new Date(),
        ),
      ).toString();
    const forged = await send(`/demo/receipt?${params('kss_forged')}`);
    expect(forged.status).toBe(400);
    expect(forged.body).toContain('This receipt link is not valid');

    // Signed, but the order is not paid: the shop believes the API, not the URL.
    const unpaid = await send(`/demo/receipt?${params(secret)}`);
    expect(unpaid.status).toBe(409);
    expect(unpaid.body).toContain('Order DEMO-TEST is created');
    expect(unpaid.body).not.toContain('Thank you');

    const payment = await t.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: merchant.headers,
      payload: {
        checkout_id: checkout.checkout_id,
        payment_method: {
          type: 'card',
          card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '737', holder_name: 'Ada' },
        },
      },
    });
    expect(payment.statusCode).toBe(201);
    const paid = await send(`/demo/receipt?${params(secret)}`);
    expect(paid.status).toBe(200);
    expect(paid.body).toContain('Thank you! Your order is confirmed.');
    expect(paid.body).toContain('DEMO-TEST');
    expect(paid.body).toContain('Visa •••• 4242');
  });

  it('is not there when KASSA_DEMO is off', async () => {
    const off = await createTestApp({ env: { KASSA_DEMO: 'false' } });
    try {
      expect((await off.app.inject({ method: 'GET', url: '/demo' })).statusCode).toBe(404);
      expect((await off.app.inject({ method: 'GET', url: '/demo/cart' })).statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });
});
