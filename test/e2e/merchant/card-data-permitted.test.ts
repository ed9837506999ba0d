import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../fixtures/database.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { cardMethod, createPaymentCheckout, payByApi } from '../payments/payment-fixtures.ts';

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const MIGRATION = fileURLToPath(
  new URL('../../../src/db/migrations/0013_merchant-card-data-permitted.sql', import.meta.url),
);
const run = promisify(execFile);

describe('card_data_permitted gates raw card data on the Processor API', () => {
  let t: TestApp;
  let dataDir: string;
  beforeAll(async () => {
    t = await createTestApp();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'kassa-card-data-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await t.close();
  });

  function kassa(...args: string[]) {
    return run(process.execPath, [KASSA_BIN, ...args], {
      timeout: 60_000,
      env: {
        ...process.env,
        DATABASE_URL: t.database.connectionString,
        KASSA_ENV: 'test',
        KASSA_MASTER_KEY: t.masterKey,
        KASSA_DATA_DIR: dataDir,
        KASSA_LOG_LEVEL: 'warn',
      },
    });
  }

  async function paymentCount(merchant: TestMerchant) {
    const { rows } = await t.database.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM payments WHERE merchant_id = $1',
      [merchant.merchantId],
    );
    return rows[0]!.n;
  }

  it('refuses card data from a merchant without the permission (403, nothing charged) and GET /v1/merchant says so', async () => {
    const merchant = await t.createMerchant({ cardData: false });
    const me = await t.app.inject({ url: '/v1/merchant', headers: merchant.headers });
    expect(me.json().card_data_permitted).toBe(false);

    const checkout = await createPaymentCheckout(t, merchant);
    const refused = await payByApi(t, merchant, checkout.checkout_id, cardMethod(), {
      'idempotency-key': 'card-data-1',
    });
    expect(refused.statusCode).toBe(403);
    expect(expectProblem(refused).code).toBe('card_data_not_permitted');
    expect(await paymentCount(merchant)).toBe(0);
    const after = await t.app.inject({
      url: `/v1/checkouts/${checkout.checkout_id}`,
      headers: merchant.headers,
    });
    expect(after.json().status).toBe('OPEN');
    // The card number is nowhere in the answer or the logs.
    expect(refused.body).not.toContain('4242424242424242');
    expect(t.logs.join('')).not.toContain('4242424242424242');
  });

  it('accepts card data from a merchant with the permission', async () => {
    const merchant = await t.createMerchant({ cardData: true });
    const me = await t.app.inject({ url: '/v1/merchant', headers: merchant.headers });
    expect(me.json().card_data_permitted).toBe(true);
    const checkout = await createPaymentCheckout(t, merchant);
    const paid = await payByApi(t, merchant, checkout.checkout_id, cardMethod(), {
      'idempotency-key': 'card-data-2',
    });
    expect(paid.statusCode).toBe(201);
    expect(paid.json().status).toBe('AUTHORIZED');
  });

  it('the merchant cannot grant itself the permission through PATCH /v1/merchant', async () => {
    const merchant = await t.createMerchant({ cardData: false });
    const patch = await t.app.inject({
      method: 'PATCH',
      url: '/v1/merchant',
      headers: { ...merchant.headers, 'content-type': 'application/json' },
      payload: { card_data_permitted: true },
    });
    expect(patch.statusCode).toBe(422);
    const me = await t.app.inject({ url: '/v1/merchant', headers: merchant.headers });
    expect(me.json().card_data_permitted).toBe(false);
  });

  it('kassa merchant create --card-data and kassa merchant update ID --card-data on|off (applied within 1 s)', async () => {
    const created = JSON.parse((await kassa('merchant', 'create', '--name', 'CLI Shop', '--json')).stdout);
    expect(created.card_data_permitted).toBe(false);
    const permitted = JSON.parse(
      (await kassa('merchant', 'create', '--name', 'CLI Card Shop', '--card-data', '--json')).stdout,
    );
    expect(permitted.card_data_permitted).toBe(true);

    const merchant: TestMerchant = {
      merchantId: created.merchant_id,
      livemode: false,
      clientId: created.client_id,
      clientSecret: created.client_secret,
      apiKey: created.api_key,
      headers: { authorization: `Bearer ${created.api_key}` },
    };
    const first = await createPaymentCheckout(t, merchant);
    expect((await payByApi(t, merchant, first.checkout_id, cardMethod())).statusCode).toBe(403);

    const on = await kassa('merchant', 'update', created.merchant_id, '--card-data', 'on');
    expect(on.stdout).toContain('raw card data allowed');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the merchant cache's TTL
    expect((await t.app.inject({ url: '/v1/merchant', headers: merchant.headers })).json()).toMatchObject({
      card_data_permitted: true,
    });
    expect((await payByApi(t, merchant, first.checkout_id, cardMethod())).statusCode).toBe(201);

    await kassa('merchant', 'update', created.merchant_id, '--card-data', 'off');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await createPaymentCheckout(t, merchant);
    expect((await payByApi(t, merchant, second.checkout_id, cardMethod())).statusCode).toBe(403);

    await expect(
      kassa('merchant', 'update', created.merchant_id, '--card-data', 'maybe'),
    ).rejects.toMatchObject({ code: 2 });
    await expect(kassa('merchant', 'update', 'mer_unknown', '--card-data', 'on')).rejects.toMatchObject({
      code: 1,
    });
  }, 120_000);

  it('the migration turns the permission on for merchants that existed before it, off for new ones', async () => {
    const database = await createTestDatabase();
    try {
      // The schema as it was before the migration, with one merchant.
      await database.db.query('ALTER TABLE merchants DROP COLUMN card_data_permitted');
      await database.db.query("INSERT INTO merchants (id, name) VALUES ('mer_before', 'Before')");
      await database.pool.query(await readFile(MIGRATION, 'utf8'));
      await database.db.query("INSERT INTO merchants (id, name) VALUES ('mer_after', 'After')");
      const { rows } = await database.db.query<{ id: string; card_data_permitted: boolean }>(
        'SELECT id, card_data_permitted FROM merchants ORDER BY id',
      );
      expect(rows).toEqual([
        { id: 'mer_after', card_data_permitted: false },
        { id: 'mer_before', card_data_permitted: true },
      ]);
    } finally {
      await database.close();
    }
  });
});
