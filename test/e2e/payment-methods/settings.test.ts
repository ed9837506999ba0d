import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

type Setting = {
  method: string;
  livemode: boolean;
  enabled: boolean;
  countries: string[] | null;
  currencies: string[] | null;
  min_amount: number | null;
  max_amount: number | null;
  devices: string[] | null;
  display_order: number;
  card_brands: string[] | null;
  version: number;
};

/** Payment-method settings (AltaPay's terminal settings) per merchant and mode. */
describe('payment-method settings', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant();
  });
  afterAll(() => testApp.close());

  const get = (headers = merchant.headers) =>
    testApp.app.inject({ method: 'GET', url: '/v1/payment-method-settings', headers });
  const put = (method: string, payload: object, headers = merchant.headers) =>
    testApp.app.inject({ method: 'PUT', url: `/v1/payment-method-settings/${method}`, headers, payload });
  const patch = (method: string, payload: object, headers = merchant.headers) =>
    testApp.app.inject({ method: 'PATCH', url: `/v1/payment-method-settings/${method}`, headers, payload });

  it('starts a new merchant with sensible defaults: card everywhere, invoice in some countries and amounts, wallet on mobile', async () => {
    const response = await get();
    expect(response.statusCode).toBe(200);
    const { object, data, ...rest } = response.json() as { object: string; data: Setting[] };
    expect(object).toBe('list');
    // The one list envelope; settings keyed by method are never paginated.
    expect(rest).toEqual({ has_more: false, next_cursor: null });
    expect(data.map((setting) => setting.method)).toEqual(['card', 'invoice', 'wallet']);
    const [card, invoice, wallet] = data;
    expect(card).toMatchObject({
      enabled: true,
      countries: null,
      currencies: null,
      min_amount: null,
      max_amount: null,
      devices: null,
      livemode: false,
      version: 1,
    });
    expect(card!.card_brands).toEqual(expect.arrayContaining(['visa', 'mastercard', 'amex']));
    expect(card!.card_brands).not.toContain('unknown');
    expect(invoice).toMatchObject({
      enabled: true,
      min_amount: 100,
      max_amount: 5_000_000,
      card_brands: null,
    });
    expect(invoice!.countries).toContain('DK');
    expect(wallet).toMatchObject({ enabled: true, devices: ['mobile'] });

    // Materialised once: reading again returns the same rows (same versions), not new ones.
    const { rows } = await testApp.database.db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM payment_method_settings WHERE merchant_id = $1',
      [merchant.merchantId],
    );
    expect(rows[0]!.count).toBe(3);
  });

  it('changes one method: omitted fields keep their value, null removes a restriction; versions and events follow', async () => {
    const response = await put('invoice', {
      countries: ['DK', 'SE'],
      min_amount: 5_000,
      max_amount: null,
      display_order: 0,
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      id: 'invoice', // one setting per method and mode: the method is its id
      object: 'payment_method_setting',
      method: 'invoice',
      enabled: true,
      countries: ['DK', 'SE'],
      currencies: ['DKK', 'SEK', 'NOK', 'EUR'],
      min_amount: 5_000,
      max_amount: null,
      display_order: 0,
      version: 2,
    });
    const listed = (await get()).json().data as Setting[];
    expect(listed.map((setting) => setting.method)).toEqual(['invoice', 'card', 'wallet']);

    const { rows } = await testApp.database.db.query<{
      object_id: string;
      object_version: number;
      data: Setting;
    }>(
      `SELECT object_id, object_version, data FROM events WHERE merchant_id = $1 AND type = 'payment_method_settings.updated'`,
      [merchant.merchantId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      object_id: 'invoice',
      object_version: 2,
      data: { min_amount: 5_000, countries: ['DK', 'SE'] },
    });
  });

  it('sets card brands for card only', async () => {
    const card = await put('card', { card_brands: ['visa', 'mastercard'] });
    expect(card.statusCode).toBe(200);
    expect(card.json().card_brands).toEqual(['visa', 'mastercard']);
    const wallet = await put('wallet', { card_brands: ['visa'] });
    expect(wallet.statusCode).toBe(422);
    expect(expectProblem(wallet).errors?.[0]).toMatchObject({
      pointer: '/card_brands',
      code: 'not_applicable',
    });
  });

  it.each([
    [{ countries: ['XX'] }, '/countries/0'],
    [{ countries: ['dk'] }, '/countries/0'],
    [{ countries: [] }, '/countries'],
    [{ countries: ['DK', 'DK'] }, '/countries'],
    [{ currencies: ['EURO'] }, '/currencies/0'],
    [{ min_amount: 10.5 }, '/min_amount'],
    [{ min_amount: -1 }, '/min_amount'],
    [{ max_amount: '100' }, '/max_amount'],
    [{ devices: ['tablet'] }, '/devices/0'],
    [{ card_brands: ['unknown'] }, '/card_brands/0'],
    [{ display_order: 1.5 }, '/display_order'],
    [{ enabled: 'yes' }, '/enabled'],
    [{ colour: 'red' }, '/colour'],
  ])('refuses %j', async (payload, pointer) => {
    const response = await put('card', payload);
    expect(response.statusCode).toBe(422);
    expect(expectProblem(response).errors?.map((error) => error.pointer)).toContain(pointer);
  });

  it('refuses min_amount above max_amount, also against the stored value', async () => {
    const both = await put('wallet', { min_amount: 500, max_amount: 100 });
    expect(both.statusCode).toBe(422);
    expect(expectProblem(both).errors?.[0]).toMatchObject({
      pointer: '/min_amount',
      code: 'min_exceeds_max',
    });
    expect((await put('wallet', { max_amount: 1_000 })).statusCode).toBe(200);
    const againstStored = await put('wallet', { min_amount: 2_000 });
    expect(againstStored.statusCode).toBe(422);
    expect(expectProblem(againstStored).errors?.[0]?.message).toBe(
      'must be at most max_amount (1000); got 2000',
    );
  });

  it('answers 404 for an unknown method', async () => {
    const response = await put('paypal', { enabled: false });
    expect(response.statusCode).toBe(404);
    expect(expectProblem(response).code).toBe('not_found');
  });

  it('keeps modes and merchants apart', async () => {
    await put('card', { enabled: false });
    const live = await issueCredentials(testApp.database.db, merchant.merchantId, true);
    const liveSettings = (await get({ authorization: `Bearer ${live.apiKey}` })).json().data as Setting[];
    expect(liveSettings.find((setting) => setting.method === 'card')).toMatchObject({
      enabled: true,
      livemode: true,
      version: 1,
    });
    const other = await testApp.createMerchant({ name: 'Other' });
    const otherSettings = (await get(other.headers)).json().data as Setting[];
    expect(otherSettings.find((setting) => setting.method === 'card')).toMatchObject({
      enabled: true,
      version: 1,
    });
  });

  describe('PATCH, the method, and PUT, its deprecated alias', () => {
    it('merges with PATCH: omitted fields keep their value, null removes a restriction, no Deprecation header', async () => {
      const other = await testApp.createMerchant({ name: 'Patcher' });
      const first = await patch('invoice', { countries: ['DK'], max_amount: null }, other.headers);
      expect(first.statusCode, first.body).toBe(200);
      expect(first.headers['deprecation']).toBeUndefined();
      expect(first.json()).toMatchObject({
        id: 'invoice',
        object: 'payment_method_setting',
        countries: ['DK'],
        min_amount: 100, // the default, kept
        max_amount: null,
        version: 2,
      });
      const second = await patch('invoice', { enabled: false }, other.headers);
      expect(second.json()).toMatchObject({
        enabled: false,
        countries: ['DK'],
        max_amount: null,
        version: 3,
      });
      const listed = (await get(other.headers)).json().data as Setting[];
      expect(listed.find((setting) => setting.method === 'invoice')).toMatchObject({
        enabled: false,
        countries: ['DK'],
        version: 3,
      });
    });

    it('validates PATCH like PUT: 422 with a pointer, 404 for an unknown method', async () => {
      const invalid = await patch('card', { countries: ['XX'], colour: 'red' });
      expect(invalid.statusCode).toBe(422);
      expect(expectProblem(invalid).errors?.map((error) => error.pointer)).toEqual(
        expect.arrayContaining(['/countries/0', '/colour']),
      );
      const unknown = await patch('paypal', { enabled: false });
      expect(unknown.statusCode).toBe(404);
      expect(expectProblem(unknown).code).toBe('not_found');
    });

    it('answers PUT the same way as PATCH, with Deprecation and Link headers', async () => {
      const other = await testApp.createMerchant({ name: 'Putter' });
      const viaPut = await put('wallet', { display_order: 7 }, other.headers);
      expect(viaPut.statusCode).toBe(200);
      expect(viaPut.headers['deprecation']).toMatch(/^@\d+$/);
      expect(viaPut.headers['link']).toContain('rel="deprecation"');
      expect(viaPut.json()).toMatchObject({
        method: 'wallet',
        display_order: 7,
        devices: ['mobile'],
        version: 2,
      });
    });

    it('documents PATCH as updatePaymentMethodSetting and PUT as deprecated in /openapi.json', async () => {
      const document = (await testApp.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<string, Record<string, { operationId?: string; deprecated?: boolean }>>;
      };
      const path = document.paths['/v1/payment-method-settings/{method}']!;
      expect(path['patch']).toMatchObject({ operationId: 'updatePaymentMethodSetting' });
      expect(path['patch']!.deprecated).toBeUndefined();
      expect(path['put']).toMatchObject({ operationId: 'replacePaymentMethodSetting', deprecated: true });
    });
  });
});
