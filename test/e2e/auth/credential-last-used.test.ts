/**
 * `last_used_at` of API keys and OAuth clients (src/modules/merchants/credential-usage.ts): requests only
 * note the credential in memory; each flush writes every noted credential with one statement, on a timer
 * and on shutdown; the value never moves back; GET /v1/api-keys and /v1/oauth-clients show it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../../src/db/client.ts';
import { createCredentialUsageRecorder } from '../../../src/modules/merchants/credential-usage.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let t: TestApp;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ env: { KASSA_CREDENTIAL_USAGE_FLUSH_SECONDS: '1' } });
  merchant = await t.createMerchant();
});
afterAll(() => t.close());

const lastUsed = async (table: 'api_keys' | 'api_clients', id: string) =>
  (
    await t.database.db.query<{ last_used_at: Date | null }>(
      `SELECT last_used_at FROM ${table} WHERE id = $1`,
      [id],
    )
  ).rows[0]!.last_used_at;

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 5_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() - started > ms) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('last_used_at', () => {
  it('is written in a batch after requests, not by each request, and shown in GET /v1/api-keys', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: merchant.headers,
      payload: { type: 'restricted', scopes: ['orders:read'] },
    });
    const key = created.json() as Json;
    expect(key.last_used_at).toBeNull();
    // Let any flush of the creating request's own key go by, so the next one is the one we watch.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const before = new Date();
    for (let i = 0; i < 20; i += 1) {
      const response = await t.app.inject({
        url: '/v1/orders',
        headers: { authorization: `Bearer ${key.secret}` },
      });
      expect(response.statusCode).toBe(200);
    }
    const written = await until(
      () => lastUsed('api_keys', key.id),
      (value) => value !== null,
    );
    expect(written).not.toBeNull();
    expect(written!.getTime()).toBeGreaterThanOrEqual(before.getTime() - 5);
    expect(written!.getTime()).toBeLessThanOrEqual(Date.now());

    const listed = (
      await t.app.inject({ url: '/v1/api-keys?limit=100', headers: merchant.headers })
    ).json() as Json;
    const shown = listed.data.find((item: Json) => item.id === key.id);
    expect(shown.last_used_at).toBe(written!.toISOString());
    // Usage is not a change: no new version.
    expect(shown.version).toBe(key.version);
  });

  it('marks an OAuth client used when it gets a token and when its token is used', async () => {
    const token = await t.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      payload: {
        grant_type: 'client_credentials',
        client_id: merchant.clientId,
        client_secret: merchant.clientSecret,
      },
    });
    expect(token.statusCode).toBe(200);
    const first = await until(
      () => lastUsed('api_clients', merchant.clientId),
      (value) => value !== null,
    );
    expect(first).not.toBeNull();
    const accessToken = (token.json() as Json).access_token as string;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await t.app.inject({ url: '/v1/orders', headers: { authorization: `Bearer ${accessToken}` } });
    const second = await until(
      () => lastUsed('api_clients', merchant.clientId),
      (value) => value !== null && value > first!,
    );
    expect(second!.getTime()).toBeGreaterThan(first!.getTime());
    const clients = (
      await t.app.inject({ url: '/v1/oauth-clients', headers: merchant.headers })
    ).json() as Json;
    expect(clients.data.find((client: Json) => client.id === merchant.clientId).last_used_at).toBe(
      second!.toISOString(),
    );
  });

  it('writes what is left when the app closes', async () => {
    const other = await createTestApp({ shareWith: t, env: { KASSA_CREDENTIAL_USAGE_FLUSH_SECONDS: '300' } });
    const m = await other.createMerchant({ name: 'Closing' });
    const keyId = (
      await t.database.db.query<{ id: string }>('SELECT id FROM api_keys WHERE merchant_id = $1', [
        m.merchantId,
      ])
    ).rows[0]!.id;
    expect((await other.app.inject({ url: '/v1/orders', headers: m.headers })).statusCode).toBe(200);
    // No request writes it (this app flushes every 300 s): it waits in memory…
    expect(await lastUsed('api_keys', keyId)).toBeNull();
    // …until the app closes.
    await other.close();
    expect(await lastUsed('api_keys', keyId)).not.toBeNull();
  });
});

describe('the usage recorder', () => {
  it('writes any number of uses of any number of credentials with one statement per flush, never backwards', async () => {
    const m = await t.createMerchant({ name: 'Batch' });
    const keyId = (
      await t.database.db.query<{ id: string }>('SELECT id FROM api_keys WHERE merchant_id = $1', [
        m.merchantId,
      ])
    ).rows[0]!.id;
    const statements: string[] = [];
    const counting: Queryable = {
      query: (text, values) => {
        statements.push(text);
        return t.database.db.query(text, values);
      },
    };
    let now = new Date('2030-01-01T00:00:10.000Z');
    const recorder = createCredentialUsageRecorder({
      db: counting,
      clock: { now: () => now },
      intervalMs: 60_000,
    });
    for (let i = 0; i < 1_000; i += 1) {
      recorder.record(keyId);
      recorder.record(m.clientId);
    }
    expect(statements).toHaveLength(0);
    expect(await recorder.flush()).toBe(2);
    expect(statements).toHaveLength(1);
    expect(await lastUsed('api_keys', keyId)).toEqual(now);
    expect(await lastUsed('api_clients', m.clientId)).toEqual(now);

    // An older use (another process flushing late) never sets it back.
    now = new Date('2030-01-01T00:00:05.000Z');
    recorder.record(keyId);
    await recorder.flush();
    expect(await lastUsed('api_keys', keyId)).toEqual(new Date('2030-01-01T00:00:10.000Z'));
    expect(await recorder.flush()).toBe(0);
    expect(statements).toHaveLength(2); // an empty flush sends nothing
    await recorder.stop();
  });

  it('keeps what a failed flush could not write for the next one', async () => {
    const m = await t.createMerchant({ name: 'Retry' });
    let fail = true;
    const flaky: Queryable = {
      query: (text, values) =>
        fail ? Promise.reject(new Error('database away')) : t.database.db.query(text, values),
    };
    const recorder = createCredentialUsageRecorder({
      db: flaky,
      clock: { now: () => new Date() },
      intervalMs: 60_000,
    });
    recorder.record(m.clientId);
    await expect(recorder.flush()).rejects.toThrow('database away');
    fail = false;
    expect(await recorder.flush()).toBe(1);
    expect(await lastUsed('api_clients', m.clientId)).not.toBeNull();
    await recorder.stop();
  });
});
