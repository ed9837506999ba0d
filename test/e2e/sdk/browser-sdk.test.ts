import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

/**
 * The browser SDK as served (docs/sdk.md): the script at its versioned path with long caching and its published
 * SRI hash (README.md and docs/sdk.md must match the file), the session summary it reads with a client token,
 * and CORS granted to exactly the two client-token endpoints the SDK calls.
 */

const root = new URL('../../../', import.meta.url);
const sdkFile = readFileSync(new URL('public/sdk/v1/kassa.js', root));
const sdkIntegrity = `sha384-${createHash('sha384').update(sdkFile).digest('base64')}`;
const ORIGIN = 'https://shop.example';

describe('browser SDK: script, session summary and CORS', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;
  let checkout: { checkout_id: string; client_token: string; checkout_redirect_url: string };
  let otherCheckout: { checkout_id: string; client_token: string };

  const createCheckout = async () => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: merchant.headers,
      payload: {
        completed_redirect_url: 'https://shop.example/done',
        canceled_redirect_url: 'https://shop.example/cancel',
        order: {
          merchant_order_id: 'sdk-order',
          currency: 'DKK',
          country_code: 'DK',
          subtotal_amount: 10_000,
          shipping_amount: 4_900,
          total_amount: 14_900,
          products: [{ id: 'mug', name: 'Mug', quantity: 2, unit_price: 5_000 }],
          customer: { email: 'shopper@example.com', first_name: 'Ada' },
        },
      },
    });
    expect(response.statusCode).toBe(201);
    return response.json();
  };

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant({ name: 'Mugs ApS' });
    checkout = await createCheckout();
    otherCheckout = await createCheckout();
  });
  afterAll(() => testApp.close());

  const asClient = (url: string, token = checkout.client_token, extra: Record<string, string> = {}) =>
    testApp.app.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${token}`, origin: ORIGIN, ...extra },
    });

  it('serves /sdk/v1/kassa.js as JavaScript, cacheable for a year, loadable with SRI from any origin', async () => {
    const response = await testApp.app.inject({ method: 'GET', url: '/sdk/v1/kassa.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.rawPayload.equals(sdkFile)).toBe(true);

    const again = await testApp.app.inject({
      method: 'GET',
      url: '/sdk/v1/kassa.js',
      headers: { 'if-none-match': String(response.headers.etag) },
    });
    expect(again.statusCode).toBe(304);

    const types = await testApp.app.inject({ method: 'GET', url: '/sdk/v1/kassa.d.ts' });
    expect(types.statusCode).toBe(200);
    expect(types.body).toContain('injectPaymentMethods');
    expect((await testApp.app.inject({ method: 'GET', url: '/sdk/v1/other.js' })).statusCode).toBe(404);
  });

  it.each(['README.md', 'docs/sdk.md'])('%s publishes the SRI hash of the file as it is', (document) => {
    const text = readFileSync(new URL(document, root), 'utf8');
    const published = [...text.matchAll(/integrity="(sha384-[A-Za-z0-9+/=]+)"/g)].map((match) => match[1]);
    expect(published.length).toBeGreaterThan(0);
    for (const integrity of published) expect(integrity).toBe(sdkIntegrity);
    expect(text).toContain('/sdk/v1/kassa.js');
  });

  it('summarises the session for its client token: order, amount, secure page URL; no customer data', async () => {
    const response = await asClient(`/v1/checkouts/${checkout.checkout_id}/session`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      object: 'checkout_session',
      id: checkout.checkout_id,
      checkout_id: checkout.checkout_id,
      livemode: false,
      status: 'OPEN',
      locale: expect.any(String),
      created_at: expect.any(String),
      expires_at: expect.any(String),
      checkout_redirect_url: checkout.checkout_redirect_url,
      merchant: { display_name: 'Mugs ApS' },
      order: {
        merchant_order_id: 'sdk-order',
        currency: 'DKK',
        country_code: 'DK',
        subtotal_amount: 10_000,
        discounts: [],
        taxes: [],
        shipping_amount: 4_900,
        total_amount: 14_900,
        products: [{ name: 'Mug', quantity: 2, unit_price: 5_000 }],
      },
    });
    expect(response.body).not.toContain('shopper@example.com');
  });

  it("a client token opens only its own session; another session's id answers 404 like a missing one", async () => {
    const foreign = await asClient(`/v1/checkouts/${otherCheckout.checkout_id}/session`);
    expect(foreign.statusCode).toBe(404);
    expectProblem(foreign);
    const merchantView = await testApp.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${otherCheckout.checkout_id}/session`,
      headers: merchant.headers,
    });
    expect(merchantView.statusCode).toBe(200);
  });

  it.each(['payment-methods', 'session'])(
    'answers the CORS preflight of /v1/checkouts/{id}/%s for the Authorization header',
    async (endpoint) => {
      const response = await testApp.app.inject({
        method: 'OPTIONS',
        url: `/v1/checkouts/${checkout.checkout_id}/${endpoint}`,
        headers: {
          origin: ORIGIN,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(response.statusCode).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe('*');
      expect(String(response.headers['access-control-allow-methods'])).toContain('GET');
      expect(String(response.headers['access-control-allow-headers']).toLowerCase()).toContain(
        'authorization',
      );
      expect(response.headers['access-control-max-age']).toBe('600');
    },
  );

  it('lets other origins read client-token answers (errors included), never merchant-credential answers', async () => {
    const methods = await asClient(`/v1/checkouts/${checkout.checkout_id}/payment-methods`);
    expect(methods.statusCode).toBe(200);
    expect(methods.headers['access-control-allow-origin']).toBe('*');
    const denied = await asClient(`/v1/checkouts/${otherCheckout.checkout_id}/payment-methods`);
    expect(denied.statusCode).toBe(404);
    expect(denied.headers['access-control-allow-origin']).toBe('*');
    const badToken = await asClient(`/v1/checkouts/${checkout.checkout_id}/session`, `ct_${'x'.repeat(43)}`);
    expect(badToken.statusCode).toBe(401);
    expect(badToken.headers['access-control-allow-origin']).toBe('*');

    const asMerchant = await testApp.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${checkout.checkout_id}/payment-methods`,
      headers: { ...merchant.headers, origin: ORIGIN },
    });
    expect(asMerchant.statusCode).toBe(200);
    expect(asMerchant.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('everything else stays same-origin: no CORS headers, no preflight', async () => {
    const get = await testApp.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${checkout.checkout_id}`,
      headers: { ...merchant.headers, origin: ORIGIN },
    });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    for (const url of ['/v1/checkouts', `/v1/checkouts/${checkout.checkout_id}`, '/v1/payment-links']) {
      const preflight = await testApp.app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin: ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(preflight.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(preflight.headers['access-control-allow-origin'], url).toBeUndefined();
    }
  });
});
