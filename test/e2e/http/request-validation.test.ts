import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELD_ERROR_CODES } from '../../../src/lib/errors.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';

/**
 * docs/api-conventions.md §9 over real HTTP, on several routes: unknown fields one error each at their
 * pointer, `required` for a missing field, catalogue codes and one message style, 415 for form and text bodies.
 */
type Problem = {
  status: number;
  code: string;
  detail: string;
  errors?: { pointer: string; code: string; message: string }[];
};

describe('request validation (docs/api-conventions.md §9)', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp({ listen: true });
    merchant = await t.createMerchant();
  });
  afterAll(() => t.close());

  async function send(
    method: string,
    path: string,
    body: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; problem: Problem; contentType: string }> {
    const response = await fetch(`${t.baseUrl}${path}`, {
      method,
      headers: { ...merchant.headers, 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      problem: (await response.json()) as Problem,
    };
  }

  const order = () => simpleOrder('EUR', 'FI', 1000);
  const routes: { name: string; method: string; path: string; body: () => Record<string, unknown> }[] = [
    { name: 'checkouts', method: 'POST', path: '/v1/checkouts', body: () => checkoutRequest(order()) },
    { name: 'payment links', method: 'POST', path: '/v1/payment-links', body: () => ({ order: order() }) },
    {
      name: 'payments',
      method: 'POST',
      path: '/v1/payments',
      body: () => ({
        checkout_id: 'chk_00000000000000000000000000000000',
        payment_method: { type: 'invoice' },
      }),
    },
    { name: 'refunds', method: 'POST', path: '/v1/payments/pay_0/refunds', body: () => ({ amount: 100 }) },
    {
      name: 'processor accounts',
      method: 'POST',
      path: '/v1/processor-accounts',
      body: () => ({ processor: 'sandbox', credentials: {}, payment_methods: ['card'] }),
    },
    {
      name: 'webhook endpoints',
      method: 'POST',
      path: '/v1/webhook-endpoints',
      body: () => ({ url: 'https://hooks.example/kassa', enabled_events: ['*'] }),
    },
    {
      name: 'webhook endpoint update',
      method: 'PATCH',
      path: '/v1/webhook-endpoints/we_0',
      body: () => ({}),
    },
  ];

  describe.each(routes)('$name', (route) => {
    it('refuses each unknown body field at its own pointer, code unknown_field', async () => {
      const { status, problem } = await send(route.method, route.path, {
        ...route.body(),
        shiping_amount: 5,
        'a/b': 1,
      });
      expect(status).toBe(422);
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors).toEqual([
        {
          pointer: '/shiping_amount',
          code: 'unknown_field',
          message: expect.stringMatching(/^is not a field of this request/),
        },
        {
          pointer: '/a~1b',
          code: 'unknown_field',
          message: expect.stringMatching(/^is not a field of this request/),
        },
      ]);
      expect(JSON.stringify(problem)).not.toContain('unrecognized_keys');
    });

    it('answers a form body or a text body with 415 unsupported_media_type naming the type and the fix', async () => {
      const form = await send(
        route.method,
        route.path,
        'amount=100&currency=EUR',
        'application/x-www-form-urlencoded',
      );
      expect(form.status).toBe(415);
      expect(form.contentType).toMatch(/^application\/problem\+json/);
      expect(form.problem.code).toBe('unsupported_media_type');
      expect(form.problem.detail).toContain('sent as application/x-www-form-urlencoded');
      expect(form.problem.detail).toContain('Send Content-Type: application/json');
      const text = await send(
        route.method,
        route.path,
        JSON.stringify(route.body()),
        'text/plain; charset=utf-8',
      );
      expect(text.status).toBe(415);
      expect(text.problem.code).toBe('unsupported_media_type');
      expect(text.problem.detail).toContain('sent as text/plain');
    });
  });

  it('points at unknown fields nested in an object or a list', async () => {
    const body = checkoutRequest({
      ...order(),
      colour: 'red',
      products: [{ id: 'sku-1', name: 'Thing', quantity: 1, unit_price: 1000, weight: 3 }],
    });
    const { status, problem } = await send('POST', '/v1/checkouts', body);
    expect(status).toBe(422);
    expect(problem.errors?.map(({ pointer, code }) => ({ pointer, code }))).toEqual(
      expect.arrayContaining([
        { pointer: '/order/colour', code: 'unknown_field' },
        { pointer: '/order/products/0/weight', code: 'unknown_field' },
      ]),
    );
  });

  it('calls a missing field required, with the message "is required", on every kind of field', async () => {
    const withoutOrder = await send('POST', '/v1/checkouts', {
      completed_redirect_url: 'https://shop.example/done',
    });
    expect(withoutOrder.status).toBe(422);
    expect(withoutOrder.problem.errors).toContainEqual({
      pointer: '/order',
      code: 'required',
      message: 'is required',
    });
    const { currency: _currency, ...noCurrency } = order();
    const withoutCurrency = await send('POST', '/v1/payment-links', { order: noCurrency });
    expect(withoutCurrency.problem.errors).toContainEqual({
      pointer: '/order/currency',
      code: 'required',
      message: 'is required',
    });
    const withoutUrl = await send('POST', '/v1/webhook-endpoints', { enabled_events: ['*'] });
    expect(withoutUrl.problem.errors).toEqual([
      { pointer: '/url', code: 'required', message: 'is required' },
    ]);
    const withoutProcessor = await send('POST', '/v1/processor-accounts', { credentials: {} });
    expect(withoutProcessor.problem.errors).toContainEqual(
      expect.objectContaining({ pointer: '/processor', code: 'required', message: 'is required' }),
    );
    const withoutCheckout = await send('POST', '/v1/payments', { payment_method: { type: 'invoice' } });
    expect(withoutCheckout.problem.errors).toContainEqual({
      pointer: '/checkout_id',
      code: 'required',
      message: 'is required',
    });
  });

  it('answers catalogue codes in the one message style for wrong types, ranges and values', async () => {
    const wrongType = await send('POST', '/v1/payments/pay_0/refunds', { amount: '100' });
    expect(wrongType.problem.errors).toEqual([
      {
        pointer: '/amount',
        code: 'invalid_type',
        message: expect.stringMatching(/^must be .*; got "100" \(a string\)$/),
      },
    ]);
    const tooMany = await send('POST', '/v1/webhook-endpoints', {
      url: 'https://hooks.example/kassa',
      enabled_events: ['*'],
      description: 'x'.repeat(5000),
    });
    expect(tooMany.problem.errors).toEqual([
      {
        pointer: '/description',
        code: 'too_long',
        message: expect.stringMatching(/^must be at most \d+ characters long; got 5000$/),
      },
    ]);
    const badValue = await send('POST', '/v1/processor-accounts', {
      processor: 'sandbox',
      credentials: {},
      payment_methods: ['cheque'],
    });
    expect(badValue.problem.errors).toEqual([
      {
        pointer: '/payment_methods/0',
        code: 'invalid_value',
        message: expect.stringMatching(/^must be one of: .*card.*; got "cheque" \(a string\)$/),
      },
    ]);
    const dateResponse = await fetch(`${t.baseUrl}/v1/events?created_gte=tomorrow`, {
      headers: merchant.headers,
    });
    const badDate = { problem: (await dateResponse.json()) as Problem };
    expect(badDate.problem.errors).toEqual([
      {
        pointer: '/query/created_gte',
        code: 'invalid_format',
        message: expect.stringMatching(
          /^must be a valid date-time \(ISO 8601\).*; got "tomorrow" \(a string\)$/,
        ),
      },
    ]);
    for (const result of [wrongType, tooMany, badValue, badDate]) {
      for (const error of result.problem.errors ?? []) expect(FIELD_ERROR_CODES).toContain(error.code);
      expect(result.problem.detail).not.toMatch(/Invalid input|Too big|Too small|Invalid option/);
    }
  });

  it('refuses unknown query parameters through the same mechanism', async () => {
    const response = await fetch(`${t.baseUrl}/v1/payment-links?limit=2&stauts=OPEN`, {
      headers: merchant.headers,
    });
    expect(response.status).toBe(422);
    const problem = (await response.json()) as Problem;
    expect(problem.errors).toEqual([
      { pointer: '/query/stauts', code: 'unknown_field', message: expect.stringContaining('limit') },
    ]);
  });

  it('lets a route that takes no body ignore one, whatever its type', async () => {
    const response = await send(
      'POST',
      '/v1/payments/pay_0/cancel',
      'reason=x',
      'application/x-www-form-urlencoded',
    );
    expect(response.status).toBe(404);
    expect(response.problem.code).toBe('not_found');
  });

  it('takes no body at all where /openapi.json marks the request body optional, and still 415s a form', async () => {
    type Operations = Record<string, Record<string, { requestBody?: { required?: boolean } }>>;
    const paths = ((await (await fetch(`${t.baseUrl}/openapi.json`)).json()) as { paths: Operations }).paths;
    const optional = Object.entries(paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => operation.requestBody?.required === false)
        .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
    );
    // Every body whose fields are all optional: captures, refunds, rolls, webhook tests, redeliveries, a new
    // OAuth client.
    expect(optional.map(({ method, path }) => `${method} ${path}`)).toEqual(
      expect.arrayContaining([
        'POST /v1/payments/{id}/capture',
        'POST /v1/payments/{id}/refunds',
        'POST /v1/merchant/signing-secret/roll',
        'POST /v1/webhook-endpoints/{id}/roll-secret',
        'POST /v1/webhook-endpoints/{id}/test',
        'POST /v1/events/{id}/redeliver',
        'POST /v1/oauth-clients',
      ]),
    );
    // Every other request body stays required.
    const required = Object.values(paths).flatMap((operations) =>
      Object.values(operations).filter((operation) => operation.requestBody?.required === true),
    );
    expect(required.length).toBeGreaterThan(10);
    for (const { method, path } of optional) {
      // An unknown id: past validation the route answers 404 (a create, 201); a body it needed would have been
      // a 422.
      const url = `${t.baseUrl}${path.replace(/\{[^}]+\}/g, 'x_0')}`;
      const bare = await fetch(url, { method, headers: merchant.headers });
      expect([200, 201, 404], `${method} ${path}: ${await bare.clone().text()}`).toContain(bare.status);
      const form = await send(
        method,
        path.replace(/\{[^}]+\}/g, 'x_0'),
        'a=1',
        'application/x-www-form-urlencoded',
      );
      expect(form.status, `${method} ${path}`).toBe(415);
    }
  });

  it('leaves the form body of the OAuth token route alone', async () => {
    const response = await fetch(`${t.baseUrl}/v1/oauth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: merchant.clientId,
        client_secret: merchant.clientSecret,
      }).toString(),
    });
    expect(response.status).toBe(200);
  });
});
