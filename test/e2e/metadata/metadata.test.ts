/**
 * `metadata` by the one rule of docs/api-conventions.md (Metadata), over real HTTP: a null value is refused at
 * creation (there is nothing to remove yet) on every object that takes metadata; webhook endpoints and payments take it at
 * creation and merge it in PATCH (a null value removes its key, null removes every key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { linkRequest } from '../payment-links/payment-link-fixtures.ts';
import { createPaymentCheckout } from '../payments/payment-fixtures.ts';
import { sendJson, type Answer } from './http-call.ts';

let t: TestApp;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ listen: true });
  merchant = await t.createMerchant();
});
afterAll(async () => {
  await t.close();
});

function call(method: 'POST' | 'GET' | 'PATCH', path: string, payload?: unknown): Promise<Answer> {
  return sendJson(t.baseUrl, merchant.headers, method, path, payload);
}

function pointersOf(answer: Answer): string[] {
  const problem = expectProblem({ statusCode: answer.status, headers: answer.headers, body: answer.body });
  return (problem.errors ?? []).map((error) => error.pointer);
}

describe('a null metadata value at creation is a 422 pointing at it', () => {
  it('checkout, its order, payment link', async () => {
    const checkout = await call(
      'POST',
      '/v1/checkouts',
      checkoutRequest(simpleOrder('EUR', 'DE', 1000, 'meta-1'), { metadata: { keep: 'x', note: null } }),
    );
    expect(checkout.status).toBe(422);
    expect(pointersOf(checkout).some((pointer) => pointer.startsWith('/metadata'))).toBe(true);

    const order = await call(
      'POST',
      '/v1/checkouts',
      checkoutRequest({ ...simpleOrder('EUR', 'DE', 1000, 'meta-2'), metadata: { note: null } }),
    );
    expect(order.status).toBe(422);
    expect(pointersOf(order).some((pointer) => pointer.startsWith('/order/metadata'))).toBe(true);

    const link = await call('POST', '/v1/payment-links', linkRequest({ metadata: { note: null } }));
    expect(link.status).toBe(422);
    expect(pointersOf(link).some((pointer) => pointer.startsWith('/metadata'))).toBe(true);

    const fine = await call(
      'POST',
      '/v1/checkouts',
      checkoutRequest(simpleOrder('EUR', 'DE', 1000, 'meta-3'), { metadata: { keep: 'x', n: 2, ok: false } }),
    );
    expect(fine.status, fine.body).toBe(201);
    expect(fine.json<{ metadata: object }>().metadata).toEqual({ keep: 'x', n: 2, ok: false });
  });
});

describe('webhook endpoints', () => {
  type Endpoint = { id: string; metadata: Record<string, unknown>; version: number };

  it('take metadata at creation and merge it in PATCH', async () => {
    const created = await call('POST', '/v1/webhook-endpoints', {
      url: 'https://shop.example/hooks',
      enabled_events: ['*'],
      metadata: { team: 'payments', tier: 2, paging: true },
    });
    expect(created.status, created.body).toBe(201);
    const endpoint = created.json<Endpoint>();
    expect(endpoint.metadata).toEqual({ team: 'payments', tier: 2, paging: true });

    const patched = await call('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, {
      metadata: { tier: null, region: 'eu' },
    });
    expect(patched.status, patched.body).toBe(200);
    expect(patched.json<Endpoint>()).toMatchObject({
      metadata: { team: 'payments', paging: true, region: 'eu' },
      version: endpoint.version + 1,
    });
    expect(patched.json<Endpoint>().metadata).not.toHaveProperty('tier');

    const same = await call('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { metadata: { region: 'eu' } });
    expect(same.json<Endpoint>().version).toBe(endpoint.version + 1);

    const read = await call('GET', `/v1/webhook-endpoints/${endpoint.id}`);
    expect(read.json<Endpoint>().metadata).toEqual({ team: 'payments', paging: true, region: 'eu' });

    const cleared = await call('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { metadata: null });
    expect(cleared.json<Endpoint>()).toMatchObject({ metadata: {}, version: endpoint.version + 2 });

    const list = await call('GET', '/v1/webhook-endpoints');
    expect(list.json<{ data: Endpoint[] }>().data.find((e) => e.id === endpoint.id)?.metadata).toEqual({});
  });

  it('refuse a null value at creation and too many keys after a merge', async () => {
    const withNull = await call('POST', '/v1/webhook-endpoints', {
      url: 'https://shop.example/hooks',
      enabled_events: ['*'],
      metadata: { gone: null },
    });
    expect(withNull.status).toBe(422);
    expect(pointersOf(withNull).some((pointer) => pointer.startsWith('/metadata'))).toBe(true);

    const full = await call('POST', '/v1/webhook-endpoints', {
      url: 'https://shop.example/hooks',
      enabled_events: ['*'],
      metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])),
    });
    expect(full.status).toBe(201);
    const id = full.json<Endpoint>().id;
    const over = await call('PATCH', `/v1/webhook-endpoints/${id}`, { metadata: { one_more: 1 } });
    expect(over.status).toBe(422);
    expect(pointersOf(over)).toContain('/metadata');
    const badValue = await call('PATCH', `/v1/webhook-endpoints/${id}`, { metadata: { nested: { a: 1 } } });
    expect(badValue.status).toBe(422);
    expect(pointersOf(badValue).some((pointer) => pointer.startsWith('/metadata'))).toBe(true);
  });
});

describe('payment links', () => {
  type Link = { id: string; metadata: Record<string, unknown>; version: number; status: string };

  it('PATCH merges metadata key by key; a change raises version, no change keeps it', async () => {
    const created = await call(
      'POST',
      '/v1/payment-links',
      linkRequest({ metadata: { campaign: 'spring', n: 1 } }),
    );
    expect(created.status, created.body).toBe(201);
    const link = created.json<Link>();

    const patched = await call('PATCH', `/v1/payment-links/${link.id}`, {
      metadata: { n: null, ref: 'INV-7' },
    });
    expect(patched.status, patched.body).toBe(200);
    expect(patched.json<Link>()).toMatchObject({
      id: link.id,
      status: link.status,
      metadata: { campaign: 'spring', ref: 'INV-7' },
      version: link.version + 1,
    });
    expect(patched.json<Link>().metadata).not.toHaveProperty('n');

    const same = await call('PATCH', `/v1/payment-links/${link.id}`, { metadata: { ref: 'INV-7' } });
    expect(same.json<Link>().version).toBe(link.version + 1);
    const empty = await call('PATCH', `/v1/payment-links/${link.id}`, {});
    expect(empty.json<Link>().version).toBe(link.version + 1);

    const read = await call('GET', `/v1/payment-links/${link.id}`);
    expect(read.json<Link>().metadata).toEqual({ campaign: 'spring', ref: 'INV-7' });

    const unknown = await call('PATCH', `/v1/payment-links/${link.id}`, { status: 'DEACTIVATED' });
    expect(unknown.status).toBe(422);
    const cleared = await call('PATCH', `/v1/payment-links/${link.id}`, { metadata: null });
    expect(cleared.json<Link>()).toMatchObject({ metadata: {}, version: link.version + 2 });

    const other = await t.createMerchant({ name: 'Other' });
    const foreign = await fetch(`${t.baseUrl}/v1/payment-links/${link.id}`, {
      method: 'PATCH',
      headers: { ...other.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { x: 1 } }),
    });
    expect(foreign.status).toBe(404);
  });
});

describe('payments, captures and refunds', () => {
  it('take metadata at creation and merge it in PATCH, over HTTP', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { currency: 'EUR', amount: 700 });
    const paid = await call('POST', '/v1/payments', {
      checkout_id: checkout.checkout_id,
      payment_method: { type: 'invoice' },
      metadata: { erp_ref: 'INV-9' },
    });
    expect([201, 202], paid.body).toContain(paid.status);
    const payment = paid.json<{ id: string; metadata: object; version: number }>();
    expect(payment.metadata).toEqual({ erp_ref: 'INV-9' });

    const patched = await call('PATCH', `/v1/payments/${payment.id}`, {
      metadata: { erp_ref: null, note: 'x' },
    });
    expect(patched.status, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ metadata: { note: 'x' }, version: payment.version + 1 });

    const refused = await call('POST', '/v1/payments', {
      checkout_id: checkout.checkout_id,
      payment_method: { type: 'invoice' },
      metadata: { erp_ref: null },
    });
    expect(refused.status).toBe(422);
    expect(pointersOf(refused)).toEqual(['/metadata/erp_ref']);
  });
});
