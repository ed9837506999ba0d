/**
 * /v1/customers over real HTTP (docs/customers.md): create, read, list, update, delete; the e-mail address as
 * the customer's identity (shared with checkouts); tenant and mode isolation; idempotent creation; scopes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scopedTokenHeaders } from '../../fixtures/scoped-token.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

let t: TestApp;
let merchant: TestMerchant;
let other: TestMerchant;
let live: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ listen: true });
  merchant = await t.createMerchant();
  other = await t.createMerchant({ name: 'Other Shop' });
  live = await t.createMerchant({ livemode: true, name: 'Live Shop' });
});
afterAll(async () => {
  await t.close();
});

type Customer = {
  id: string;
  object: string;
  customer_id: string;
  livemode: boolean;
  email: string;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  metadata: Record<string, unknown>;
  version: number;
  created_at: string;
  updated_at: string;
};
type List = { object: string; data: Customer[]; has_more: boolean; next_cursor: string | null };

type Answer = { statusCode: number; headers: Record<string, string>; body: string; json<T>(): T };

/** One real HTTP request to the listening gateway. */
async function call(
  method: 'POST' | 'GET' | 'PATCH' | 'DELETE',
  path: string,
  who: TestMerchant | { headers: { authorization: string } },
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: {
      ...who.headers,
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
  });
  const body = await response.text();
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body,
    json: <T>() => JSON.parse(body) as T,
  };
}

async function createOk(payload: Record<string, unknown>, who: TestMerchant = merchant): Promise<Customer> {
  const response = await call('POST', '/v1/customers', who, payload);
  expect(response.statusCode, response.body).toBe(201);
  return response.json<Customer>();
}

function pointers(response: Answer): string[] {
  return (expectProblem(response).errors ?? []).map((error) => error.pointer);
}

