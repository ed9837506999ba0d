import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCheckoutScope } from '../../../src/modules/checkouts/checkout.repository.ts';
import {
  verifyClientToken,
  verifyCheckoutUrlSignature,
} from '../../../src/modules/checkouts/checkout.tokens.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  checkoutRequest,
  createCheckout,
  seedCheckoutRequest,
  simpleOrder,
  type CheckoutJson,
} from './checkout-fixtures.ts';

/** The redirect-checkout flow's response to the create call, verbatim: our response must carry every one of its fields. */
const SEED_RESPONSE = {
  checkout_id: 'chk_e69283cb55814402b9372a2f834cc8a8',
  checkout_redirect_url:
    'https://checkout.dev.orkesta.io/#/checkout/chk_e69283cb55814402b9372a2f834cc8a8/6f2d8077c669f0512cb655c1f2d19b3cc020f5fd8b17152e0d3de675575e8f69',
  completed_redirect_url: 'https://example.com/complete',
  canceled_redirect_url: 'https://example.com/cancel',
  allow_save_payment_methods: false,
  locale: 'ES_LATAM',
  placed_at: '1713480514319',
  order: {
    order_id: 'ord_a73c91e6f6f949a3a39c9557f353d308',
    status: 'CREATED',
    expires_at: '1713566914212',
    merchant_order_id: '1366656595193',
    country: 'México',
    country_code: 'MX',
    currency: 'MXN',
    taxes: [],
    discounts: [{ amount: 10 }],
    subtotal_amount: 1000,
    total_amount: 990,
    products: [
      {
        product_id: '7197',
        quantity: 1,
        unit_price: 1000,
        name: 'Pantalla TCL Smart TV Serie A3 A343 HD Android TV 40',
      },
    ],
    customer: {
      customer_id: 'cus_414bae1120844159bf10f1d6c7b30d74',
      first_name: 'John',
      last_name: 'Doe',
      email: '[email protected]',
      created_at: '1713480514197',
      updated_at: '1713480514197',
    },
    placed_at: '1713480514267',
    metadata: {},
  },
};

const SEED_TIMESTAMP_FIELDS = new Set(['placed_at', 'expires_at', 'created_at', 'updated_at']);
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Every key of `expected` (recursively, arrays by their first element) exists in `actual` with the same JSON type. */
function expectSameFields(expected: unknown, actual: unknown, path = ''): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} is an array`).toBe(true);
    if (expected.length > 0) expectSameFields(expected[0], (actual as unknown[])[0], `${path}/0`);
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', `${path} is an object`).toBe(true);
    for (const [key, value] of Object.entries(expected)) {
      const child = (actual as Record<string, unknown>)[key];
      expect(child, `${path}/${key} is present`).not.toBeUndefined();
      if (SEED_TIMESTAMP_FIELDS.has(key))
        expect(child, `${path}/${key} is RFC 3339 UTC`).toMatch(RFC3339_UTC);
      else expectSameFields(value, child, `${path}/${key}`);
    }
    return;
  }
  expect(typeof actual, `${path} has the seed's type`).toBe(typeof expected);
}

