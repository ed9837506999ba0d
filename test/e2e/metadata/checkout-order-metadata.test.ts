/**
 * `PATCH /v1/checkouts/{id}` and `PATCH /v1/orders/{id}` over real HTTP: `metadata` merged key by key by the one
 * rule of docs/api-conventions.md (Metadata), in any status; a change raises `version` and writes one
 * `checkout.updated` / `order.updated` with the new snapshot; a patch that changes nothing keeps both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
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

type Versioned = { id: string; metadata: Record<string, unknown>; version: number; status: string };
type EventJson = { id: string; type: string; object_id: string; object_version: number; data: Versioned };

async function call(
  method: 'POST' | 'GET' | 'PATCH',
  path: string,
  payload?: unknown,
  headers: Record<string, string> = merchant.headers,
) {
  const answer = await sendJson(t.baseUrl, headers, method, path, payload);
  return { ...answer, json: <T = Versioned>() => answer.json<T>() };
}

function problemOf(answer: Answer) {
  return expectProblem({ statusCode: answer.status, headers: answer.headers, body: answer.body });
}

async function newCheckout(reference: string) {
  const created = await call(
    'POST',
    '/v1/checkouts',
    checkoutRequest(
      { ...simpleOrder('EUR', 'DE', 1000, reference), metadata: { erp: 'E-1', lines: 2 } },
      { metadata: { campaign: 'spring', n: 1 } },
    ),
  );
  expect(created.status, created.body).toBe(201);
  return created.json<Versioned & { order: Versioned }>();
}

async function eventsOf(type: string, filter: string) {
  const list = await call('GET', `/v1/events?type=${type}&${filter}`);
  expect(list.status, list.body).toBe(200);
  return list.json<{ data: EventJson[] }>().data;
}

/** Each object's PATCH, how to reach it, and its event. */
const targets = [
  {
    name: 'checkout',
    event: 'checkout.updated',
    scope: 'checkouts',
    path: (checkout: Versioned & { order: Versioned }) => `/v1/checkouts/${checkout.id}`,
    filter: (checkout: Versioned & { order: Versioned }) => `checkout_id=${checkout.id}`,
    stored: (checkout: Versioned & { order: Versioned }) => checkout,
  },
  {
    name: 'order',
    event: 'order.updated',
    scope: 'orders',
    path: (checkout: Versioned & { order: Versioned }) => `/v1/orders/${checkout.order.id}`,
    filter: (checkout: Versioned & { order: Versioned }) => `order_id=${checkout.order.id}`,
    stored: (checkout: Versioned & { order: Versioned }) => checkout.order,
  },
] as const;

