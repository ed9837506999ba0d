import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { seedCheckoutRequest } from './checkout-fixtures.ts';

/** Idempotency-Key on POST /v1/checkouts, with real parallel HTTP requests against PostgreSQL. */
describe('POST /v1/checkouts with Idempotency-Key', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp({ listen: true, poolMax: 30 });
    merchant = await testApp.createMerchant();
  });
  afterAll(() => testApp.close());

  async function post(key: string, body: unknown = seedCheckoutRequest()) {
    const response = await fetch(`${testApp.baseUrl}/v1/checkouts`, {
      method: 'POST',
      headers: { ...merchant.headers, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      replayed: response.headers.get('idempotent-replayed'),
      text: await response.text(),
    };
  }

  async function countRows(table: 'checkouts' | 'orders' | 'customers' | 'events') {
    const { rows } = await testApp.database.db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM ${table} WHERE merchant_id = $1`,
      [merchant.merchantId],
    );
    return rows[0]!.count;
  }

  it('20 parallel requests with one key create exactly one checkout', async () => {
    const key = `parallel-${Date.now()}`;
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(key)));

    const created = responses.filter((response) => response.status === 201);
    const inUse = responses.filter((response) => response.status === 409);
    expect(created.length + inUse.length).toBe(20);
    expect(created.length).toBeGreaterThanOrEqual(1);
    // Every 201 is the same checkout (the first answer, or its byte-for-byte replay).
    expect(new Set(created.map((response) => JSON.parse(response.text).checkout_id)).size).toBe(1);
    expect(new Set(created.map((response) => response.text)).size).toBe(1);
    for (const response of inUse) expect(JSON.parse(response.text).code).toBe('idempotency_key_in_use');

    expect(await countRows('checkouts')).toBe(1);
    expect(await countRows('orders')).toBe(1);
    expect(await countRows('events')).toBe(2); // checkout.created + order.created, once

    // Afterwards the key replays the stored answer — including the one-time client token.
    const replay = await post(key);
    expect(replay.status).toBe(201);
    expect(replay.replayed).toBe('true');
    expect(replay.text).toBe(created[0]!.text);
    expect(await countRows('checkouts')).toBe(1);
  });

  it('the same key with another body is refused; a failed validation stores nothing', async () => {
    const key = `reuse-${Date.now()}`;
    const bad = seedCheckoutRequest();
    bad.order.total_amount = 1; // does not add up
    const refused = await post(key, bad);
    expect(refused.status).toBe(422);

    // Validation failures are not stored: the key is still free for the corrected request.
    const first = await post(key);
    expect(first.status).toBe(201);
    const other = seedCheckoutRequest();
    other.order.merchant_order_id = 'another-order';
    const reused = await post(key, other);
    expect(reused.status).toBe(422);
    expect(JSON.parse(reused.text).code).toBe('idempotency_key_reused');
    expectProblem({
      statusCode: reused.status,
      headers: { 'content-type': 'application/problem+json' },
      body: reused.text,
    });
  });

  it('different keys create different checkouts', async () => {
    const before = await countRows('checkouts');
    const [a, b] = await Promise.all([post(`a-${Date.now()}`), post(`b-${Date.now()}`)]);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(JSON.parse(a.text).checkout_id).not.toBe(JSON.parse(b.text).checkout_id);
    expect(await countRows('checkouts')).toBe(before + 2);
  });
});
