import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stableStringify } from '../../../src/lib/hashing.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { cardMethod, createPaymentCheckout, payByApi, TEST_CARDS } from './payment-fixtures.ts';

/**
 * PCI DSS 3.3.1 / 3.5.1 and docs/hosted-page.md: card numbers and CVCs sent to the Processor API are never stored (not even
 * as a recoverable hash), never logged, never echoed. The test pays with distinctive cards through every path
 * (approved, declined, 3-D Secure, processor error, invalid input, idempotent retry), then searches every row
 * of every table of the database — Kassa's and the sandbox bank's — and every log line.
 */
describe('card data never stored, logged or echoed', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  const responses: string[] = [];
  // Distinctive values so a match cannot be a coincidence.
  const DISCOVER = '6011000990139424';
  const DISCOVER_CVC = '845';
  const INVALID_CVC_CARD = '5105105105105100';
  const SECRETS = [
    TEST_CARDS.approved,
    TEST_CARDS.declined,
    TEST_CARDS.threeDSecure,
    TEST_CARDS.processorError,
    DISCOVER,
    INVALID_CVC_CARD,
  ];
  const CVCS = ['731', DISCOVER_CVC, '96'];
  const rawBodies: unknown[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
    const pay = async (number: string, cvc: string, headers: Record<string, string> = {}) => {
      const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic' });
      const method = cardMethod(number, { cvc, holder_name: 'Card Holder' });
      rawBodies.push({ checkout_id: checkout.checkout_id, payment_method: method });
      const response = await payByApi(t, merchant, checkout.checkout_id, method, headers);
      responses.push(response.body);
      return response;
    };
    expect((await pay(TEST_CARDS.approved, '731')).statusCode).toBe(201);
    expect((await pay(TEST_CARDS.declined, '731')).json().status).toBe('REJECTED');
    expect((await pay(TEST_CARDS.threeDSecure, '731')).json().status).toBe('REQUIRES_ACTION');
    expect((await pay(TEST_CARDS.processorError, '731')).json().status).toBe('REJECTED');
    expect((await pay(INVALID_CVC_CARD, '96')).statusCode).toBe(422);
    // With an Idempotency-Key (the key's record keeps a fingerprint of the body, and the response).
    const first = await pay(DISCOVER, DISCOVER_CVC, { 'idempotency-key': 'pci-test-key' });
    expect(first.statusCode).toBe(201);
    const replay = await payByApi(
      t,
      merchant,
      first.json().checkout_id,
      cardMethod(DISCOVER, { cvc: DISCOVER_CVC, holder_name: 'Card Holder' }),
      {
        'idempotency-key': 'pci-test-key',
      },
    );
    expect(replay.headers['idempotent-replayed']).toBe('true');
    responses.push(replay.body);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function dumpDatabase(): Promise<string> {
    const { rows: tables } = await t.database.db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    expect(tables.map((table) => table.table_name)).toEqual(
      expect.arrayContaining(['payments', 'idempotency_keys', 'events']),
    );
    const parts: string[] = [];
    for (const { table_name: table } of tables) {
      const { rows } = await t.database.db.query<{ row: string }>(
        `SELECT row_to_json(t)::text AS row FROM "${table}" t`,
      );
      parts.push(...rows.map((row) => `${table}: ${row.row}`));
    }
    return parts.join('\n');
  }

  it('no card number or CVC in any row of any table, and no plain hash of a request body holding one', async () => {
    const dump = await dumpDatabase();
    expect(dump).toContain('"card_last4":"9424"'); // the payments are there
    for (const number of SECRETS) expect(dump).not.toContain(number);
    for (const cvc of CVCS) expect(dump).not.toMatch(new RegExp(`cvc\\W{0,6}${cvc}`, 'i'));
    // A plain SHA-256 over a body with the card could be brute-forced back to the number and CVC.
    for (const body of rawBodies) {
      const plain = createHash('sha256')
        .update(`POST /v1/payments\n${stableStringify(body)}`)
        .digest('hex');
      expect(dump).not.toContain(plain);
    }
  });

  it('no card number or CVC in any log line', () => {
    const logs = t.logs.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const number of SECRETS) expect(logs).not.toContain(number);
    for (const cvc of CVCS) expect(logs).not.toMatch(new RegExp(`cvc\\W{0,6}${cvc}`, 'i'));
  });

  it('no card number or CVC in any response, only brand and last 4', () => {
    const all = responses.join('\n');
    for (const number of SECRETS) expect(all).not.toContain(number);
    for (const cvc of CVCS) expect(all).not.toMatch(new RegExp(`cvc\\W{0,6}${cvc}`, 'i'));
    expect(all).toContain('"last4":"4242"');
  });
});
