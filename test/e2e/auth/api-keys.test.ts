import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCE_SCOPES } from '../../../src/modules/auth/scopes.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('API keys and OAuth clients: restricted keys, key management, revocation within 1 s', () => {
  let a: TestApp;
  let b: TestApp; // a second process on the same database
  let merchant: TestMerchant;

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({ shareWith: a });
    merchant = await a.createMerchant();
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  function call(
    app: TestApp,
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
    url: string,
    headers: Record<string, string>,
    payload?: object,
  ) {
    return app.app.inject({
      method,
      url,
      headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { payload }),
    });
  }

  async function createKey(headers: Record<string, string>, body: object): Promise<Json> {
    const response = await call(a, 'POST', '/v1/api-keys', headers, body);
    expect(response.statusCode, response.body).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    return response.json();
  }

  async function token(clientId: string, clientSecret: string, scope?: string) {
    return a.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      headers: { 'content-type': 'application/json' },
      payload: {
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        ...(scope ? { scope } : {}),
      },
    });
  }

  it('creates a restricted key that can do exactly its scopes; only its hash is stored', async () => {
    const key = await createKey(merchant.headers, {
      type: 'restricted',
      scopes: ['checkouts', 'orders:read'],
      name: 'order sync',
    });
    expect(key).toMatchObject({
      object: 'api_key',
      livemode: false,
      type: 'restricted',
      name: 'order sync',
      scopes: ['checkouts', 'orders:read'],
      status: 'ACTIVE',
      expires_at: null,
    });
    expect(key.id).toMatch(/^key_[0-9a-f]{44}$/);
    expect(key.secret).toMatch(/^rk_test_[A-Za-z0-9_-]{40,}$/);
    expect(key.redacted_secret).toBe(`rk_test_…${key.secret.slice(-4)}`);

    const { rows } = await a.database.db.query('SELECT * FROM api_keys WHERE id = $1', [key.id]);
    expect(JSON.stringify(rows)).not.toContain(key.secret.slice(8));

    const headers = bearer(key.secret);
    expect((await call(a, 'GET', '/v1/checkouts', headers)).statusCode).toBe(200);
    expect((await call(a, 'GET', '/v1/orders', headers)).statusCode).toBe(200);
    for (const url of ['/v1/merchant/signing-secret', '/v1/webhook-endpoints', '/v1/api-keys']) {
      const refused = await call(a, 'GET', url, headers);
      expect(refused.statusCode, url).toBe(403);
      expect(expectProblem(refused).code).toBe('insufficient_scope');
    }

    // The GET shows it again, without the secret.
    const shown = await call(a, 'GET', `/v1/api-keys/${key.id}`, merchant.headers);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).not.toHaveProperty('secret');
    expect(shown.body).not.toContain(key.secret);
  });

  it('lists the keys in the list envelope, the first secret key with its key_ id among them', async () => {
    const list = await call(a, 'GET', '/v1/api-keys?limit=100', merchant.headers);
    expect(list.statusCode).toBe(200);
    const page = list.json();
    expect(page).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    const first = page.data.find(
      (key: Json) => key.redacted_secret === `sk_test_…${merchant.apiKey.slice(-4)}`,
    );
    expect(first).toMatchObject({ type: 'secret', scopes: [...RESOURCE_SCOPES] });
    expect(first.id).toMatch(/^key_/);
    expect(list.body).not.toContain(merchant.apiKey);
  });

  it('a restricted key cannot make or roll a key with more scopes than it has', async () => {
    const manager = await createKey(merchant.headers, {
      type: 'restricted',
      scopes: ['api_keys', 'orders'],
    });
    const headers = bearer(manager.secret);
    for (const body of [{ type: 'restricted', scopes: ['orders', 'merchant:read'] }, { type: 'secret' }]) {
      const refused = await call(a, 'POST', '/v1/api-keys', headers, body);
      expect(refused.statusCode, JSON.stringify(body)).toBe(403);
      expect(expectProblem(refused).code).toBe('forbidden');
    }
    const narrower = await createKey(headers, { type: 'restricted', scopes: ['orders:read'] });
    expect(narrower.scopes).toEqual(['orders:read']);

    const secretKeyId = (await call(a, 'GET', '/v1/api-keys?limit=100', merchant.headers))
      .json()
      .data.find((key: Json) => key.type === 'secret').id;
    const roll = await call(a, 'POST', `/v1/api-keys/${secretKeyId}/roll`, headers, {});
    expect(roll.statusCode).toBe(403);
    const client = await call(a, 'POST', '/v1/oauth-clients', headers, { scopes: ['webhooks'] });
    expect(client.statusCode).toBe(403);

    const invalid = await call(a, 'POST', '/v1/api-keys', merchant.headers, {
      type: 'restricted',
      scopes: ['orders:write'],
    });
    expect(invalid.statusCode).toBe(422);
    expect(expectProblem(invalid).errors?.[0]).toMatchObject({ pointer: '/scopes', code: 'invalid_value' });
  });

  it('rolls a key: the new one works, the old one until the overlap ends (0 = now); a rolled key cannot be rolled again', async () => {
    const original = await createKey(merchant.headers, { type: 'restricted', scopes: ['orders:read'] });
    const rolled = await call(a, 'POST', `/v1/api-keys/${original.id}/roll`, merchant.headers, {
      expire_previous_in_seconds: 3600,
    });
    expect(rolled.statusCode).toBe(200);
    expect(rolled.headers['cache-control']).toBe('no-store');
    const next = rolled.json();
    expect(next.id).not.toBe(original.id);
    expect(next).toMatchObject({ type: 'restricted', scopes: ['orders:read'] });
    expect(next.secret).not.toBe(original.secret);
    for (const secret of [original.secret, next.secret]) {
      expect((await call(b, 'GET', '/v1/orders', bearer(secret))).statusCode).toBe(200);
    }
    const old = (await call(a, 'GET', `/v1/api-keys/${original.id}`, merchant.headers)).json();
    expect(Date.parse(old.expires_at) - Date.now()).toBeGreaterThan(3500_000);
    expect((await call(a, 'POST', `/v1/api-keys/${original.id}/roll`, merchant.headers, {})).statusCode).toBe(
      409,
    );

    const now = await call(a, 'POST', `/v1/api-keys/${next.id}/roll`, merchant.headers, {
      expire_previous_in_seconds: 0,
    });
    expect(now.statusCode).toBe(200);
    expect((await call(a, 'GET', '/v1/orders', bearer(next.secret))).statusCode).toBe(401);
    expect((await call(a, 'GET', '/v1/orders', bearer(now.json().secret))).statusCode).toBe(200);
    expect((await call(a, 'GET', `/v1/api-keys/${next.id}`, merchant.headers)).json().status).toBe('EXPIRED');
  });

  it('revokes a key on one process and every other process refuses it within 1 s', async () => {
    const key = await createKey(merchant.headers, { type: 'secret' });
    expect(key.secret).toMatch(/^sk_test_/);
    // Process b has the key cached as valid.
    expect((await call(b, 'GET', '/v1/orders', bearer(key.secret))).statusCode).toBe(200);

    const revoked = await call(a, 'DELETE', `/v1/api-keys/${key.id}`, merchant.headers);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toEqual({ id: key.id, object: 'api_key', deleted: true });
    const revokedAt = Date.now();
    expect((await call(a, 'GET', '/v1/orders', bearer(key.secret))).statusCode).toBe(401);

    // The promise is about when a request is sent, not how long a loaded machine takes to answer it: no
    // request sent more than 1 s after the revocation is accepted (the credential cache lives 1 s).
    let refused = false;
    let lastAcceptedSentAfterMs = 0;
    while (!refused && Date.now() - revokedAt < 5000) {
      const sentAfterMs = Date.now() - revokedAt;
      const answer = await call(b, 'GET', '/v1/orders', bearer(key.secret));
      if (answer.statusCode === 401) {
        refused = true;
        expect(expectProblem(answer).code).toBe('invalid_api_key');
      } else {
        expect(answer.statusCode).toBe(200);
        lastAcceptedSentAfterMs = sentAfterMs;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(refused).toBe(true);
    expect(lastAcceptedSentAfterMs).toBeLessThanOrEqual(1000);
    expect((await call(a, 'GET', `/v1/api-keys/${key.id}`, merchant.headers)).statusCode).toBe(404);
    expect((await call(a, 'DELETE', `/v1/api-keys/${key.id}`, merchant.headers)).statusCode).toBe(404);
  });

  it("creates an OAuth client from a POST without a body, with its creator's scopes", async () => {
    const created = await call(a, 'POST', '/v1/oauth-clients', merchant.headers);
    expect(created.statusCode).toBe(201);
    const client = created.json();
    expect(client).toMatchObject({ object: 'oauth_client', name: null, metadata: {} });
    // The merchant's secret key holds every scope, so the client may too.
    expect(client.scopes).toEqual(expect.arrayContaining(['checkouts', 'orders', 'payments']));
    expect((await token(client.id, client.secret)).statusCode).toBe(200);
    // A body that is there is still checked field by field.
    const refused = await call(a, 'POST', '/v1/oauth-clients', merchant.headers, { scope: ['orders'] });
    expect(refused.statusCode).toBe(422);
  });

  it('manages OAuth clients: scoped tokens, a rolled secret with an overlap, revocation within 1 s on another process', async () => {
    const created = await call(a, 'POST', '/v1/oauth-clients', merchant.headers, {
      scopes: ['payments:read', 'orders'],
      name: 'reporting',
    });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const client = created.json();
    expect(client).toMatchObject({ object: 'oauth_client', scopes: ['orders', 'payments:read'] });
    expect(client.id).toMatch(/^cli_/);

    const issued = await token(client.id, client.secret);
    expect(issued.statusCode).toBe(200);
    expect(issued.json().scope).toBe('orders payments:read');
    const tooMuch = await token(client.id, client.secret, 'checkouts');
    expect(tooMuch.statusCode).toBe(400);
    expect(tooMuch.json().error).toBe('invalid_scope');

    const rolled = await call(a, 'POST', `/v1/oauth-clients/${client.id}/roll-secret`, merchant.headers, {
      expire_previous_in_seconds: 600,
    });
    expect(rolled.statusCode).toBe(200);
    const newSecret = rolled.json().secret;
    expect(rolled.json().previous_secret_expires_at).not.toBeNull();
    expect((await token(client.id, client.secret)).statusCode).toBe(200);
    expect((await token(client.id, newSecret)).statusCode).toBe(200);
    const cut = await call(a, 'POST', `/v1/oauth-clients/${client.id}/roll-secret`, merchant.headers, {
      expire_previous_in_seconds: 0,
    });
    const latest = cut.json().secret;
    expect((await token(client.id, newSecret)).statusCode).toBe(401);
    expect((await token(client.id, client.secret)).statusCode).toBe(401);

    const access = (await token(client.id, latest)).json().access_token;
    expect((await call(b, 'GET', '/v1/orders', bearer(access))).statusCode).toBe(200);
    const listed = (await call(a, 'GET', '/v1/oauth-clients', merchant.headers)).json();
    expect(listed.object).toBe('list');
    expect(listed.data.map((entry: Json) => entry.id)).toContain(client.id);

    expect((await call(a, 'DELETE', `/v1/oauth-clients/${client.id}`, merchant.headers)).statusCode).toBe(
      200,
    );
    const revokedAt = Date.now();
    // As for keys: no request sent more than 1 s after the revocation is accepted.
    let refused = false;
    let lastAcceptedSentAfterMs = 0;
    while (!refused && Date.now() - revokedAt < 5000) {
      const sentAfterMs = Date.now() - revokedAt;
      const status = (await call(b, 'GET', '/v1/orders', bearer(access))).statusCode;
      if (status === 401) refused = true;
      else {
        expect(status).toBe(200);
        lastAcceptedSentAfterMs = sentAfterMs;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(refused).toBe(true);
    expect(lastAcceptedSentAfterMs).toBeLessThanOrEqual(1000);
    expect((await token(client.id, latest)).statusCode).toBe(401);
  });
});
