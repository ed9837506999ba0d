/** /v1/webhook-endpoints: create, read, list, update, delete, rotate — and every refusal as a problem document. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WEBHOOK_ENDPOINTS_PER_MODE } from '../../../src/modules/webhooks/webhook-endpoint.types.ts';
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

type Endpoint = {
  id: string;
  object: string;
  url: string;
  status: string;
  enabled_events: string[];
  secret?: string;
  version: number;
  description: string | null;
  disabled_reason: string | null;
  disabled_message: string | null;
  previous_secret_expires_at: string | null;
};

async function create(
  payload: Record<string, unknown>,
  who: TestMerchant = merchant,
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/webhook-endpoints',
    headers: { ...who.headers, ...headers },
    payload,
  });
}

async function createOk(payload: Record<string, unknown> = {}, who: TestMerchant = merchant) {
  const response = await create(
    { url: 'https://shop.example/hooks', enabled_events: ['*'], ...payload },
    who,
  );
  expect(response.statusCode).toBe(201);
  return response.json() as Endpoint;
}

describe('POST /v1/webhook-endpoints', () => {
  it('creates an endpoint and shows its whsec_ secret once', async () => {
    const endpoint = await createOk({
      url: 'https://shop.example/hooks?source=kassa',
      enabled_events: ['payment.succeeded', 'refund.succeeded', 'payment.succeeded'],
      description: 'Fulfilment',
    });
    expect(endpoint).toMatchObject({
      object: 'webhook_endpoint',
      livemode: false,
      url: 'https://shop.example/hooks?source=kassa',
      enabled_events: ['payment.succeeded', 'refund.succeeded'],
      status: 'ENABLED',
      disabled_reason: null,
      disabled_message: null,
      description: 'Fulfilment',
      version: 1,
    });
    expect(endpoint.id).toMatch(/^whe_[0-9a-f]{44}$/);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(endpoint.secret!.slice(6), 'base64').length).toBe(32);

    const read = await t.app.inject({
      method: 'GET',
      url: `/v1/webhook-endpoints/${endpoint.id}`,
      headers: merchant.headers,
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).not.toHaveProperty('secret');
    expect(read.body).not.toContain(endpoint.secret!.slice(6));
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/webhook-endpoints',
      headers: merchant.headers,
    });
    expect(list.body).not.toContain(endpoint.secret!.slice(6));

    // Stored only encrypted.
    const { rows } = await t.database.db.query<{ secret_encrypted: Buffer }>(
      'SELECT secret_encrypted FROM webhook_endpoints WHERE id = $1',
      [endpoint.id],
    );
    expect(rows[0]!.secret_encrypted.includes(Buffer.from(endpoint.secret!))).toBe(false);
    expect(rows[0]!.secret_encrypted.includes(Buffer.from(endpoint.secret!.slice(6), 'base64'))).toBe(false);
    expect(
      t.services.keyring.decrypt('webhook-secret-encryption', rows[0]!.secret_encrypted).toString(),
    ).toBe(endpoint.secret);
    expect(t.logs.join('\n')).not.toContain(endpoint.secret!.slice(6));
  });

  it('replays the same answer for the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'create-endpoint-1' };
    const payload = { url: 'https://shop.example/idem', enabled_events: ['*'] };
    const first = await create(payload, merchant, headers);
    const second = await create(payload, merchant, headers);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    const reused = await create({ ...payload, url: 'https://shop.example/other' }, merchant, headers);
    expect(expectProblem(reused)).toMatchObject({ status: 422, code: 'idempotency_key_reused' });
  });

  it('refuses invalid URLs, unknown event types and a mixed wildcard with field errors', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ url: 'ftp://shop.example/x', enabled_events: ['*'] }, '/url', 'invalid_url'],
      [{ url: 'https://user:pw@shop.example/x', enabled_events: ['*'] }, '/url', 'invalid_url'],
      [{ url: 'https://shop.example/x#frag', enabled_events: ['*'] }, '/url', 'invalid_url'],
      [{ url: 'http://10.0.0.7/hook', enabled_events: ['*'] }, '/url', 'url_not_allowed'],
      [{ url: 'http://169.254.169.254/latest', enabled_events: ['*'] }, '/url', 'url_not_allowed'],
      [{ url: 'http://[::ffff:192.168.0.1]/x', enabled_events: ['*'] }, '/url', 'url_not_allowed'],
      [
        { url: 'https://shop.example/x', enabled_events: ['payment.exploded'] },
        '/enabled_events/0',
        'invalid_value',
      ],
      [{ url: 'https://shop.example/x', enabled_events: ['ping'] }, '/enabled_events/0', 'invalid_value'],
      [{ url: 'https://shop.example/x', enabled_events: [] }, '/enabled_events', 'too_short'],
      [
        { url: 'https://shop.example/x', enabled_events: ['*', 'payment.succeeded'] },
        '/enabled_events',
        'wildcard_not_alone',
      ],
      [{ enabled_events: ['*'] }, '/url', 'required'],
    ];
    for (const [payload, pointer, code] of cases) {
      const problem = expectProblem(await create(payload));
      expect(problem, JSON.stringify(payload)).toMatchObject({ status: 422, code: 'validation_failed' });
      expect(problem.errors, JSON.stringify(payload)).toContainEqual(
        expect.objectContaining({ pointer, code }),
      );
    }
  });

  it('requires https:// in live mode', async () => {
    const live = await t.createMerchant({ livemode: true });
    const problem = expectProblem(
      await create({ url: 'http://shop.example/x', enabled_events: ['*'] }, live),
    );
    expect(problem.errors).toContainEqual(
      expect.objectContaining({ pointer: '/url', message: expect.stringContaining('https') }),
    );
    const ok = await create({ url: 'https://shop.example/x', enabled_events: ['*'] }, live);
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ livemode: true });
  });

  it(`allows at most ${MAX_WEBHOOK_ENDPOINTS_PER_MODE} endpoints per mode`, async () => {
    const shop = await t.createMerchant();
    for (let i = 0; i < MAX_WEBHOOK_ENDPOINTS_PER_MODE; i += 1)
      await createOk({ url: `https://shop.example/${i}` }, shop);
    expect(
      expectProblem(await create({ url: 'https://shop.example/one-more', enabled_events: ['*'] }, shop)),
    ).toMatchObject({
      status: 409,
      code: 'conflict',
    });
  });

  it('requires authentication', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      payload: { url: 'https://shop.example/x', enabled_events: ['*'] },
    });
    expect(expectProblem(response).status).toBe(401);
  });
});

describe('reading, listing, updating, deleting', () => {
  it('lists newest first with cursor pagination, scoped to the merchant and mode', async () => {
    const shop = await t.createMerchant();
    const created = [];
    for (let i = 0; i < 5; i += 1) created.push(await createOk({ url: `https://shop.example/p${i}` }, shop));
    const other = await t.createMerchant();
    await createOk({}, other);

    const page1 = await t.app.inject({
      method: 'GET',
      url: '/v1/webhook-endpoints?limit=3',
      headers: shop.headers,
    });
    const body1 = page1.json() as { data: Endpoint[]; has_more: boolean; next_cursor: string };
    expect(body1.data.map((e) => e.id)).toEqual(
      created
        .slice(2)
        .reverse()
        .map((e) => e.id),
    );
    expect(body1.has_more).toBe(true);
    const page2 = await t.app.inject({
      method: 'GET',
      url: `/v1/webhook-endpoints?limit=3&starting_after=${body1.next_cursor}`,
      headers: shop.headers,
    });
    const body2 = page2.json() as { data: Endpoint[]; has_more: boolean; next_cursor: string | null };
    expect(body2.data.map((e) => e.id)).toEqual(
      created
        .slice(0, 2)
        .reverse()
        .map((e) => e.id),
    );
    expect(body2).toMatchObject({ has_more: false, next_cursor: null });
    expect(
      expectProblem(
        await t.app.inject({ method: 'GET', url: '/v1/webhook-endpoints?limit=0', headers: shop.headers }),
      ).status,
    ).toBe(422);
  });

  it("answers 404 for another merchant's endpoint and for the other mode's", async () => {
    const endpoint = await createOk();
    const stranger = await t.createMerchant();
    const live = await t.createMerchant({ livemode: true });
    for (const who of [stranger, live]) {
      for (const [method, url] of [
        ['GET', `/v1/webhook-endpoints/${endpoint.id}`],
        ['PATCH', `/v1/webhook-endpoints/${endpoint.id}`],
        ['DELETE', `/v1/webhook-endpoints/${endpoint.id}`],
        ['POST', `/v1/webhook-endpoints/${endpoint.id}/roll-secret`],
        ['POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`],
        ['POST', `/v1/webhook-endpoints/${endpoint.id}/test`],
      ] as const) {
        const response = await t.app.inject({
          method,
          url,
          headers: who.headers,
          ...(method === 'PATCH' ? { payload: {} } : {}),
        });
        expect(expectProblem(response), `${method} ${url}`).toMatchObject({ status: 404, code: 'not_found' });
      }
    }
  });

  it('updates the URL, filter, description and status, bumping the version', async () => {
    const endpoint = await createOk();
    const patch = (payload: Record<string, unknown>) =>
      t.app.inject({
        method: 'PATCH',
        url: `/v1/webhook-endpoints/${endpoint.id}`,
        headers: merchant.headers,
        payload,
      });
    const updated = await patch({
      url: 'https://shop.example/v2',
      enabled_events: ['checkout.completed'],
      description: 'v2',
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({
      url: 'https://shop.example/v2',
      enabled_events: ['checkout.completed'],
      description: 'v2',
      version: 2,
    });
    const disabled = await patch({ status: 'DISABLED' });
    expect(disabled.json()).toMatchObject({
      status: 'DISABLED',
      disabled_reason: 'disabled_by_merchant',
      disabled_message: 'Disabled by the merchant',
      version: 3,
    });
    const enabled = await patch({ status: 'ENABLED', description: null });
    expect(enabled.json()).toMatchObject({
      status: 'ENABLED',
      disabled_reason: null,
      disabled_message: null,
      description: null,
      version: 4,
    });
    // The lower-case spelling of before is refused, naming the values.
    const lower = expectProblem(await patch({ status: 'disabled' }));
    expect(lower.status).toBe(422);
    expect(lower.errors).toContainEqual(expect.objectContaining({ pointer: '/status' }));
    expect(JSON.stringify(lower.errors)).toContain('DISABLED');
    // A patch that changes nothing answers the endpoint as it is, without a new version.
    const same = await patch({ description: null, status: 'ENABLED' });
    expect(same.statusCode).toBe(200);
    expect(same.json()).toMatchObject({ version: 4 });
    // An unknown field is refused by name, and nothing changes (before: 200 and a new version).
    const unknown = expectProblem(await patch({ zzz: 1, descripton: 'typo' }));
    expect(unknown).toMatchObject({ status: 422, code: 'validation_failed' });
    expect(unknown.errors).toEqual([
      expect.objectContaining({ pointer: '/zzz', code: 'unknown_field' }),
      expect.objectContaining({ pointer: '/descripton', code: 'unknown_field' }),
    ]);
    const after = await t.app.inject({
      method: 'GET',
      url: `/v1/webhook-endpoints/${endpoint.id}`,
      headers: merchant.headers,
    });
    expect(after.json()).toMatchObject({ version: 4, description: null });
    const bad = expectProblem(await patch({ url: 'http://127.0.0.1:5432/', enabled_events: ['*', 'ping'] }));
    expect(bad.status).toBe(422);
    const badUrl = expectProblem(await patch({ url: 'http://192.168.1.1/' }));
    expect(badUrl.errors).toContainEqual(
      expect.objectContaining({ pointer: '/url', code: 'url_not_allowed' }),
    );
    const badStatus = expectProblem(await patch({ status: 'paused' }));
    expect(badStatus.errors).toContainEqual(expect.objectContaining({ pointer: '/status' }));
  });

  it('deletes softly: gone from the API, rows kept for history', async () => {
    const endpoint = await createOk();
    const deleted = await t.app.inject({
      method: 'DELETE',
      url: `/v1/webhook-endpoints/${endpoint.id}`,
      headers: merchant.headers,
    });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toEqual({ id: endpoint.id, object: 'webhook_endpoint', deleted: true });
    const read = await t.app.inject({
      method: 'GET',
      url: `/v1/webhook-endpoints/${endpoint.id}`,
      headers: merchant.headers,
    });
    expect(expectProblem(read).status).toBe(404);
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/v1/webhook-endpoints/${endpoint.id}`,
      headers: merchant.headers,
    });
    expect(expectProblem(again).status).toBe(404);
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/webhook-endpoints?limit=100',
      headers: merchant.headers,
    });
    expect((list.json() as { data: Endpoint[] }).data.map((e) => e.id)).not.toContain(endpoint.id);
    const { rows } = await t.database.db.query('SELECT deleted_at FROM webhook_endpoints WHERE id = $1', [
      endpoint.id,
    ]);
    expect(rows[0]!.deleted_at).toBeInstanceOf(Date);
  });
});

describe('POST /v1/webhook-endpoints/{id}/roll-secret', () => {
  it('issues a new secret with a 24 h overlap by default, or a chosen one', async () => {
    const endpoint = await createOk();
    const rotated = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/roll-secret`,
      headers: merchant.headers,
    });
    expect(rotated.statusCode).toBe(200);
    const body = rotated.json() as Endpoint;
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret).not.toBe(endpoint.secret);
    const overlap = new Date(body.previous_secret_expires_at!).getTime() - Date.now();
    expect(overlap).toBeGreaterThan(86_400_000 - 60_000);
    expect(overlap).toBeLessThanOrEqual(86_400_000);

    const immediate = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/roll-secret`,
      headers: merchant.headers,
      payload: { expire_previous_in_seconds: 0 },
    });
    expect(immediate.json()).toMatchObject({ previous_secret_expires_at: null });

    const tooLong = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/roll-secret`,
      headers: merchant.headers,
      payload: { expire_previous_in_seconds: 30 * 86_400 },
    });
    expect(expectProblem(tooLong).errors).toContainEqual(
      expect.objectContaining({ pointer: '/expire_previous_in_seconds' }),
    );
    const misspelt = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/roll-secret`,
      headers: merchant.headers,
      payload: { expire_previous_in_second: 0 },
    });
    expect(expectProblem(misspelt).errors).toEqual([
      expect.objectContaining({ pointer: '/expire_previous_in_second', code: 'unknown_field' }),
    ]);
  });

  it('keeps rotate-secret as a deprecated alias that rolls the same way', async () => {
    const endpoint = await createOk();
    const rolled = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`,
      headers: merchant.headers,
      payload: { expire_previous_in_seconds: 0 },
    });
    expect(rolled.statusCode).toBe(200);
    expect(rolled.headers['deprecation']).toMatch(/^@\d+$/);
    expect(rolled.headers['link']).toContain('rel="deprecation"');
    const body = rolled.json() as Endpoint;
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret).not.toBe(endpoint.secret);
    expect(body).toMatchObject({ previous_secret_expires_at: null, version: 2 });
    const current = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/roll-secret`,
      headers: merchant.headers,
    });
    expect(current.headers['deprecation']).toBeUndefined();
  });
});

describe('unknown body fields', () => {
  it('are refused one by one on create and test, with a pointer at each', async () => {
    const created = expectProblem(
      await create({ url: 'https://shop.example/hooks', enabled_events: ['*'], enabled_event: ['*'] }),
    );
    expect(created).toMatchObject({ status: 422, code: 'validation_failed' });
    expect(created.errors).toEqual([
      expect.objectContaining({ pointer: '/enabled_event', code: 'unknown_field' }),
    ]);
    const endpoint = await createOk();
    const test = expectProblem(
      await t.app.inject({
        method: 'POST',
        url: `/v1/webhook-endpoints/${endpoint.id}/test`,
        headers: merchant.headers,
        payload: { event_type: 'payment.succeeded' },
      }),
    );
    expect(test.errors).toEqual([expect.objectContaining({ pointer: '/event_type', code: 'unknown_field' })]);
  });
});

describe('OpenAPI', () => {
  it('documents the webhook and event routes with named components', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json() as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    for (const path of [
      '/v1/webhook-endpoints',
      '/v1/webhook-endpoints/{id}',
      '/v1/webhook-endpoints/{id}/roll-secret',
      '/v1/webhook-endpoints/{id}/rotate-secret',
      '/v1/webhook-endpoints/{id}/test',
      '/v1/events',
      '/v1/events/{id}',
      '/v1/events/{id}/deliveries',
      '/v1/events/{id}/redeliver',
      '/v1/orders/{id}/timeline',
    ]) {
      expect(document.paths, path).toHaveProperty([path]);
    }
    expect(document.paths['/v1/webhook-endpoints/{id}/rotate-secret']!.post).toMatchObject({
      deprecated: true,
    });
    expect(document.paths['/v1/webhook-endpoints/{id}/roll-secret']!.post).not.toHaveProperty('deprecated');
    for (const name of [
      'WebhookEndpoint',
      'WebhookEndpointWithSecret',
      'Event',
      'WebhookDelivery',
      'WebhookDeliveryAttempt',
      'OrderTimelineEntry',
    ]) {
      expect(document.components.schemas, name).toHaveProperty([name]);
    }
    const parameters = (
      document.paths['/v1/events']!.get as { parameters: { name: string }[] }
    ).parameters.map((p) => p.name);
    expect(parameters).toEqual(
      expect.arrayContaining([
        'type',
        'order_id',
        'checkout_id',
        'created_gte',
        'created_gt',
        'created_lte',
        'created_lt',
        'limit',
        'starting_after',
        'ending_before',
      ]),
    );
    for (const old of [
      'order',
      'checkout',
      'created[gte]',
      'created[lte]',
      'created_after',
      'created_before',
    ])
      expect(parameters).not.toContain(old);
  });
});
