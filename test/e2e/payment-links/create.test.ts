import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  createLink,
  decodeQrDataUrl,
  eventsOf,
  linkRequest,
  pathOf,
  type PaymentLinkJson,
} from './payment-link-fixtures.ts';

/**
 * `POST /v1/payment-links` (docs/payment-links.md, the payment-link flow): the link, its QR code (decoded here from the PNG) and SVG, the
 * order's money rules shared with checkouts, the usage options, reads and lists scoped to the merchant.
 */
describe('creating and reading payment links', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;
  let other: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant();
    other = await testApp.createMerchant({ name: 'Other Shop' });
  });
  afterAll(() => testApp.close());

  it('creates an ACTIVE single-use link with a signed URL, a QR code that decodes to exactly that URL, and an SVG', async () => {
    const before = Date.now();
    const link = await createLink(testApp, merchant);
    expect(link).toMatchObject({
      object: 'payment_link',
      status: 'ACTIVE',
      livemode: false,
      usage: 'single',
      max_completions: 1,
      completions: 0,
      activation_window_seconds: 600,
      first_opened_at: null,
      completable_until: null,
      landing_url: null,
      version: 1,
      order: {
        merchant_order_id: 'link-order-1',
        currency: 'EUR',
        total_amount: 2_500,
        discounts: [],
        taxes: [],
      },
    });
    expect(link.payment_link_id).toMatch(/^pl_[0-9a-f]{44}$/);
    expect(link.id).toBe(link.payment_link_id); // canonical id + documented alias
    expect(link).toMatchObject({ capture_mode: null });
    expect(link).not.toHaveProperty('capture');
    expect(link.url).toBe(
      `${testApp.config.publicUrl}/l/${link.payment_link_id}/${link.url.split('/').at(-1)}`,
    );
    expect(link.url.split('/').at(-1)).toMatch(/^[0-9a-f]{64}$/);
    expect(link.qr_svg_url).toBe(`${link.url}/qr.svg`);
    // Default validity: 14 days.
    const validity = Date.parse(link.expires_at) - before;
    expect(validity).toBeGreaterThanOrEqual(14 * 86_400_000 - 1_000);
    expect(validity).toBeLessThanOrEqual(14 * 86_400_000 + 5_000);

    expect(decodeQrDataUrl(link.qr_code!)).toBe(link.url);

    const svg = await testApp.app.inject({ method: 'GET', url: pathOf(link.qr_svg_url) });
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(svg.headers['x-content-type-options']).toBe('nosniff');
    expect(svg.body).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);

    expect((await eventsOf(testApp, link.payment_link_id)).map((event) => event.type)).toEqual([
      'payment_link.created',
    ]);
  });

  it('serves the QR SVG only with the right signature', async () => {
    const link = await createLink(testApp, merchant);
    const forged = pathOf(link.qr_svg_url).replace(/\/[0-9a-f]{64}\/qr\.svg$/, `/${'0'.repeat(64)}/qr.svg`);
    expectProblem(await testApp.app.inject({ method: 'GET', url: forged }));
    expect((await testApp.app.inject({ method: 'GET', url: forged })).statusCode).toBe(404);
  });

  it('creates a reusable link with a completion cap, a landing page, and its own validity and window', async () => {
    const link = await createLink(
      testApp,
      merchant,
      linkRequest({
        usage: 'reusable',
        max_completions: 25,
        landing_url: 'https://shop.example/pay-with-qr?campaign=spring',
        expires_in_seconds: 3_600,
        activation_window_seconds: 120,
        locale: 'DA',
        capture_mode: 'manual',
        payment_methods: ['card'],
        metadata: { campaign: 'spring' },
      }),
    );
    expect(link).toMatchObject({
      usage: 'reusable',
      max_completions: 25,
      landing_url: 'https://shop.example/pay-with-qr?campaign=spring',
      activation_window_seconds: 120,
      locale: 'DA',
      capture_mode: 'manual',
      payment_methods: ['card'],
      metadata: { campaign: 'spring' },
    });
  });

  it('refuses orders whose amounts do not add up, like checkouts do, with a pointer to the field', async () => {
    const body = linkRequest();
    body.order.total_amount = 2_499;
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/payment-links',
      headers: merchant.headers,
      payload: body,
    });
    const problem = expectProblem(response);
    expect(response.statusCode).toBe(422);
    expect(problem.errors?.map((error) => error.pointer)).toContain('/order/total_amount');
  });

  it.each([
    [{ usage: 'reusable' }, '/max_completions', 'required'],
    [{ usage: 'single', max_completions: 3 }, '/max_completions', 'single_use'],
    [{ landing_url: 'javascript:alert(1)' }, '/landing_url', 'invalid_url'],
    [{ completed_redirect_url: 'ftp://shop.example/done' }, '/completed_redirect_url', 'invalid_url'],
    [{ activation_window_seconds: 10 }, '/activation_window_seconds', undefined],
    [{ expires_in_seconds: 91 * 86_400 }, '/expires_in_seconds', undefined],
    [{ max_uses: 3 }, '/max_uses', 'unknown_field'],
  ])('refuses %j at %s', async (extra, pointer, code) => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/payment-links',
      headers: merchant.headers,
      payload: linkRequest(extra),
    });
    const problem = expectProblem(response);
    expect(response.statusCode).toBe(422);
    const error = problem.errors?.find((candidate) => candidate.pointer === pointer);
    expect(error, JSON.stringify(problem.errors)).toBeDefined();
    if (code) expect(error!.code).toBe(code);
  });

  it('replays the same answer for the same Idempotency-Key, and creates one link', async () => {
    const headers = { ...merchant.headers, 'idempotency-key': 'link-create-1' };
    const body = linkRequest({ metadata: { attempt: 'same' } });
    const first = await testApp.app.inject({
      method: 'POST',
      url: '/v1/payment-links',
      headers,
      payload: body,
    });
    const second = await testApp.app.inject({
      method: 'POST',
      url: '/v1/payment-links',
      headers,
      payload: body,
    });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json().payment_link_id).toBe(first.json().payment_link_id);
  });

  it('retrieves a link with its QR code; a foreign or unknown id answers 404 alike', async () => {
    const link = await createLink(testApp, merchant);
    const fetched = await testApp.app.inject({
      method: 'GET',
      url: `/v1/payment-links/${link.payment_link_id}`,
      headers: merchant.headers,
    });
    expect(fetched.statusCode).toBe(200);
    const json = fetched.json<PaymentLinkJson>();
    expect(json.url).toBe(link.url);
    expect(decodeQrDataUrl(json.qr_code!)).toBe(link.url);

    const foreign = await testApp.app.inject({
      method: 'GET',
      url: `/v1/payment-links/${link.payment_link_id}`,
      headers: other.headers,
    });
    const unknown = await testApp.app.inject({
      method: 'GET',
      url: `/v1/payment-links/pl_${'0'.repeat(32)}`,
      headers: other.headers,
    });
    expect(foreign.statusCode).toBe(404);
    expect(expectProblem(foreign).code).toBe('not_found');
    expect(expectProblem(unknown).code).toBe('not_found');

    const deactivate = await testApp.app.inject({
      method: 'POST',
      url: `/v1/payment-links/${link.payment_link_id}/deactivate`,
      headers: other.headers,
    });
    expect(deactivate.statusCode).toBe(404);
    expectProblem(deactivate);
  });

  it('lists links newest first with cursor pagination, scoped to the merchant and filterable by status', async () => {
    const lister = await testApp.createMerchant({ name: 'Lister' });
    const created: string[] = [];
    for (let index = 0; index < 5; index += 1)
      created.push((await createLink(testApp, lister)).payment_link_id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&starting_after=${cursor}` : '?limit=2';
      const page = await testApp.app.inject({
        method: 'GET',
        url: `/v1/payment-links${query}`,
        headers: lister.headers,
      });
      expect(page.statusCode).toBe(200);
      const body = page.json<{ data: PaymentLinkJson[]; has_more: boolean; next_cursor: string | null }>();
      expect(body.data.length).toBeLessThanOrEqual(2);
      for (const item of body.data) expect(item.qr_code).toBeUndefined();
      seen.push(...body.data.map((item) => item.payment_link_id));
      cursor = body.has_more ? body.next_cursor : null;
    } while (cursor);
    expect(seen).toEqual([...created].reverse());

    await testApp.app.inject({
      method: 'POST',
      url: `/v1/payment-links/${created[0]}/deactivate`,
      headers: lister.headers,
    });
    const deactivated = await testApp.app.inject({
      method: 'GET',
      url: '/v1/payment-links?status=DEACTIVATED',
      headers: lister.headers,
    });
    expect(deactivated.json<{ data: PaymentLinkJson[] }>().data.map((item) => item.payment_link_id)).toEqual([
      created[0],
    ]);

    const others = await testApp.app.inject({
      method: 'GET',
      url: '/v1/payment-links',
      headers: other.headers,
    });
    expect(others.json<{ data: PaymentLinkJson[] }>().data).toEqual([]);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const document = (await testApp.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    }>();
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/payment-links',
        '/v1/payment-links/{id}',
        '/v1/payment-links/{id}/deactivate',
        '/v1/checkouts/{id}/session',
      ]),
    );
    expect(document.components.schemas).toHaveProperty('PaymentLink');
    expect(Object.keys(document.paths).some((path) => path.startsWith('/l/'))).toBe(false);
  });
});
