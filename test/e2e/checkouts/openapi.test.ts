import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';

/** The routes of this feature appear in the generated OpenAPI document, with their schemas as components. */
describe('OpenAPI for checkouts, orders, payment methods and merchant settings', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await createTestApp();
  });
  afterAll(() => testApp.close());

  it('documents every route and the shared components', async () => {
    const response = await testApp.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json() as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(document.paths['/v1/checkouts'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(document.paths['/v1/checkouts/{id}'] ?? {}).sort()).toEqual(['get', 'patch', 'put']);
    expect(document.paths['/v1/checkouts/{id}/expire']).toHaveProperty('post');
    expect(document.paths['/v1/checkouts/{id}/payment-methods']).toHaveProperty('get');
    expect(Object.keys(document.paths['/v1/orders/{id}'] ?? {}).sort()).toEqual(['get', 'patch']);
    expect(document.paths['/v1/orders']).toHaveProperty('get');
    expect(document.paths['/v1/payment-method-settings']).toHaveProperty('get');
    expect(Object.keys(document.paths['/v1/payment-method-settings/{method}'] ?? {}).sort()).toEqual([
      'patch',
      'put',
    ]);
    expect(document.paths['/v1/merchant']).toHaveProperty('patch');
    for (const component of [
      'Checkout',
      'Order',
      'Customer',
      'CreateCheckout',
      'OrderContent',
      'PaymentMethodSetting',
      'PaymentMethodEligibility',
    ]) {
      expect(document.components.schemas, component).toHaveProperty(component);
    }
  });
});
