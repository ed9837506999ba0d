import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectLiveProcessor } from '../../fixtures/live-processor.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createCheckout, seedCheckoutRequest } from './checkout-fixtures.ts';

/**
 * Merchant URLs are refused at creation unless they are absolute https (http in test mode) without
 * credentials, control characters or parser tricks; callback URLs additionally without fragments and not to
 * addresses the egress policy refuses. Nothing here resolves names or sends traffic.
 */
describe('checkout URL rules', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;
  let liveMerchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant();
    liveMerchant = await testApp.createMerchant({ livemode: true, name: 'Live shop' });
    await connectLiveProcessor(testApp, liveMerchant.headers);
  });
  afterAll(() => testApp.close());

  async function post(who: TestMerchant, payload: object) {
    return testApp.app.inject({ method: 'POST', url: '/v1/checkouts', headers: who.headers, payload });
  }

  async function expectUrlRefused(who: TestMerchant, payload: object, pointer: string, message?: RegExp) {
    const response = await post(who, payload);
    expect(response.statusCode, `${pointer}: ${response.body}`).toBe(422);
    const problem = expectProblem(response);
    const error = problem.errors?.find((candidate) => candidate.pointer === pointer);
    expect(error, response.body).toBeDefined();
    if (message) expect(error!.message).toMatch(message);
    return error!;
  }

  it.each([
    ['javascript:alert(1)', /absolute URL starting with https:\/\//],
    ['data:text/html,<script>alert(1)</script>', /absolute URL/],
    ['//evil.example/path', /absolute URL/],
    ['https:evil.example', /absolute URL/],
    ['https:/evil.example', /absolute URL/],
    ['/relative/path', /absolute URL/],
    ['ftp://files.example/', /absolute URL/],
    ['https://user:secret@shop.example/', /credentials/],
    ['https://shop.example/\r\nSet-Cookie: a=b', /carriage return/],
    ['https://shop.example/\tx', /tab/],
    ['https://shop.example\\@evil.example/', /backslash/],
    ['https://', /name a host/],
    ['', /not be empty/],
  ])('refuses the redirect URL %j', async (url, message) => {
    await expectUrlRefused(
      merchant,
      { ...seedCheckoutRequest(), completed_redirect_url: url },
      '/completed_redirect_url',
      message,
    );
    await expectUrlRefused(
      merchant,
      { ...seedCheckoutRequest(), canceled_redirect_url: url },
      '/canceled_redirect_url',
      message,
    );
  });

  it('accepts a fragment in a redirect URL (single-page shops route by it) but not in a callback URL', async () => {
    const created = await createCheckout(testApp, merchant, {
      ...seedCheckoutRequest(),
      completed_redirect_url: 'https://shop.example/#/checkout/done',
    });
    expect(created.completed_redirect_url).toBe('https://shop.example/#/checkout/done');
    await expectUrlRefused(
      merchant,
      { ...seedCheckoutRequest(), callbacks: { ok: 'https://shop.example/cb#frag' } },
      '/callbacks/ok',
      /fragment/,
    );
  });

  it('accepts http:// in test mode only', async () => {
    const body = {
      ...seedCheckoutRequest(),
      completed_redirect_url: 'http://localhost:8080/done',
      callbacks: { ok: 'http://127.0.0.1:8080/cb' },
    };
    const created = await createCheckout(testApp, merchant, body);
    expect(created.callbacks).toEqual({ ok: 'http://127.0.0.1:8080/cb' });

    const live = await post(liveMerchant, body);
    expect(live.statusCode).toBe(422);
    const pointers = expectProblem(live).errors?.map((error) => [error.pointer, error.message]);
    expect(pointers).toEqual(
      expect.arrayContaining([
        ['/completed_redirect_url', expect.stringMatching(/https:\/\/ in live mode/)],
        ['/callbacks/ok', expect.stringMatching(/https:\/\/ in live mode/)],
      ]),
    );
  });

  it.each(['verify_order', 'ok', 'fail', 'open', 'notification'])('checks callbacks.%s', async (name) => {
    await expectUrlRefused(
      merchant,
      { ...seedCheckoutRequest(), callbacks: { [name]: 'javascript:alert(1)' } },
      `/callbacks/${name}`,
    );
  });

  it.each([
    ['http://10.0.0.5/cb', 'private'],
    ['http://169.254.169.254/latest/meta-data', 'link_local'],
    ['http://[::ffff:10.0.0.1]/cb', 'private'],
    ['http://0x0a000001/cb', 'private'],
  ])('refuses the callback %s (a %s address) through the egress policy', async (url, addressClass) => {
    const error = await expectUrlRefused(
      merchant,
      { ...seedCheckoutRequest(), callbacks: { notification: url } },
      '/callbacks/notification',
    );
    expect(error.code).toBe('url_not_allowed');
    expect(error.message).toContain(addressClass);
  });

  it('refuses loopback callbacks in production unless allow-listed', async () => {
    const production = await createTestApp({
      env: {
        KASSA_ENV: 'production',
        KASSA_MASTER_KEY: randomBytes(32).toString('base64'),
        KASSA_EGRESS_ALLOW_LIST: '127.0.0.2',
        KASSA_PUBLIC_URL: 'https://pay.kassa.test',
      },
    });
    try {
      const shop = await production.createMerchant();
      const refused = await production.app.inject({
        method: 'POST',
        url: '/v1/checkouts',
        headers: shop.headers,
        payload: { ...seedCheckoutRequest(), callbacks: { ok: 'http://127.0.0.1:9000/cb' } },
      });
      expect(refused.statusCode).toBe(422);
      expect(expectProblem(refused).errors).toEqual([
        expect.objectContaining({
          pointer: '/callbacks/ok',
          code: 'url_not_allowed',
          message: expect.stringContaining('loopback'),
        }),
      ]);
      const allowed = await production.app.inject({
        method: 'POST',
        url: '/v1/checkouts',
        headers: shop.headers,
        payload: { ...seedCheckoutRequest(), callbacks: { ok: 'http://127.0.0.2:9000/cb' } },
      });
      expect(allowed.statusCode, allowed.body).toBe(201);
    } finally {
      await production.close();
    }
  });

  it("names the merchant's default when an inherited callback fails the live-mode rules", async () => {
    const testDefaults = await testApp.app.inject({
      method: 'PATCH',
      url: '/v1/merchant',
      headers: merchant.headers,
      payload: { default_callbacks: { notification: 'http://localhost:4000/notify' } },
    });
    expect(testDefaults.statusCode).toBe(200);
    // The same merchant, in live mode: the inherited http:// default is refused with a hint.
    const { issueCredentials } = await import('../../../src/modules/merchants/merchant.service.ts');
    const live = await issueCredentials(testApp.database.db, merchant.merchantId, true);
    await connectLiveProcessor(testApp, { authorization: `Bearer ${live.apiKey}` });
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: { authorization: `Bearer ${live.apiKey}` },
      payload: seedCheckoutRequest(),
    });
    expect(response.statusCode).toBe(422);
    expect(expectProblem(response).errors?.[0]?.message).toMatch(
      /^must .*\(the value of the merchant's default_callbacks\.notification\); send callbacks\.notification .*fix the default$/,
    );
    // Overriding it in the request (or switching it off) works.
    const overridden = await testApp.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: { authorization: `Bearer ${live.apiKey}` },
      payload: { ...seedCheckoutRequest(), callbacks: { notification: null } },
    });
    expect(overridden.statusCode, overridden.body).toBe(201);
    expect(overridden.json().callbacks).toEqual({});
  });
});
