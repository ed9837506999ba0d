import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinMerchantApiVersion } from '../../../src/http/api-version.ts';
import { API_VERSIONS, LATEST_API_VERSION } from '../../../src/lib/api-versions.ts';
import { startWorkers } from '../../../src/workers/workers.ts';
import { createTestApp, expectProblem, type TestApp } from '../../fixtures/test-app.ts';
import { checkoutRequest, createCheckout, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';

describe('Kassa-Version', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await createTestApp();
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  const pinnedVersion = async (merchantId: string) =>
    (
      await t.database.db.query<{ api_version: string | null }>(
        'SELECT api_version FROM merchants WHERE id = $1',
        [merchantId],
      )
    ).rows[0]?.api_version;

  it('is a date, and the newest is last', () => {
    for (const version of API_VERSIONS) expect(version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect([...API_VERSIONS].sort()).toEqual([...API_VERSIONS]);
    expect(LATEST_API_VERSION).toBe(API_VERSIONS.at(-1));
  });

  it('is sent on every response: API, public, errors, unknown routes', async () => {
    const merchant = await t.createMerchant();
    for (const request of [
      { url: '/v1/merchant', headers: merchant.headers },
      { url: '/healthz' },
      { url: '/v1/merchant' }, // 401
      { url: '/v1/no-such-route', headers: merchant.headers },
      { url: '/openapi.json' },
    ]) {
      const response = await t.app.inject(request);
      expect(response.headers['kassa-version'], request.url).toBe(LATEST_API_VERSION);
    }
  });

  it('refuses an unknown version with 400 invalid_api_version before doing anything', async () => {
    const merchant = await t.createMerchant();
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: { ...merchant.headers, 'kassa-version': '2019-01-01' },
      payload: { url: 'https://shop.example/hooks', enabled_events: ['*'] },
    });
    expect(response.statusCode).toBe(400);
    const problem = expectProblem(response) as unknown as {
      code: string;
      detail: string;
      known_versions: string[];
    };
    expect(problem.code).toBe('invalid_api_version');
    expect(problem.detail).toContain('2019-01-01');
    expect(problem.known_versions).toEqual([...API_VERSIONS]);
    const { rows } = await t.database.db.query(
      'SELECT count(*)::int AS n FROM webhook_endpoints WHERE merchant_id = $1',
      [merchant.merchantId],
    );
    expect(rows[0]?.n).toBe(0);
    // …and the refused request pinned nothing.
    expect(await pinnedVersion(merchant.merchantId)).toBeNull();
  });

  it('is judged after the credential on authenticated routes, and on every other request too', async () => {
    const badVersion = { 'kassa-version': '2019-01-01' };
    // An authenticated route checks the credential first: a bad one is the 401, whatever the version says.
    const unauthenticated = await t.app.inject({
      url: '/v1/merchant',
      headers: { ...badVersion, authorization: 'Bearer sk_test_not_a_real_key_000000000000' },
    });
    expect(unauthenticated.statusCode).toBe(401);
    expect((expectProblem(unauthenticated) as { code: string }).code).toBe('invalid_api_key');
    // A public route and an unknown path have no credential to check: the version is refused there too.
    for (const url of ['/healthz', '/v1/no-such-route']) {
      const response = await t.app.inject({ url, headers: badVersion });
      expect(response.statusCode, url).toBe(400);
      expect((expectProblem(response) as { code: string }).code, url).toBe('invalid_api_version');
    }
    // A client token (no merchant to pin) gets the version it asks for.
    const merchant = await t.createMerchant();
    const checkout = await createCheckout(
      t,
      merchant,
      checkoutRequest(simpleOrder('DKK', 'DK', 5_000, 'version-order')),
    );
    const session = await t.app.inject({
      url: `/v1/checkouts/${checkout.checkout_id}/session`,
      headers: { authorization: `Bearer ${checkout.client_token}`, 'kassa-version': API_VERSIONS[0]! },
    });
    expect(session.statusCode, session.body).toBe(200);
    expect(session.headers['kassa-version']).toBe(API_VERSIONS[0]);
    expect(session.headers['access-control-allow-origin']).toBe('*');
  });

  it('accepts a known version and echoes it', async () => {
    const merchant = await t.createMerchant();
    const response = await t.app.inject({
      url: '/v1/merchant',
      headers: { ...merchant.headers, 'kassa-version': LATEST_API_VERSION },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['kassa-version']).toBe(LATEST_API_VERSION);
  });

  it('pins a merchant on its first authenticated request and shows it on GET /v1/merchant', async () => {
    const merchant = await t.createMerchant();
    expect(await pinnedVersion(merchant.merchantId)).toBeNull();
    const response = await t.app.inject({ url: '/v1/merchant', headers: merchant.headers });
    expect(response.json().api_version).toBe(LATEST_API_VERSION);
    expect(await pinnedVersion(merchant.merchantId)).toBe(LATEST_API_VERSION);
  });

  it('never moves a pin once set', async () => {
    const merchant = await t.createMerchant();
    await t.database.db.query("UPDATE merchants SET api_version = '2000-01-01' WHERE id = $1", [
      merchant.merchantId,
    ]);
    await pinMerchantApiVersion(t.database.db, merchant.merchantId, LATEST_API_VERSION);
    expect(await pinnedVersion(merchant.merchantId)).toBe('2000-01-01');
  });

  it("gives a webhook endpoint the merchant's version by default, or the one asked for; an unknown one is a 422", async () => {
    const merchant = await t.createMerchant();
    const create = (extra: Record<string, unknown>) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/webhook-endpoints',
        headers: merchant.headers,
        payload: { url: `${receiver.url}/v`, enabled_events: ['*'], ...extra },
      });
    const byDefault = await create({});
    expect(byDefault.statusCode).toBe(201);
    expect(byDefault.json().api_version).toBe(await pinnedVersion(merchant.merchantId));
    const explicit = await create({ api_version: LATEST_API_VERSION });
    expect(explicit.json().api_version).toBe(LATEST_API_VERSION);
    const unknown = await create({ api_version: '2019-01-01' });
    expect(unknown.statusCode).toBe(422);
    expect(expectProblem(unknown).errors?.[0]?.pointer).toBe('/api_version');
    const listed = await t.app.inject({ url: '/v1/webhook-endpoints', headers: merchant.headers });
    for (const endpoint of listed.json().data) expect(endpoint.api_version).toBe(LATEST_API_VERSION);
  });

  it("puts the endpoint's version in every delivered payload and the request's in every event object", async () => {
    const merchant = await t.createMerchant();
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: merchant.headers,
      payload: { url: `${receiver.url}/deliveries`, enabled_events: ['*'] },
    });
    const endpoint = created.json() as { id: string; secret: string };
    // The endpoint's own version is what a delivery renders in, whatever the merchant's: prove the column is read.
    await t.database.db.query("UPDATE webhook_endpoints SET api_version = '2000-01-01' WHERE id = $1", [
      endpoint.id,
    ]);
    const workers = startWorkers(t.services, t.app.log);
    try {
      const test = await t.app.inject({
        method: 'POST',
        url: `/v1/webhook-endpoints/${endpoint.id}/test`,
        headers: merchant.headers,
        payload: {},
      });
      expect(test.statusCode).toBe(202);
      t.services.outbox.notify();
      await receiver.waitFor((all) => all.some((r) => r.path === '/deliveries'));
    } finally {
      await workers.stop();
    }
    const webhook = receiver.received.find((r) => r.path === '/deliveries')!;
    const payload = verifyWebhook(endpoint.secret, webhook) as { type: string; api_version: string };
    expect(payload).toMatchObject({ type: 'ping', api_version: '2000-01-01' });

    const events = await t.app.inject({ url: '/v1/events', headers: merchant.headers });
    expect(events.json().data.length).toBeGreaterThan(0);
    for (const event of events.json().data) expect(event.api_version).toBe(LATEST_API_VERSION);
  });
});