describe.each(targets)('PATCH of a $name', (target) => {
  it('merges key by key, null removes a key, and one event carries the new snapshot', async () => {
    const checkout = await newCheckout(`merge-${target.name}`);
    const before = target.stored(checkout);
    const path = target.path(checkout);

    const patched = await call('PATCH', path, { metadata: { n: null, lines: null, ref: 'INV-7' } });
    expect(patched.status, patched.body).toBe(200);
    const after = patched.json();
    expect(after.id).toBe(before.id);
    expect(after.version).toBe(before.version + 1);
    const expected: Record<string, unknown> = { ...before.metadata, ref: 'INV-7' };
    delete expected.n;
    delete expected.lines;
    expect(after.metadata).toEqual(expected);
    expect((await call('GET', path)).json()).toEqual(after);

    const events = await eventsOf(target.event, target.filter(checkout));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ object_id: before.id, object_version: before.version + 1 });
    expect(events[0]!.data).toEqual(after);

    // The other object of the pair is untouched.
    const other =
      target.name === 'checkout' ? `/v1/orders/${checkout.order.id}` : `/v1/checkouts/${checkout.id}`;
    const untouched = (await call('GET', other)).json();
    const otherBefore = target.name === 'checkout' ? checkout.order : checkout;
    expect(untouched).toMatchObject({ metadata: otherBefore.metadata, version: otherBefore.version });

    const cleared = await call('PATCH', path, { metadata: null });
    expect(cleared.json()).toMatchObject({ metadata: {}, version: before.version + 2 });
    expect(await eventsOf(target.event, target.filter(checkout))).toHaveLength(2);
  });

  it('keeps version and writes no event for a patch that changes nothing', async () => {
    const checkout = await newCheckout(`same-${target.name}`);
    const before = target.stored(checkout);
    const path = target.path(checkout);
    const [key, value] = Object.entries(before.metadata)[0]!;
    for (const payload of [
      {},
      { metadata: {} },
      { metadata: { absent: null } },
      { metadata: { [key]: value } },
    ]) {
      const same = await call('PATCH', path, payload);
      expect(same.status, same.body).toBe(200);
      expect(same.json()).toMatchObject({ metadata: before.metadata, version: before.version });
    }
    expect(await eventsOf(target.event, target.filter(checkout))).toEqual([]);
  });

  it('works in any status: an expired session and its order', async () => {
    const checkout = await newCheckout(`expired-${target.name}`);
    const expired = await call('POST', `/v1/checkouts/${checkout.id}/expire`);
    expect(expired.status, expired.body).toBe(200);
    const current = (await call('GET', target.path(checkout))).json();
    expect(current.status).toBe('EXPIRED');
    const patched = await call('PATCH', target.path(checkout), { metadata: { archived: true } });
    expect(patched.status, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ status: 'EXPIRED', version: current.version + 1 });
    expect(patched.json().metadata).toMatchObject({ archived: true });
  });

  it('refuses past the metadata limits, unknown fields, foreign ids and a token without the scope', async () => {
    const checkout = await newCheckout(`limits-${target.name}`);
    const path = target.path(checkout);
    const full = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, i]));
    const tooMany = await call('PATCH', path, { metadata: full });
    expect(tooMany.status).toBe(422);
    expect(problemOf(tooMany).errors).toEqual([
      expect.objectContaining({ pointer: '/metadata', code: 'too_many_keys' }),
    ]);
    for (const [metadata, pointer] of [
      [{ ['k'.repeat(41)]: 'v' }, `/metadata/${'k'.repeat(41)}`],
      [{ long: 'x'.repeat(501) }, '/metadata/long'],
      [{ nested: { a: 1 } }, '/metadata/nested'],
    ] as const) {
      const refused = await call('PATCH', path, { metadata });
      expect(refused.status, JSON.stringify(metadata)).toBe(422);
      expect(problemOf(refused).errors?.map((error) => error.pointer)).toContain(pointer);
    }

    const unknown = await call('PATCH', path, { status: 'CANCELED', metadata: { a: 1 } });
    expect(unknown.status).toBe(422);
    expect(problemOf(unknown).errors).toEqual([
      expect.objectContaining({ pointer: '/status', code: 'unknown_field' }),
    ]);

    const other = await t.createMerchant({ name: `Other ${target.name}` });
    const foreign = await call('PATCH', path, { metadata: { x: 1 } }, other.headers);
    expect(foreign.status).toBe(404);
    expect(problemOf(foreign).code).toBe('not_found');

    const token = await call(
      'POST',
      '/v1/oauth/tokens',
      {
        grant_type: 'client_credentials',
        client_id: merchant.clientId,
        client_secret: merchant.clientSecret,
        scope: `${target.scope}:read`,
      },
      {},
    );
    expect(token.status, token.body).toBe(200);
    const readOnly = { authorization: `Bearer ${token.json<{ access_token: string }>().access_token}` };
    expect((await call('GET', path, undefined, readOnly)).status).toBe(200);
    const forbidden = await call('PATCH', path, { metadata: { x: 1 } }, readOnly);
    expect(forbidden.status).toBe(403);
    expect(problemOf(forbidden)).toMatchObject({ code: 'insufficient_scope', required_scope: target.scope });

    // Nothing above changed the object.
    const after = (await call('GET', path)).json();
    expect(after).toMatchObject({
      metadata: target.stored(checkout).metadata,
      version: target.stored(checkout).version,
    });
    expect(await eventsOf(target.event, target.filter(checkout))).toEqual([]);
  });
});
