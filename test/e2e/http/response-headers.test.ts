import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createHostedCheckout } from '../hosted-page/hosted-fixtures.ts';
import { createLink } from '../payment-links/payment-link-fixtures.ts';

/**
 * What every response says about caching, framing and its own format:
 * - no response that carries a secret (client tokens, signed page and link URLs, whsec_ and kss_ secrets,
 *   access tokens) may be stored by a cache: `Cache-Control: no-store`, the default for every response whose
 *   route does not choose its own caching;
 * - the API reference at /docs has the security headers of every other page;
 * - 404s on API paths are problem documents whatever the client asks for; page paths answer a browser with
 *   the 404 page and an API client with the problem.
 */

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

type Answer = { statusCode: number; headers: Record<string, unknown>; body: string };

describe('response headers and 404 answers', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(() => t.close());

  function expectNoStore(response: Answer, what: string) {
    expect(response.headers['cache-control'], what).toBe('no-store');
  }

  describe('Cache-Control: no-store on every response carrying a secret', () => {
    it('checkouts: the client_token and the signed page URL (create, read, list, browser session)', async () => {
      const created = await t.app.inject({
        method: 'POST',
        url: '/v1/checkouts',
        headers: merchant.headers,
        payload: {
          completed_redirect_url: 'https://shop.example/done',
          canceled_redirect_url: 'https://shop.example/cancel',
          order: {
            merchant_order_id: 'NS-1',
            currency: 'EUR',
            country_code: 'FI',
            subtotal_amount: 1000,
            total_amount: 1000,
            products: [{ id: 'a', name: 'A', quantity: 1, unit_price: 1000 }],
          },
        },
      });
      expect(created.statusCode).toBe(201);
      const { checkout_id: id, client_token: clientToken } = created.json() as {
        checkout_id: string;
        client_token: string;
      };
      expect(clientToken).toMatch(/^ct_/);
      expectNoStore(created, 'POST /v1/checkouts');

      for (const url of [`/v1/checkouts/${id}`, '/v1/checkouts', `/v1/checkouts/${id}/session`]) {
        const response = await t.app.inject({ url, headers: merchant.headers });
        expect(response.statusCode, url).toBe(200);
        expect(response.body, url).toMatch(/\/pay\/chk_[0-9a-f]+\/[^"/]+/);
        expectNoStore(response, url);
      }
      const bySessionToken = await t.app.inject({
        url: `/v1/checkouts/${id}/session`,
        headers: { authorization: `Bearer ${clientToken}` },
      });
      expect(bySessionToken.statusCode).toBe(200);
      expectNoStore(bySessionToken, 'session by client token');
    });

    it('webhook endpoints: the whsec_ secret on creation and rotation', async () => {
      const created = await t.app.inject({
        method: 'POST',
        url: '/v1/webhook-endpoints',
        headers: merchant.headers,
        payload: { url: 'https://shop.example/hooks', enabled_events: ['payment.succeeded'] },
      });
      expect(created.statusCode).toBe(201);
      const endpoint = created.json() as { id: string; secret: string };
      expect(endpoint.secret).toMatch(/^whsec_/);
      expectNoStore(created, 'POST /v1/webhook-endpoints');
      const rotated = await t.app.inject({
        method: 'POST',
        url: `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`,
        headers: merchant.headers,
      });
      expect(rotated.statusCode).toBe(200);
      expect((rotated.json() as { secret: string }).secret).toMatch(/^whsec_/);
      expectNoStore(rotated, 'rotate-secret');
    });

    it('the OAuth access token and the return-URL signing secret', async () => {
      const token = await t.app.inject({
        method: 'POST',
        url: '/v1/oauth/tokens',
        payload: {
          grant_type: 'client_credentials',
          client_id: merchant.clientId,
          client_secret: merchant.clientSecret,
        },
      });
      expect(token.statusCode).toBe(200);
      expect(token.json()).toHaveProperty('access_token');
      expectNoStore(token, 'POST /v1/oauth/tokens');
      const secret = await t.app.inject({ url: '/v1/merchant/signing-secret', headers: merchant.headers });
      expect(secret.statusCode).toBe(200);
      expect((secret.json() as { secret: string }).secret).toMatch(/^kss_/);
      expectNoStore(secret, 'GET /v1/merchant/signing-secret');
    });

    it('payment links: the signed link URL, and the visit that hands out a session (kassa_token / page URL)', async () => {
      const link = await createLink(t, merchant);
      const listed = await t.app.inject({ url: '/v1/payment-links', headers: merchant.headers });
      const read = await t.app.inject({
        url: `/v1/payment-links/${link.payment_link_id}`,
        headers: merchant.headers,
      });
      for (const response of [listed, read]) {
        expect(response.statusCode).toBe(200);
        expect(response.body).toContain(new URL(link.url).pathname);
        expectNoStore(response, 'payment link read');
      }
      const visit = await t.app.inject({ url: new URL(link.url).pathname });
      expect(visit.statusCode).toBe(303);
      expect(String(visit.headers.location)).toMatch(/\/pay\/chk_/);
      expectNoStore(visit, 'GET /l/…');
    });

    it('the hosted page, and answers with nothing secret, are not stored either; routes that choose caching keep it', async () => {
      const checkout = await createHostedCheckout(t, merchant);
      expectNoStore(await t.app.inject({ url: checkout.path }), 'hosted page');
      expectNoStore(
        await t.app.inject({ url: '/v1/merchant', headers: merchant.headers }),
        'GET /v1/merchant',
      );
      expectNoStore(await t.app.inject({ url: '/v1/nothing-here' }), '404 problem');
      expect((await t.app.inject({ url: '/.well-known/jwks.json' })).headers['cache-control']).toBe(
        'public, max-age=300',
      );
      expect((await t.app.inject({ url: '/public/checkout/checkout.css' })).headers['cache-control']).toMatch(
        /^public/,
      );
      expect((await t.app.inject({ url: '/sdk/v1/kassa.js' })).headers['cache-control']).toMatch(/immutable/);
    });
  });

  describe('/docs', () => {
    it('serves the API reference with the security headers of every page', async () => {
      const checkout = await createHostedCheckout(t, merchant);
      const page = await t.app.inject({ url: checkout.path });
      const docs = await t.app.inject({ url: '/docs/' });
      expect(docs.statusCode).toBe(200);
      expect(docs.body).toMatch(/swagger-ui/);
      for (const name of [
        'x-frame-options',
        'cache-control',
        'referrer-policy',
        'x-content-type-options',
        'cross-origin-opener-policy',
        'permissions-policy',
      ]) {
        expect(docs.headers[name], name).toBe(page.headers[name]);
      }
      const csp = String(docs.headers['content-security-policy']);
      for (const directive of [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
      ]) {
        expect(csp).toContain(directive);
      }
      expect(csp).not.toContain('unsafe-inline');
      // No inline script the CSP would block: every script of the page is a file of the docs.
      expect(docs.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      const initializer = await t.app.inject({ url: '/docs/static/swagger-initializer.js' });
      expect(initializer.statusCode).toBe(200);
      expect(initializer.headers['x-content-type-options']).toBe('nosniff');
      expect(initializer.body).toContain('validatorUrl');
      expect(initializer.body).not.toContain('validator.swagger.io');
    });
  });

  describe('404 answers', () => {
    it('API paths answer a problem document whatever the client accepts', async () => {
      for (const url of [
        '/v1/nothing-here',
        '/v1/checkouts/chk_x/nothing',
        '/public/nope.js',
        '/sdk/v1/nope.js',
      ]) {
        for (const accept of [BROWSER_ACCEPT, 'application/json', '*/*', undefined]) {
          const response = await t.app.inject({ url, headers: accept ? { accept } : {} });
          expect(response.statusCode, `${url} ${accept}`).toBe(404);
          expect(expectProblem(response).code, `${url} ${accept}`).toMatch(/^(route_)?not_found$/);
        }
      }
    });

    it('a page address without its signature, or any unknown page path: HTML to a browser, a problem to an API client', async () => {
      for (const url of [
        '/pay/chk_00000000000000000000000000000000',
        '/pay',
        '/somewhere/else',
        '/l/plink_1',
      ]) {
        const browser = await t.app.inject({ url, headers: { accept: BROWSER_ACCEPT } });
        expect(browser.statusCode, url).toBe(404);
        expect(String(browser.headers['content-type']), url).toMatch(/^text\/html/);
        expect(browser.headers['content-security-policy'], url).toContain("default-src 'none'");
        expect(browser.body, url).not.toContain('chk_00000000000000000000000000000000');

        for (const accept of ['application/json', 'application/problem+json', '*/*']) {
          const api = await t.app.inject({ url, headers: { accept } });
          expect(api.statusCode, `${url} ${accept}`).toBe(404);
          expect(expectProblem(api).code, `${url} ${accept}`).toBe('route_not_found');
        }
      }
    });

    it('a wrong page signature: the 404 page to a browser, the same problem for every guess to an API client', async () => {
      const checkout = await createHostedCheckout(t, merchant);
      const wrong = `${checkout.path.slice(0, checkout.path.lastIndexOf('/'))}/${'0'.repeat(64)}`;
      const unknown = `/pay/chk_${'0'.repeat(32)}/${'0'.repeat(64)}`;
      for (const url of [wrong, unknown]) {
        const browser = await t.app.inject({ url, headers: { accept: BROWSER_ACCEPT } });
        expect(browser.statusCode).toBe(404);
        expect(String(browser.headers['content-type'])).toMatch(/^text\/html/);
        const api = await t.app.inject({ url, headers: { accept: 'application/json' } });
        expect(api.statusCode).toBe(404);
        const problem = expectProblem(api);
        expect({ code: problem.code, detail: problem.detail }).toEqual({
          code: 'not_found',
          detail: 'No such page',
        });
      }
    });
  });
});
