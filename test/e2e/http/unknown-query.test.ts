import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

describe('unknown query parameters on GET /v1 routes', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(() => t.close());

  const get = (url: string) => t.app.inject({ url, headers: merchant.headers });

  it('are a 422 validation_failed with one unknown_field error per parameter, pointing at it', async () => {
    const response = await get('/v1/orders?fields[]=order&stauts=OPEN&limit=5');
    expect(response.statusCode).toBe(422);
    const problem = expectProblem(response);
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors).toEqual([
      expect.objectContaining({ pointer: '/query/fields[]', code: 'unknown_field' }),
      expect.objectContaining({ pointer: '/query/stauts', code: 'unknown_field' }),
    ]);
    expect(problem.errors![0]!.message).toContain('limit');
  });

  it('are refused on routes that take no parameters, and escaped in the pointer', async () => {
    const response = await get('/v1/merchant?a/b~c=1');
    expect(response.statusCode).toBe(422);
    expect(expectProblem(response).errors).toEqual([
      {
        pointer: '/query/a~1b~0c',
        code: 'unknown_field',
        message: 'is not a parameter of this route (it takes none)',
      },
    ]);
  });

  it("leave every route's own parameters alone", async () => {
    for (const url of [
      '/v1/orders?limit=5',
      '/v1/checkouts?limit=2&status=OPEN',
      '/v1/events?type=payment.succeeded&created_gte=2026-01-01T00:00:00Z&order_id=ord_x',
      '/v1/webhook-endpoints?limit=1',
      '/v1/merchant',
    ]) {
      expect((await get(url)).statusCode, url).toBe(200);
    }
  });

  it('leave pages and system routes alone', async () => {
    expect((await t.app.inject({ url: '/healthz?probe=1' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/openapi.json?v=2' })).statusCode).toBe(200);
  });
});
