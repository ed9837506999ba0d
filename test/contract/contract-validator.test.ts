import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import {
  checkProblemDocument,
  createContractValidator,
  type ContractValidator,
  type OpenApiDocument,
} from '../fixtures/openapi-contract.ts';
import { checkoutRequest, simpleOrder } from '../e2e/checkouts/checkout-fixtures.ts';
import { cardMethod } from '../e2e/payments/payment-fixtures.ts';

/**
 * The contract checker that every e2e test runs through `createTestApp` must itself be able to fail: real
 * responses pass, and the same responses bent out of shape (a wrong type, a missing member, an unknown status,
 * an error that is not a problem document) are caught.
 */
describe('the OpenAPI contract checker', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let validator: ContractValidator;

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
    validator = createContractValidator(document);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function createdCheckout() {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: { ...merchant.headers, 'idempotency-key': `contract-${Math.random()}` },
      payload: checkoutRequest(simpleOrder('EUR', 'DE', 1500)),
    });
    expect(response.statusCode).toBe(201);
    return response;
  }

  const check = (body: unknown, overrides: Partial<Parameters<ContractValidator['check']>[0]> = {}) =>
    validator.check({
      method: 'POST',
      routeUrl: '/v1/checkouts',
      status: 201,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify(body),
      ...overrides,
    });

  it('accepts real responses, and the app recorded no violation for them', async () => {
    const response = await createdCheckout();
    expect(check(response.json())).toEqual([]);
    const list = await t.app.inject({ method: 'GET', url: '/v1/checkouts', headers: merchant.headers });
    expect(
      validator.check({
        method: 'GET',
        routeUrl: '/v1/checkouts',
        status: 200,
        contentType: list.headers['content-type'],
        body: list.body,
      }),
    ).toEqual([]);
    expect(t.contractViolations).toEqual([]);
  });

  it('catches a wrong type, a missing required member, a bad enum value and a bad date-time', async () => {
    const checkout = (await createdCheckout()).json<
      Record<string, unknown> & { order: Record<string, unknown> }
    >();
    expect(check({ ...checkout, order: { ...checkout.order, total_amount: '15.00' } }).join()).toMatch(
      /total_amount/,
    );
    const { checkout_id: _omitted, ...withoutId } = checkout;
    expect(check(withoutId).join()).toMatch(/checkout_id/);
    expect(check({ ...checkout, status: 'PAID' }).join()).toMatch(/\/status/);
    const paid = await t.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: merchant.headers,
      payload: { checkout_id: checkout.checkout_id, payment_method: cardMethod() },
    });
    expect(paid.statusCode).toBe(201);
    const payment = paid.json<Record<string, unknown>>();
    const checkPayment = (body: unknown) =>
      validator.check({
        method: 'GET',
        routeUrl: '/v1/payments/:id',
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify(body),
      });
    expect(checkPayment(payment)).toEqual([]);
    expect(checkPayment({ ...payment, created_at: 'yesterday' }).join()).toMatch(/created_at/);
    expect(checkPayment({ ...payment, card: { brand: 'visa' } }).join()).toMatch(/\/card/);
  });

  it('catches an undocumented success status and a non-JSON body where JSON is documented', async () => {
    const checkout = (await createdCheckout()).json();
    expect(check(checkout, { status: 200 }).join()).toMatch(/not documented/);
    expect(check(checkout, { contentType: 'text/html' }).join()).toMatch(/not documented/);
  });

  it('requires every error to be a problem document whose status and code agree with the catalogue', () => {
    const problem = {
      type: 'https://kassa.dev/errors/not_found',
      title: 'The resource does not exist',
      status: 404,
      detail: 'No checkout with id x',
      code: 'not_found',
    };
    const error = (body: unknown, status = 404, contentType = 'application/problem+json') =>
      validator.check({
        method: 'GET',
        routeUrl: '/v1/checkouts/:id',
        status,
        contentType,
        body: JSON.stringify(body),
      });
    expect(error(problem)).toEqual([]);
    expect(error(problem, 404, 'application/json').join()).toMatch(/not application\/problem\+json/);
    expect(error({ ...problem, status: 400 }).join()).toMatch(/≠ HTTP 404/);
    expect(error({ ...problem, code: 'no_such_code' }).join()).toMatch(/not in the catalogue/);
    expect(
      error({ ...problem, code: 'conflict', title: 'The request conflicts with the current state' }).join(),
    ).toMatch(/belongs to status 409/);
    expect(error({ ...problem, errors: [{ pointer: 'order', code: 'x', message: 'y' }] }).join()).toMatch(
      /errors\[0\]/,
    );
    expect(
      checkProblemDocument({ ...problem, detail: 'at handler (/srv/app/src/x.ts:10:5)' }, 404).join(),
    ).toMatch(/stack/);
  });

  it('checks the token endpoint against its RFC 6749 error schema instead', () => {
    const tokenError = (body: unknown, status = 401) =>
      validator.check({
        method: 'POST',
        routeUrl: '/v1/oauth/tokens',
        status,
        contentType: 'application/json',
        body: JSON.stringify(body),
      });
    expect(
      tokenError({ error: 'invalid_client', error_description: 'Client authentication failed', status: 401 }),
    ).toEqual([]);
    expect(tokenError({ message: 'nope' }).length).toBeGreaterThan(0);
  });
});
