/**
 * `expand[]` on `GET /v1/payments/{id}` over real HTTP (docs/api-conventions.md §6): the order and the checkout
 * next to their ids; an unknown path is a 422 at `/query/expand/<index>`; each expansion needs its own read scope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scopedTokenHeaders } from '../../fixtures/scoped-token.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { authorizedPayment, type PaymentJson } from '../payments/payment-fixtures.ts';

let t: TestApp;
let merchant: TestMerchant;
let payment: PaymentJson;

beforeAll(async () => {
  t = await createTestApp({ listen: true });
  merchant = await t.createMerchant();
  payment = await authorizedPayment(t, merchant, { capture: 'manual' });
});
afterAll(async () => {
  await t.close();
});

async function get(path: string, headers: Record<string, string> = merchant.headers) {
  const response = await fetch(`${t.baseUrl}${path}`, { headers });
  const body = await response.text();
  return { statusCode: response.status, headers: Object.fromEntries(response.headers.entries()), body };
}

type Expanded = {
  id: string;
  order_id: string;
  checkout_id: string;
  order?: { id: string; object: string; total_amount: number };
  checkout?: { id: string; object: string; order: { id: string } };
};

describe('GET /v1/payments/{id}?expand[]=…', () => {
  it('without expand[] the payment has ids only', async () => {
    const plain = await get(`/v1/payments/${payment.id}`);
    expect(plain.statusCode).toBe(200);
    const body = JSON.parse(plain.body) as Expanded;
    expect(body.order_id).toMatch(/^ord_/);
    expect(body).not.toHaveProperty('order');
    expect(body).not.toHaveProperty('checkout');
  });

  it('adds the order and the checkout next to their ids, the same objects their own GETs answer', async () => {
    const answer = await get(`/v1/payments/${payment.id}?expand[]=order&expand[]=checkout`);
    expect(answer.statusCode, answer.body).toBe(200);
    const body = JSON.parse(answer.body) as Expanded;
    expect(body.order_id).toBe(body.order?.id);
    expect(body.checkout_id).toBe(body.checkout?.id);
    expect(body.order?.object).toBe('order');
    expect(body.checkout?.object).toBe('checkout');
    const order = JSON.parse((await get(`/v1/orders/${body.order_id}`)).body) as object;
    expect(body.order).toEqual(order);
    const checkout = JSON.parse((await get(`/v1/checkouts/${body.checkout_id}`)).body) as object;
    expect(body.checkout).toEqual(checkout);

    const one = JSON.parse((await get(`/v1/payments/${payment.id}?expand[]=order`)).body) as Expanded;
    expect(one.order?.id).toBe(body.order_id);
    expect(one).not.toHaveProperty('checkout');
  });

  it('an unknown path is a 422 pointing at its index', async () => {
    const answer = await get(`/v1/payments/${payment.id}?expand[]=order&expand[]=customer`);
    expect(answer.statusCode).toBe(422);
    const problem = expectProblem(answer);
    expect(problem.errors?.map((error) => error.pointer)).toEqual(['/query/expand/1']);
    const tooMany = await get(`/v1/payments/${payment.id}?${Array(11).fill('expand[]=order').join('&')}`);
    expect(tooMany.statusCode).toBe(422);
    expect(expectProblem(tooMany).errors?.map((error) => error.pointer)).toEqual(['/query/expand']);
  });

  it('is refused on a route that expands nothing', async () => {
    const answer = await get('/v1/webhook-endpoints?expand[]=data.checkout');
    expect(answer.statusCode).toBe(422);
    expect(expectProblem(answer).errors?.[0]?.pointer).toBe('/query/expand[]');
  });

  it('needs the read scope of what it expands', async () => {
    const headers = await scopedTokenHeaders(t, merchant, 'payments:read');
    expect((await get(`/v1/payments/${payment.id}`, headers)).statusCode).toBe(200);
    const refused = await get(`/v1/payments/${payment.id}?expand[]=order`, headers);
    expect(refused.statusCode).toBe(403);
    expect(expectProblem(refused).code).toBe('insufficient_scope');
  });
});

describe('GET /v1/captures/{id} and /v1/refunds/{id} ?expand[]=payment', () => {
  it('adds the payment after the operation, as GET /v1/payments/{id} answers it', async () => {
    const paid = await authorizedPayment(t, merchant, { capture: 'manual' });
    const captured = await fetch(`${t.baseUrl}/v1/payments/${paid.id}/capture`, {
      method: 'POST',
      headers: { ...merchant.headers, 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(captured.status).toBe(201);
    const captureId = ((await captured.json()) as { id: string }).id;
    const refunded = await fetch(`${t.baseUrl}/v1/payments/${paid.id}/refunds`, {
      method: 'POST',
      headers: { ...merchant.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 100 }),
    });
    expect(refunded.status).toBe(201);
    const refundId = ((await refunded.json()) as { id: string }).id;
    const current = JSON.parse((await get(`/v1/payments/${paid.id}`)).body) as object;

    for (const path of [`/v1/captures/${captureId}`, `/v1/refunds/${refundId}`]) {
      const plain = JSON.parse((await get(path)).body) as object;
      expect(plain).not.toHaveProperty('payment');
      const expanded = await get(`${path}?expand[]=payment`);
      expect(expanded.statusCode, expanded.body).toBe(200);
      expect(JSON.parse(expanded.body)).toEqual({ ...plain, payment: current });
      const unknown = await get(`${path}?expand[]=order`);
      expect(unknown.statusCode).toBe(422);
      expect(expectProblem(unknown).errors?.map((error) => error.pointer)).toEqual(['/query/expand/0']);
    }
  });
});