async function checkoutFor(email: string, who: TestMerchant = merchant) {
  const response = await call('POST', '/v1/checkouts', who, {
    completed_redirect_url: 'https://shop.example/done',
    canceled_redirect_url: 'https://shop.example/cart',
    order: {
      merchant_order_id: `o-${Math.random()}`,
      currency: 'EUR',
      country_code: 'DE',
      products: [{ id: 'p1', name: 'Mug', quantity: 1, unit_price: 1000 }],
      subtotal_amount: 1000,
      total_amount: 1000,
      customer: { email },
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{
    id: string;
    order: { id: string; customer: { id: string; email: string } | null };
  }>();
}

describe('POST /v1/customers', () => {
  it('creates a customer with its own fields, metadata and version 1', async () => {
    const customer = await createOk({
      email: 'ada@example.com',
      first_name: 'Ada',
      last_name: 'Lovelace',
      phone: '+44 20 7946 0018',
      metadata: { crm_id: 'C-1', vip: true, visits: 3 },
    });
    expect(customer).toMatchObject({
      object: 'customer',
      livemode: false,
      email: 'ada@example.com',
      first_name: 'Ada',
      last_name: 'Lovelace',
      phone: '+44 20 7946 0018',
      metadata: { crm_id: 'C-1', vip: true, visits: 3 },
      version: 1,
    });
    expect(customer.id).toMatch(/^cus_[0-9a-f]{44}$/);
    expect(customer.customer_id).toBe(customer.id);
    expect(customer.created_at).toBe(customer.updated_at);

    const read = await call('GET', `/v1/customers/${customer.id}`, merchant);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(customer);
  });

  it('a checkout with the same address (in another case) uses the created customer', async () => {
    const customer = await createOk({ email: 'Grace@Example.com', metadata: { source: 'crm' } });
    const checkout = await checkoutFor('grace@example.COM');
    expect(checkout.order.customer?.id).toBe(customer.id);
    // The checkout's upsert kept the merchant's metadata.
    const read = (await call('GET', `/v1/customers/${customer.id}`, merchant)).json<Customer>();
    expect(read.metadata).toEqual({ source: 'crm' });
  });

  it('a customer a checkout made is readable and listed', async () => {
    const checkout = await checkoutFor('from-checkout@example.com');
    const id = checkout.order.customer!.id;
    const read = await call('GET', `/v1/customers/${id}`, merchant);
    expect(read.statusCode).toBe(200);
    expect(read.json<Customer>()).toMatchObject({ id, email: 'from-checkout@example.com', metadata: {} });
    const listed = (
      await call('GET', '/v1/customers?email=FROM-checkout@example.com', merchant)
    ).json<List>();
    expect(listed.data.map((c) => c.id)).toEqual([id]);
  });

  it('an address another customer has is a 409 naming that customer', async () => {
    const first = await createOk({ email: 'taken@example.com' });
    const again = await call('POST', '/v1/customers', merchant, { email: 'TAKEN@example.com' });
    expect(again.statusCode).toBe(409);
    const problem = expectProblem(again) as { code: string; customer_id?: string };
    expect(problem.code).toBe('conflict');
    expect(problem.customer_id).toBe(first.id);
    // Another merchant, and the other mode, have customers of their own with that address.
    expect((await createOk({ email: 'taken@example.com' }, other)).id).not.toBe(first.id);
    expect((await createOk({ email: 'taken@example.com' }, live)).livemode).toBe(true);
  });

  it('refuses bad input with 422 and a pointer per field', async () => {
    const missing = await call('POST', '/v1/customers', merchant, { first_name: 'X' });
    expect(missing.statusCode).toBe(422);
    expect(pointers(missing)).toContain('/email');

    const bad = await call('POST', '/v1/customers', merchant, {
      email: 'not-an-address',
      phone: 'call me',
      first_name: '   ',
    });
    expect(bad.statusCode).toBe(422);
    expect(pointers(bad)).toEqual(expect.arrayContaining(['/email', '/phone', '/first_name']));

    const unknown = await call('POST', '/v1/customers', merchant, { email: 'u@example.com', emial: 'x' });
    expect(unknown.statusCode).toBe(422);
    expect(JSON.stringify(expectProblem(unknown))).toContain('emial');
  });

  it('refuses null metadata values and too many keys at creation', async () => {
    const withNull = await call('POST', '/v1/customers', merchant, {
      email: 'null-meta@example.com',
      metadata: { a: 'x', gone: null },
    });
    expect(withNull.statusCode).toBe(422);
    expect(pointers(withNull).some((pointer) => pointer.startsWith('/metadata'))).toBe(true);

    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    const big = await call('POST', '/v1/customers', merchant, {
      email: 'big@example.com',
      metadata: tooMany,
    });
    expect(big.statusCode).toBe(422);
    expect(pointers(big)).toContain('/metadata');

    const longKey = await call('POST', '/v1/customers', merchant, {
      email: 'long@example.com',
      metadata: { ['k'.repeat(41)]: 'v' },
    });
    expect(longKey.statusCode).toBe(422);
    const stored = await t.database.db.query('SELECT 1 FROM customers WHERE email_normalized = $1', [
      'null-meta@example.com',
    ]);
    expect(stored.rowCount).toBe(0);
  });

  it('replays an idempotent creation byte for byte and creates one customer', async () => {
    const key = `cus-create-${Date.now()}`;
    const payload = { email: 'idem@example.com', metadata: { n: 1 } };
    const first = await call('POST', '/v1/customers', merchant, payload, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    const replay = await call('POST', '/v1/customers', merchant, payload, { 'idempotency-key': key });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(first.body);
    const reused = await call(
      'POST',
      '/v1/customers',
      merchant,
      { email: 'idem-2@example.com' },
      { 'idempotency-key': key },
    );
    expect(reused.statusCode).toBe(422);
    expect(expectProblem(reused).code).toBe('idempotency_key_reused');
    const { rows } = await t.database.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM customers WHERE email_normalized LIKE 'idem%'",
    );
    expect(Number(rows[0]!.n)).toBe(1);
  });
});

describe('GET /v1/customers/{id}', () => {
  it("another merchant's or mode's customer answers 404, like a missing one", async () => {
    const customer = await createOk({ email: 'private@example.com' });
    for (const who of [other, live]) {
      const response = await call('GET', `/v1/customers/${customer.id}`, who);
      expect(response.statusCode).toBe(404);
      expect(expectProblem(response).code).toBe('not_found');
      expect(
        (await call('PATCH', `/v1/customers/${customer.id}`, who, { first_name: 'Eve' })).statusCode,
      ).toBe(404);
      expect((await call('DELETE', `/v1/customers/${customer.id}`, who)).statusCode).toBe(404);
    }
    const missing = await call('GET', `/v1/customers/cus_${'0'.repeat(32)}`, merchant);
    expect(missing.statusCode).toBe(404);
    // Untouched by the other merchant's attempts.
    expect((await call('GET', `/v1/customers/${customer.id}`, merchant)).json<Customer>().version).toBe(1);
  });

  it('refuses unknown query parameters', async () => {
    const customer = await createOk({ email: 'query@example.com' });
    const response = await call('GET', `/v1/customers/${customer.id}?foo=bar`, merchant);
    expect(response.statusCode).toBe(422);
    expect(pointers(response)).toEqual(['/query/foo']);
  });
});

describe('GET /v1/customers', () => {
  it('pages newest first in both directions, with created_* and email filters', async () => {
    const shop = await t.createMerchant({ name: 'Paging Shop' });
    const made: Customer[] = [];
    for (let i = 0; i < 5; i++) {
      made.push(await createOk({ email: `page-${i}@example.com` }, shop));
    }
    const newestFirst = [...made].reverse().map((c) => c.id);

    const first = (await call('GET', '/v1/customers?limit=2', shop)).json<List>();
    expect(first).toMatchObject({ object: 'list', has_more: true });
    expect(first.data.map((c) => c.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.next_cursor).toBe(newestFirst[1]);

    const second = (
      await call('GET', `/v1/customers?limit=2&starting_after=${first.next_cursor}`, shop)
    ).json<List>();
    expect(second.data.map((c) => c.id)).toEqual(newestFirst.slice(2, 4));
    const third = (
      await call('GET', `/v1/customers?limit=2&starting_after=${second.next_cursor}`, shop)
    ).json<List>();
    expect(third.data.map((c) => c.id)).toEqual(newestFirst.slice(4));
    expect(third).toMatchObject({ has_more: false, next_cursor: null });

    const back = (
      await call('GET', `/v1/customers?limit=2&ending_before=${newestFirst[4]}`, shop)
    ).json<List>();
    expect(back.data.map((c) => c.id)).toEqual(newestFirst.slice(2, 4));
    expect(back.has_more).toBe(true);

    const since = encodeURIComponent(made[3]!.created_at);
    const recent = (await call('GET', `/v1/customers?created_gte=${since}`, shop)).json<List>();
    expect(recent.data.map((c) => c.id)).toEqual(newestFirst.slice(0, 2));

    const byEmail = (await call('GET', '/v1/customers?email=PAGE-2@example.com', shop)).json<List>();
    expect(byEmail.data.map((c) => c.id)).toEqual([made[2]!.id]);

    // Nothing of another merchant's.
    const theirs = (await call('GET', '/v1/customers?email=page-2@example.com', merchant)).json<List>();
    expect(theirs.data).toEqual([]);
  });

  it("a cursor that is not one of this list's customers is a 400 invalid_cursor", async () => {
    const foreign = await createOk({ email: 'cursor@example.com' }, other);
    for (const cursor of [foreign.id, 'garbage', `chk_${'0'.repeat(32)}`]) {
      const response = await call('GET', `/v1/customers?starting_after=${cursor}`, merchant);
      expect(response.statusCode).toBe(400);
      expect(expectProblem(response).code).toBe('invalid_cursor');
    }
    const both = await call('GET', `/v1/customers?starting_after=a&ending_before=b`, merchant);
    expect(both.statusCode).toBe(422);
    expect(pointers(both)).toContain('/query/ending_before');
    const badDate = await call('GET', '/v1/customers?created_gte=yesterday', merchant);
    expect(badDate.statusCode).toBe(422);
    expect(pointers(badDate)).toContain('/query/created_gte');
  });
});

describe('PATCH /v1/customers/{id}', () => {
  it('merges fields and metadata, clears with null, and raises version only on a change', async () => {
    const customer = await createOk({
      email: 'patch@example.com',
      first_name: 'Pat',
      phone: '+1 555 0100',
      metadata: { a: 1, b: 'two', c: true },
    });
    const patched = await call('PATCH', `/v1/customers/${customer.id}`, merchant, {
      last_name: 'Smith',
      phone: null,
      metadata: { b: null, d: 'new' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const after = patched.json<Customer>();
    expect(after).toMatchObject({
      email: 'patch@example.com',
      first_name: 'Pat',
      last_name: 'Smith',
      phone: null,
      metadata: { a: 1, c: true, d: 'new' },
      version: 2,
    });
    expect(after.metadata).not.toHaveProperty('b');

    const same = await call('PATCH', `/v1/customers/${customer.id}`, merchant, {
      last_name: 'Smith',
      metadata: { a: 1 },
    });
    expect(same.json<Customer>()).toEqual(after);

    const cleared = await call('PATCH', `/v1/customers/${customer.id}`, merchant, { metadata: null });
    expect(cleared.json<Customer>()).toMatchObject({ metadata: {}, version: 3 });

    const read = (await call('GET', `/v1/customers/${customer.id}`, merchant)).json<Customer>();
    expect(read).toEqual(cleared.json());
  });

  it('changes the e-mail address; one another customer has is a 409', async () => {
    const a = await createOk({ email: 'move-a@example.com' });
    await createOk({ email: 'move-b@example.com' });
    const moved = await call('PATCH', `/v1/customers/${a.id}`, merchant, { email: 'move-c@example.com' });
    expect(moved.json<Customer>()).toMatchObject({ email: 'move-c@example.com', version: 2 });
    // The new address is the customer's identity for checkouts now.
    expect((await checkoutFor('MOVE-C@example.com')).order.customer?.id).toBe(a.id);

    const clash = await call('PATCH', `/v1/customers/${a.id}`, merchant, { email: 'Move-B@example.com' });
    expect(clash.statusCode).toBe(409);
    expect(expectProblem(clash).code).toBe('conflict');
  });

  it('refuses bad input with a pointer, and too many keys after the merge', async () => {
    const customer = await createOk({
      email: 'patch-bad@example.com',
      metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])),
    });
    const unknown = await call('PATCH', `/v1/customers/${customer.id}`, merchant, { nickname: 'x' });
    expect(unknown.statusCode).toBe(422);
    expect(JSON.stringify(expectProblem(unknown))).toContain('nickname');
    const nullEmail = await call('PATCH', `/v1/customers/${customer.id}`, merchant, { email: null });
    expect(nullEmail.statusCode).toBe(422);
    expect(pointers(nullEmail)).toContain('/email');
    const oneTooMany = await call('PATCH', `/v1/customers/${customer.id}`, merchant, {
      metadata: { extra: 'x' },
    });
    expect(oneTooMany.statusCode).toBe(422);
    expect(pointers(oneTooMany)).toContain('/metadata');
    // Removing one key makes room for another in the same patch.
    const swapped = await call('PATCH', `/v1/customers/${customer.id}`, merchant, {
      metadata: { k0: null, extra: 'x' },
    });
    expect(swapped.statusCode).toBe(200);
    expect(Object.keys(swapped.json<Customer>().metadata)).toHaveLength(50);
  });
});

describe('DELETE /v1/customers/{id}', () => {
  it('answers the deletion, then 404; saved cards go; past orders keep the customer; the address is free', async () => {
    const checkout = await checkoutFor('leaving@example.com');
    const customerId = checkout.order.customer!.id;
    // A card this customer saved earlier (as the hosted page stores one), to see deletion remove it.
    await t.database.db.query(
      `INSERT INTO saved_payment_methods (id, merchant_id, livemode, customer_id, card_brand, card_last4,
         card_exp_month, card_exp_year, card_fingerprint, card_encrypted)
       VALUES ($1, $2, false, $3, 'visa', '4242', 12, 2040, 'fp-leaving', '\\x0102'::bytea)`,
      [`pm_${'a'.repeat(32)}`, merchant.merchantId, customerId],
    );
    const cards = await call('GET', `/v1/customers/${customerId}/payment-methods`, merchant);
    expect(cards.json<List>().data).toHaveLength(1);

    const deleted = await call('DELETE', `/v1/customers/${customerId}`, merchant);
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toEqual({ id: customerId, object: 'customer', deleted: true });

    expect((await call('GET', `/v1/customers/${customerId}`, merchant)).statusCode).toBe(404);
    expect((await call('DELETE', `/v1/customers/${customerId}`, merchant)).statusCode).toBe(404);
    expect(
      (await call('PATCH', `/v1/customers/${customerId}`, merchant, { first_name: 'X' })).statusCode,
    ).toBe(404);
    expect((await call('GET', `/v1/customers/${customerId}/payment-methods`, merchant)).statusCode).toBe(404);
    const listed = (await call('GET', '/v1/customers?email=leaving@example.com', merchant)).json<List>();
    expect(listed.data).toEqual([]);

    const { rows } = await t.database.db.query<{ deleted_at: Date | null; card_encrypted: Buffer }>(
      'SELECT deleted_at, card_encrypted FROM saved_payment_methods WHERE customer_id = $1',
      [customerId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.deleted_at).not.toBeNull();
    expect(rows[0]!.card_encrypted.length).toBe(0);

    // The past checkout and order still show the customer.
    const order = await call('GET', `/v1/orders/${checkout.order.id}`, merchant);
    expect(order.statusCode).toBe(200);
    expect(order.json<{ customer: { id: string; email: string } }>().customer).toMatchObject({
      id: customerId,
      email: 'leaving@example.com',
    });

    // The address now makes a new customer, by checkout or by the API.
    const next = await checkoutFor('leaving@example.com');
    expect(next.order.customer!.id).not.toBe(customerId);
    const again = await call('POST', '/v1/customers', merchant, { email: 'leaving@example.com' });
    expect(again.statusCode).toBe(409);
    expect((expectProblem(again) as { customer_id?: string }).customer_id).toBe(next.order.customer!.id);
  });
});

describe('scopes', () => {
  async function tokenWith(scope: string): Promise<{ headers: { authorization: string } }> {
    return { headers: await scopedTokenHeaders(t, merchant, scope) };
  }

  it('customers:read reads and lists but cannot write; another scope can do neither', async () => {
    const customer = await createOk({ email: 'scoped@example.com' });
    const reader = await tokenWith('customers:read');
    expect((await call('GET', `/v1/customers/${customer.id}`, reader)).statusCode).toBe(200);
    expect((await call('GET', '/v1/customers', reader)).statusCode).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/v1/customers', { email: 'reader@example.com' }],
      ['PATCH', `/v1/customers/${customer.id}`, { first_name: 'R' }],
      ['DELETE', `/v1/customers/${customer.id}`, undefined],
    ] as const) {
      const refused = await call(method, path, reader, body);
      expect(refused.statusCode, `${method} ${path}`).toBe(403);
      expect(expectProblem(refused).code).toBe('insufficient_scope');
    }

    const checkoutsOnly = await tokenWith('checkouts');
    const refused = await call('GET', `/v1/customers/${customer.id}`, checkoutsOnly);
    expect(refused.statusCode).toBe(403);
    expect(expectProblem(refused).code).toBe('insufficient_scope');

    const writer = await tokenWith('customers');
    const patched = await call('PATCH', `/v1/customers/${customer.id}`, writer, { first_name: 'W' });
    expect(patched.statusCode).toBe(200);
    expect(
      (await call('GET', '/v1/customers', { headers: { authorization: 'Bearer nope' } })).statusCode,
    ).toBe(401);
  });
});
