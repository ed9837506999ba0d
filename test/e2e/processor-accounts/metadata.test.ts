/**
 * `metadata` on processor accounts: the merchant's own key–value data, with the rules every object's metadata
 * follows (docs/api-conventions.md, Metadata): set at creation, merged by PATCH (a null key is removed, null
 * removes all), at most 50 keys of ≤ 40 characters, scalar values; returned by GET, list and the events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

let t: TestApp;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp();
  merchant = await t.createMerchant();
});
afterAll(async () => {
  await t.close();
});

const call = (method: 'POST' | 'GET' | 'PATCH', url: string, payload?: object) =>
  t.app.inject({ method, url, headers: merchant.headers, ...(payload ? { payload } : {}) });

// The sandbox as an account: no credentials, no processor to reach.
const sandboxAccount = (extra: object = {}) => ({
  processor: 'sandbox',
  credentials: {},
  payment_methods: ['card'],
  ...extra,
});

describe('metadata on processor accounts', () => {
  it('is set at creation and returned by GET and the list; a null value at creation is a 422', async () => {
    // Nothing to remove at creation: a null value is refused (docs/api-conventions.md, Metadata).
    const withNull = await call(
      'POST',
      '/v1/processor-accounts',
      sandboxAccount({ metadata: { erp_ref: 'ACQ-7', dropped: null } }),
    );
    expect(withNull.statusCode).toBe(422);
    const problem = expectProblem(withNull);
    expect(problem.errors?.some((error) => error.pointer.startsWith('/metadata'))).toBe(true);

    const created = await call(
      'POST',
      '/v1/processor-accounts',
      sandboxAccount({ metadata: { erp_ref: 'ACQ-7', weight: 3, primary: true } }),
    );
    expect(created.statusCode, created.body).toBe(201);
    const account = created.json<{ id: string; metadata: object; version: number }>();
    expect(account.metadata).toEqual({ erp_ref: 'ACQ-7', weight: 3, primary: true });

    const read = await call('GET', `/v1/processor-accounts/${account.id}`);
    expect(read.json()).toMatchObject({ metadata: { erp_ref: 'ACQ-7', weight: 3, primary: true } });
    const list = await call('GET', '/v1/processor-accounts');
    expect(list.json<{ data: { id: string; metadata: object }[] }>().data).toContainEqual(
      expect.objectContaining({ id: account.id, metadata: account.metadata }),
    );

    const { rows } = await t.database.db.query<{ data: { metadata: object } }>(
      `SELECT data FROM events WHERE type = 'processor_account.created' AND data->>'id' = $1`,
      [account.id],
    );
    expect(rows[0]!.data.metadata).toEqual(account.metadata);

    const without = await call('POST', '/v1/processor-accounts', sandboxAccount());
    expect(without.json()).toMatchObject({ metadata: {} });
  });

  it('PATCH merges key by key: null removes a key, other keys stay; null removes every key', async () => {
    const created = await call(
      'POST',
      '/v1/processor-accounts',
      sandboxAccount({ metadata: { a: '1', b: '2' } }),
    );
    const id = created.json<{ id: string }>().id;

    const merged = await call('PATCH', `/v1/processor-accounts/${id}`, { metadata: { b: null, c: 3 } });
    expect(merged.statusCode, merged.body).toBe(200);
    expect(merged.json()).toMatchObject({ metadata: { a: '1', c: 3 }, version: 2 });
    expect(Object.keys(merged.json<{ metadata: object }>().metadata)).toEqual(['a', 'c']);

    // The same metadata again changes nothing: no new version.
    const same = await call('PATCH', `/v1/processor-accounts/${id}`, { metadata: { a: '1' } });
    expect(same.json()).toMatchObject({ metadata: { a: '1', c: 3 }, version: 2 });

    const { rows } = await t.database.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE type = 'processor_account.updated' AND data->>'id' = $1`,
      [id],
    );
    expect(rows[0]!.n).toBe(1);

    const cleared = await call('PATCH', `/v1/processor-accounts/${id}`, { metadata: null });
    expect(cleared.json()).toMatchObject({ metadata: {}, version: 3 });
  });

  it('refuses what metadata elsewhere refuses, pointing at the field', async () => {
    const longKey = await call(
      'POST',
      '/v1/processor-accounts',
      sandboxAccount({ metadata: { ['k'.repeat(41)]: 'x' } }),
    );
    expect(expectProblem(longKey)).toMatchObject({ status: 422 });
    expect(expectProblem(longKey).errors?.[0]?.pointer).toMatch(/^\/metadata/);

    const nested = await call(
      'POST',
      '/v1/processor-accounts',
      sandboxAccount({ metadata: { a: { b: 1 } } }),
    );
    expect(expectProblem(nested).errors?.[0]?.pointer).toMatch(/^\/metadata/);

    const longValue = await call(
      'POST',
      '/v1/processor-accounts',
      sandboxAccount({ metadata: { a: 'x'.repeat(501) } }),
    );
    expect(expectProblem(longValue).errors?.[0]?.pointer).toMatch(/^\/metadata/);

    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    const many = await call('POST', '/v1/processor-accounts', sandboxAccount({ metadata: tooMany }));
    expect(expectProblem(many).errors?.[0]?.pointer).toMatch(/^\/metadata/);

    // 50 keys stored, then a patch that would make 51 after the merge.
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    const full = await call('POST', '/v1/processor-accounts', sandboxAccount({ metadata: fifty }));
    expect(full.statusCode, full.body).toBe(201);
    const id = full.json<{ id: string }>().id;
    const overflow = await call('PATCH', `/v1/processor-accounts/${id}`, { metadata: { extra: 'x' } });
    expect(expectProblem(overflow)).toMatchObject({ status: 422 });
    expect(expectProblem(overflow).errors?.[0]).toMatchObject({
      pointer: '/metadata',
      code: 'too_many_keys',
    });
    const swapped = await call('PATCH', `/v1/processor-accounts/${id}`, {
      metadata: { k0: null, extra: 'x' },
    });
    expect(swapped.statusCode, swapped.body).toBe(200);
  });
});