describe('POST /v1/checkouts', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant();
  });
  afterAll(() => testApp.close());

  it("accepts the redirect-checkout flow's request as written and answers with every field of the redirect-checkout flow's response", async () => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: merchant.headers,
      payload: seedCheckoutRequest(),
    });
    expect(response.statusCode).toBe(201);
    const body = response.json() as CheckoutJson;
    expectSameFields(SEED_RESPONSE, body);

    // The seed's values, where they are not ids or times.
    expect(body).toMatchObject({
      object: 'checkout',
      livemode: false,
      status: 'OPEN',
      completed_redirect_url: 'https://example.com/complete',
      canceled_redirect_url: 'https://example.com/cancel',
      allow_save_payment_methods: false,
      locale: 'ES_LATAM',
      capture_mode: 'automatic',
      payment_methods: null,
      metadata: {},
      order: {
        object: 'order',
        status: 'CREATED',
        merchant_order_id: '1366656595193',
        // English, whatever the locale (docs/api-conventions.md#4); the seed's own answer said "México".
        country: 'Mexico',
        country_code: 'MX',
        currency: 'MXN',
        taxes: [],
        discounts: [{ amount: 10 }],
        subtotal_amount: 1000,
        shipping_amount: 0,
        total_amount: 990,
        products: [
          {
            id: '7197',
            product_id: '7197',
            quantity: 1,
            unit_price: 1000,
            name: 'Pantalla TCL Smart TV Serie A3 A343 HD Android TV 40',
          },
        ],
        customer: {
          object: 'customer',
          livemode: false,
          first_name: 'John',
          last_name: 'Doe',
          email: 'john.doe@example.com',
          phone: null,
        },
        authorized_amount: 0,
        captured_amount: 0,
        refunded_amount: 0,
        metadata: {},
        version: 1,
      },
      version: 1,
    });
    expect(body.checkout_id).toMatch(/^chk_[0-9a-f]{44}$/);
    expect(body.order.order_id).toMatch(/^ord_[0-9a-f]{44}$/);
    expect(body.order.customer?.customer_id).toMatch(/^cus_[0-9a-f]{44}$/);
    // Canonical `id` and `created_at` beside the documented aliases, always equal (docs/api-conventions.md#2).
    expect(body.id).toBe(body.checkout_id);
    expect(body.created_at).toBe(body.placed_at);
    expect(body.order.id).toBe(body.order.order_id);
    expect(body.order.created_at).toBe(body.order.placed_at);
    expect(body.order.customer?.id).toBe(body.order.customer?.customer_id);
    expect(body).not.toHaveProperty('capture');
    expect(body.client_token).toMatch(/^ct_[A-Za-z0-9_-]{43}$/);

    // Seed-style redirect URL: /pay/{id}/{64 hex signature}, verifiable, and not forgeable by editing.
    const match = new RegExp(`^${testApp.baseUrl}/pay/(chk_[0-9a-f]{44})/([0-9a-f]{64})$`).exec(
      body.checkout_redirect_url,
    );
    expect(match?.[1]).toBe(body.checkout_id);
    const signature = match![2]!;
    expect(verifyCheckoutUrlSignature(testApp.services.keyring, body.checkout_id, signature)).toBe(true);
    const tampered = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
    expect(verifyCheckoutUrlSignature(testApp.services.keyring, body.checkout_id, tampered)).toBe(false);
    const other = await createCheckout(testApp, merchant);
    expect(verifyCheckoutUrlSignature(testApp.services.keyring, other.checkout_id, signature)).toBe(false);

    // Lifetime: the merchant's default (24 h); the order carries the session's deadline.
    const placed = Date.parse(body.placed_at);
    expect(Date.parse(body.expires_at) - placed).toBe(86_400_000);
    expect(body.order.expires_at).toBe(body.expires_at);
  });

  it('answers the creation with exactly what a later GET reads from the database (no field read back)', async () => {
    // The create path writes session and order in one statement and presents what it wrote; this pins that
    // it matches the rows, column defaults and the stored customer included.
    const bodies = [
      seedCheckoutRequest(),
      checkoutRequest(
        {
          ...simpleOrder('KWD', 'KW', 12_345, 'kwd-1'),
          taxes: [{ amount: 0, description: 'VAT 0 %' }],
          metadata: { cart: 'c-7', gift: true, items: 3 },
          customer: { email: 'New.Shopper@Example.com', first_name: 'Ana', phone: '+4512345678' },
        },
        {
          capture_mode: 'manual',
          locale: 'DA',
          payment_methods: ['card'],
          expires_in_seconds: 900,
          metadata: { channel: 'web', attempt: 2 },
          callbacks: { ok: 'https://shop.example/ok', notification: 'https://shop.example/notify' },
        },
      ),
    ];
    for (const body of [...bodies, bodies[1]]) {
      const created = await createCheckout(testApp, merchant, body);
      const read = await testApp.app.inject({
        method: 'GET',
        url: `/v1/checkouts/${created.checkout_id}`,
        headers: merchant.headers,
      });
      expect(read.statusCode).toBe(200);
      const { client_token: clientToken, ...withoutToken } = created;
      expect(clientToken).toMatch(/^ct_/);
      const keys = Object.keys(created);
      expect(keys[keys.indexOf('checkout_redirect_url') + 1]).toBe('client_token');
      expect(read.json()).toEqual(withoutToken);
    }
  });

  it('stores the client token only as a digest and never returns it again', async () => {
    const created = await createCheckout(testApp, merchant);
    const { rows } = await testApp.database.db.query<{ digest: Buffer }>(
      'SELECT client_token_sha256 AS digest FROM checkouts WHERE id = $1',
      [created.checkout_id],
    );
    expect(rows[0]!.digest).toHaveLength(32);
    const { rows: leaks } = await testApp.database.db.query(
      `SELECT 1 FROM checkouts WHERE row_to_json(checkouts)::text LIKE '%' || $1 || '%'`,
      [created.client_token],
    );
    expect(leaks).toHaveLength(0);
    const fetched = await testApp.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${created.checkout_id}`,
      headers: merchant.headers,
    });
    expect(fetched.statusCode).toBe(200);
    const { client_token: _omitted, ...withoutToken } = created;
    expect(fetched.json()).toEqual(withoutToken);
  });

  it('resolves a client token and a bare checkout id to their merchant and mode (for the hosted page and SDK)', async () => {
    const created = await createCheckout(testApp, merchant);
    const scope = { merchantId: merchant.merchantId, livemode: false };
    expect(await verifyClientToken(testApp.database.db, created.client_token!)).toEqual({
      checkoutId: created.checkout_id,
      ...scope,
    });
    expect(
      await verifyClientToken(
        testApp.database.db,
        `${created.client_token!.slice(0, -1)}${created.client_token!.endsWith('A') ? 'B' : 'A'}`,
      ),
    ).toBeUndefined();
    expect(await verifyClientToken(testApp.database.db, 'ct_short')).toBeUndefined();
    expect(await findCheckoutScope(testApp.database.db, created.checkout_id)).toEqual(scope);
    expect(
      await findCheckoutScope(testApp.database.db, 'chk_00000000000000000000000000000000'),
    ).toBeUndefined();
  });

  it('writes checkout.created and order.created in the same transaction, with amounts and versions', async () => {
    const created = await createCheckout(testApp, merchant);
    const { rows } = await testApp.database.db.query<{
      type: string;
      object_id: string;
      object_version: number;
      data: Record<string, unknown>;
    }>('SELECT type, object_id, object_version, data FROM events WHERE checkout_id = $1 ORDER BY seq', [
      created.checkout_id,
    ]);
    expect(rows.map((row) => row.type)).toEqual(['checkout.created', 'order.created']);
    expect(rows[0]).toMatchObject({ object_id: created.checkout_id, object_version: 1 });
    expect(rows[0]!.data).toMatchObject({
      checkout_id: created.checkout_id,
      status: 'OPEN',
      version: 1,
      metadata: {},
    });
    expect(rows[0]!.data).not.toHaveProperty('client_token');
    expect(rows[1]).toMatchObject({ object_id: created.order.order_id, object_version: 1 });
    expect(rows[1]!.data).toMatchObject({
      total_amount: 990,
      subtotal_amount: 1000,
      currency: 'MXN',
      status: 'CREATED',
      version: 1,
    });
  });

  it('reuses one customer per merchant and e-mail (case-insensitively), and keeps merchants apart', async () => {
    const first = await createCheckout(testApp, merchant);
    const again = seedCheckoutRequest();
    again.order.customer = { first_name: 'Johnny', last_name: 'Doe', email: 'John.Doe@Example.com' };
    const second = await createCheckout(testApp, merchant, again);
    expect(second.order.customer!.customer_id).toBe(first.order.customer!.customer_id);
    expect(second.order.customer!.first_name).toBe('Johnny');

    const otherMerchant = await testApp.createMerchant({ name: 'Other' });
    const third = await createCheckout(testApp, otherMerchant);
    expect(third.order.customer!.customer_id).not.toBe(first.order.customer!.customer_id);
  });

  it('takes the checkout settings from the request: capture, lifetime, locale, methods, callbacks, metadata', async () => {
    const created = await createCheckout(
      testApp,
      merchant,
      checkoutRequest(simpleOrder('DKK', 'DK', 12_500), {
        locale: 'da-DK',
        capture_mode: 'manual',
        expires_in_seconds: 900,
        payment_methods: ['card', 'invoice'],
        allow_save_payment_methods: true,
        callbacks: { ok: 'https://shop.example/cb/ok', notification: 'https://shop.example/cb/notify' },
        metadata: { cart: 'c-42', items: 3, gift: false },
      }),
    );
    expect(created).toMatchObject({
      locale: 'da-DK',
      capture_mode: 'manual',
      payment_methods: ['card', 'invoice'],
      allow_save_payment_methods: true,
      callbacks: { ok: 'https://shop.example/cb/ok', notification: 'https://shop.example/cb/notify' },
      metadata: { cart: 'c-42', items: 3, gift: false },
      order: { country: 'Denmark', customer: null },
    });
    // The event's data too: data never depends on the display language.
    const { rows } = await testApp.database.db.query<{ data: { order: { country: string } } }>(
      `SELECT data FROM events WHERE checkout_id = $1 AND type = 'checkout.created'`,
      [created.checkout_id],
    );
    expect(rows.map((row) => row.data.order.country)).toEqual(['Denmark']);
    expect(Date.parse(created.expires_at) - Date.parse(created.placed_at)).toBe(900_000);
  });

  it("falls back to the merchant's defaults, and a null callback switches a default off", async () => {
    const patched = await testApp.app.inject({
      method: 'PATCH',
      url: '/v1/merchant',
      headers: merchant.headers,
      payload: {
        default_locale: 'DA',
        default_capture_mode: 'manual',
        default_session_lifetime_seconds: 3600,
        default_callbacks: {
          ok: 'https://shop.example/default-ok',
          fail: 'https://shop.example/default-fail',
        },
      },
    });
    expect(patched.statusCode).toBe(200);
    const created = await createCheckout(
      testApp,
      merchant,
      checkoutRequest(simpleOrder('EUR', 'DE', 5_000), {
        callbacks: { fail: null, open: 'https://shop.example/open' },
      }),
    );
    expect(created).toMatchObject({
      // No locale asked for: the pages follow the shopper, then the merchant's default (DA) — which does not
      // translate the country: data never depends on the display language.
      locale: null,
      capture_mode: 'manual',
      callbacks: { ok: 'https://shop.example/default-ok', open: 'https://shop.example/open' },
      order: { country: 'Germany' },
    });
    expect(created.callbacks).not.toHaveProperty('fail');
    expect(Date.parse(created.expires_at) - Date.parse(created.placed_at)).toBe(3_600_000);
  });

  it('refuses unknown fields, bad locales, lifetimes and method lists with pointers', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...seedCheckoutRequest(), shiping_amount: 5 }, '/shiping_amount'],
      [{ ...seedCheckoutRequest(), locale: 'es_MX' }, '/locale'],
      [{ ...seedCheckoutRequest(), expires_in_seconds: 30 }, '/expires_in_seconds'],
      [{ ...seedCheckoutRequest(), expires_in_seconds: 31 * 24 * 3600 }, '/expires_in_seconds'],
      [{ ...seedCheckoutRequest(), payment_methods: ['card', 'card'] }, '/payment_methods'],
      [{ ...seedCheckoutRequest(), payment_methods: ['paypal'] }, '/payment_methods/0'],
      [{ ...seedCheckoutRequest(), capture_mode: 'later' }, '/capture_mode'],
      [{ ...seedCheckoutRequest(), metadata: { nested: { a: 1 } } }, '/metadata/nested'],
    ];
    for (const [payload, pointer] of cases) {
      const response = await testApp.app.inject({
        method: 'POST',
        url: '/v1/checkouts',
        headers: merchant.headers,
        payload,
      });
      expect(response.statusCode, JSON.stringify(payload)).toBe(422);
      const problem = expectProblem(response);
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors?.map((error) => error.pointer)).toContain(pointer);
    }
  });

  it('takes the capture mode as capture_mode only: the old name capture is an unknown field', async () => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: merchant.headers,
      payload: { ...seedCheckoutRequest(), capture: 'manual' },
    });
    expect(response.statusCode).toBe(422);
    const problem = expectProblem(response);
    expect(problem.code).toBe('validation_failed');
    expect(JSON.stringify(problem.errors)).toMatch(/\bcapture\b/);
  });

  it('requires merchant credentials', async () => {
    const anonymous = await testApp.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      payload: seedCheckoutRequest(),
    });
    expect(anonymous.statusCode).toBe(401);
    expect(expectProblem(anonymous).code).toBe('authentication_required');
  });
});
