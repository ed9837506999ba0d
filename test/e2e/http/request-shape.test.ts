import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_DEPTH } from '../../../src/http/plugins/request-shape.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

/** Bodies, queries and paths no handler should see are refused before validation (http/plugins/request-shape.ts). */
describe('request shape limits', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a body nested deeper than the limit with invalid_request', async () => {
    let body: unknown = 'leaf';
    for (let depth = 0; depth <= MAX_BODY_DEPTH; depth++) body = { nested: body };
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: { ...merchant.headers, 'idempotency-key': 'shape-deep' },
      payload: body as Record<string, unknown>,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('invalid_request');
  });

  it('points at text PostgreSQL cannot store, in the body and in the query', async () => {
    const inBody = await t.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: { ...merchant.headers, 'idempotency-key': 'shape-nul', 'content-type': 'application/json' },
      payload: '{"order":{"merchant_order_id":"A\\u0000B"}}',
    });
    expect(inBody.statusCode).toBe(422);
    expect(JSON.stringify(inBody.json())).toContain('/order/merchant_order_id');
    expect(JSON.stringify(inBody.json())).toContain('invalid_characters');

    const inQuery = await t.app.inject({
      method: 'GET',
      url: '/v1/checkouts?limit=%00',
      headers: merchant.headers,
    });
    expect(inQuery.statusCode).toBe(422);
    expect(JSON.stringify(inQuery.json())).toContain('/query/limit');
  });
});
