import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

/** PATCH /v1/merchant: display name, branding and the defaults new checkouts inherit. */
describe('PATCH /v1/merchant', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant({ name: 'Nordlys ApS' });
  });
  afterAll(() => testApp.close());

  const patch = (payload: object, headers = merchant.headers) =>
    testApp.app.inject({ method: 'PATCH', url: '/v1/merchant', headers, payload });

  it('updates the given fields, keeps the others, bumps the version and writes merchant.updated', async () => {
    const before = (
      await testApp.app.inject({ method: 'GET', url: '/v1/merchant', headers: merchant.headers })
    ).json();
    const response = await patch({
      display_name: 'Nordlys',
      branding: { logo_url: 'https://cdn.nordlys.example/logo.svg', primary_color: '#0055FF' },
      default_locale: 'DA',
      default_capture_mode: 'manual',
      default_session_lifetime_seconds: 1800,
      default_callbacks: {
        ok: 'https://nordlys.example/kassa/ok',
        notification: 'https://nordlys.example/kassa/notify',
      },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      object: 'merchant',
      name: 'Nordlys ApS',
      display_name: 'Nordlys',
      branding: { logo_url: 'https://cdn.nordlys.example/logo.svg', primary_color: '#0055FF' },
      default_locale: 'DA',
      default_capture_mode: 'manual',
      default_session_lifetime_seconds: 1800,
      default_callbacks: {
        ok: 'https://nordlys.example/kassa/ok',
        notification: 'https://nordlys.example/kassa/notify',
      },
      version: before.version + 1,
    });
    const { rows } = await testApp.database.db.query<{
      object_version: number;
      data: Record<string, unknown>;
    }>(`SELECT object_version, data FROM events WHERE merchant_id = $1 AND type = 'merchant.updated'`, [
      merchant.merchantId,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      object_version: before.version + 1,
      data: { display_name: 'Nordlys', default_capture_mode: 'manual' },
    });
  });

  it('merges default_callbacks per callback (null removes one) and clears branding with null', async () => {
    const response = await patch({
      default_callbacks: { notification: null, fail: 'https://nordlys.example/kassa/fail' },
      branding: { logo_url: null },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      display_name: 'Nordlys',
      branding: { logo_url: null, primary_color: '#0055FF' },
      default_callbacks: {
        ok: 'https://nordlys.example/kassa/ok',
        fail: 'https://nordlys.example/kassa/fail',
      },
    });
    expect(response.json().default_callbacks).not.toHaveProperty('notification');
  });

  it.each([
    [{ display_name: '' }, '/display_name'],
    [{ display_name: '   ' }, '/display_name'],
    [{ display_name: 'x'.repeat(101) }, '/display_name'],
    [{ branding: { primary_color: 'blue' } }, '/branding/primary_color'],
    [{ branding: { primary_color: '#05f' } }, '/branding/primary_color'],
    [{ branding: { logo_url: 'javascript:alert(1)' } }, '/branding/logo_url'],
    [{ branding: { logo_url: '//cdn.example/logo.png' } }, '/branding/logo_url'],
    [{ default_locale: 'Danish' }, '/default_locale'],
    [{ default_capture_mode: 'sometimes' }, '/default_capture_mode'],
    [{ default_session_lifetime_seconds: 59 }, '/default_session_lifetime_seconds'],
    [{ default_session_lifetime_seconds: 30 * 24 * 3600 + 1 }, '/default_session_lifetime_seconds'],
    [{ default_callbacks: { ok: 'https://user:pw@shop.example/ok' } }, '/default_callbacks/ok'],
    [
      { default_callbacks: { notification: 'http://192.168.1.10/notify' } },
      '/default_callbacks/notification',
    ],
    [{ default_callbacks: { ok: 'https://shop.example/ok#x' } }, '/default_callbacks/ok'],
    [{ default_callbacks: { other: 'https://shop.example/' } }, '/default_callbacks/other'],
    [{ name: 'Renamed' }, '/name'],
    [{ default_capture: 'manual' }, '/default_capture'], // the old name: default_capture_mode is the one name
  ])('refuses %j', async (payload, pointer) => {
    const response = await patch(payload);
    expect(response.statusCode).toBe(422);
    expect(expectProblem(response).errors?.map((error) => error.pointer)).toContain(pointer);
  });

  it('accepts http:// URLs from test-mode credentials only', async () => {
    const testMode = await patch({ branding: { logo_url: 'http://localhost:3000/logo.png' } });
    expect(testMode.statusCode).toBe(200);
    const live = await issueCredentials(testApp.database.db, merchant.merchantId, true);
    const liveMode = await patch(
      { branding: { logo_url: 'http://localhost:3000/logo.png' } },
      { authorization: `Bearer ${live.apiKey}` },
    );
    expect(liveMode.statusCode).toBe(422);
    expect(expectProblem(liveMode).errors?.[0]).toMatchObject({
      pointer: '/branding/logo_url',
      code: 'invalid_url',
    });
  });

  it('an empty patch changes nothing', async () => {
    const before = (
      await testApp.app.inject({ method: 'GET', url: '/v1/merchant', headers: merchant.headers })
    ).json();
    const response = await patch({});
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(before);
  });
});
