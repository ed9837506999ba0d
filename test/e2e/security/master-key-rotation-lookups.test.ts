import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardFingerprint } from '../../../src/lib/card.ts';
import { createKeyring } from '../../../src/lib/keyring.ts';
import { proxyPathFor, verifyProxySignature } from '../../../src/modules/callbacks/callback-proxy-url.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  RECEIVER_ALLOW_LIST_ENV,
  startCallbackReceiver,
  type CallbackReceiver,
} from '../callbacks/callback-fixtures.ts';
import {
  CARDS,
  cardForm,
  countAuthorizations,
  createHostedCheckout,
  csrfOf,
  getPage,
  paymentsOf,
  postForm,
} from '../hosted-page/hosted-fixtures.ts';

/**
 * What is looked up by a keyed HMAC of the master key — a card's fingerprint (the per-card decline limit, the
 * de-duplication of saved cards) and the signature of a callback page's proxied image — keeps being found
 * after a master-key rotation (docs/security.md, "Master key"): the same database served by a gateway with a
 * new master key and the old one as `KASSA_MASTER_KEY_PREVIOUS`. The rotated gateway is a new process: what it
 * finds comes from PostgreSQL and its configuration, nothing held in memory.
 */

const ENV = {
  ...RECEIVER_ALLOW_LIST_ENV,
  KASSA_CARD_DECLINES_PER_CHECKOUT: '0',
  KASSA_CARD_DECLINES_PER_CARD: '3',
  KASSA_CARD_DECLINES_PER_ADDRESS: '0',
  KASSA_CARD_DECLINE_LIMITS_IN_TEST_MODE: 'true',
};

// A 1×1 transparent PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

let before: TestApp;
let after: TestApp;
let merchant: TestMerchant;
let receiver: CallbackReceiver;

/** `POST /v1/payments` with a raw card on a new checkout: 201 (SUCCEEDED or REJECTED) or 429. */
async function payByApi(t: TestApp, number: string) {
  const checkout = await createHostedCheckout(t, merchant);
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: { ...merchant.headers, 'content-type': 'application/json' },
    payload: {
      checkout_id: checkout.checkoutId,
      payment_method: {
        type: 'card',
        card: { number, exp_month: 12, exp_year: 2040, cvc: '123', holder_name: 'Ada Lovelace' },
      },
    },
  });
  return { status: response.statusCode, body: response.json() as { status?: string; code?: string } };
}

beforeAll(async () => {
  receiver = await startCallbackReceiver();
  receiver.on('/logo.png', { status: 200, headers: { 'content-type': 'image/png' }, body: PNG });
  before = await createTestApp({ env: ENV });
  merchant = await before.createMerchant();
  after = await createTestApp({ env: ENV, rotatedFrom: before });
});
afterAll(async () => {
  await after?.close();
  await before?.close();
  await receiver?.close();
});

describe('per-card decline limit across a master-key rotation', () => {
  it('declines counted before the rotation still count: three before → the next attempt after it is 429', async () => {
    const card = '4000 0000 0000 0002';
    for (let i = 0; i < 3; i += 1) expect((await payByApi(before, card)).body.status).toBe('REJECTED');
    // The old gateway refuses the fourth…
    expect((await payByApi(before, card)).body.code).toBe('too_many_attempts');
    // …and so does the rotated one, whose own fingerprint of the card was never counted.
    const authorizations = await countAuthorizations(after);
    const refused = await payByApi(after, card);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('too_many_attempts');
    expect(await countAuthorizations(after)).toBe(authorizations);
  });

  it('declines before and after add up: two before, one after → the fourth attempt is 429', async () => {
    const card = '4000000000009995';
    for (let i = 0; i < 2; i += 1) expect((await payByApi(before, card)).body.status).toBe('REJECTED');
    expect((await payByApi(after, card)).body.status).toBe('REJECTED');
    const refused = await payByApi(after, card);
    expect(refused.status).toBe(429);
    // Counted under the current key only; the sum is what refuses.
    const { rows } = await after.database.db.query<{ key: string; points: number }>(
      'SELECT key, points FROM card_attempt_limits WHERE key = ANY($1::text[]) ORDER BY points',
      [
        [before, after].map(
          (t) =>
            `test:${merchant.merchantId}:card:${cardFingerprint(card, t.services.keyring.key('card-fingerprint'))}`,
        ),
      ],
    );
    expect(rows.map((row) => row.points)).toEqual([1, 2]);
  });

  it('a card with no declines is not held back after the rotation', async () => {
    expect((await payByApi(after, CARDS.approved)).body.status).toBe('SUCCEEDED');
  });
});

describe('saved cards across a master-key rotation', () => {
  it('saving the same card again after the rotation refreshes its entry (one entry, re-keyed), and it still pays', async () => {
    const email = 'rotated@example.com';
    const first = await createHostedCheckout(before, merchant, { allowSave: true, email, verified: true });
    const paid = await postForm(
      before,
      first.path,
      cardForm(csrfOf((await getPage(before, first.path)).html), CARDS.mastercard, { save_card: 'yes' }),
    );
    expect(paid.status).toBe(303);
    const savedBefore = await after.database.db.query<{ id: string; card_fingerprint: string }>(
      'SELECT id, card_fingerprint FROM saved_payment_methods WHERE customer_id = $1',
      [first.customerId],
    );
    expect(savedBefore.rows).toHaveLength(1);

    const second = await createHostedCheckout(after, merchant, { allowSave: true, email, verified: true });
    expect(second.customerId).toBe(first.customerId);
    const again = await postForm(
      after,
      second.path,
      cardForm(csrfOf((await getPage(after, second.path)).html), CARDS.mastercard, { save_card: 'yes' }),
    );
    expect(again.status).toBe(303);
    const { rows } = await after.database.db.query<{ id: string; card_fingerprint: string }>(
      'SELECT id, card_fingerprint FROM saved_payment_methods WHERE customer_id = $1 AND deleted_at IS NULL',
      [first.customerId],
    );
    expect(rows).toEqual([
      {
        id: savedBefore.rows[0]!.id,
        card_fingerprint: cardFingerprint(CARDS.mastercard, after.services.keyring.key('card-fingerprint')),
      },
    ]);

    // Offered and chargeable (its sealed data matches its re-keyed row).
    const third = await createHostedCheckout(after, merchant, { allowSave: true, email, verified: true });
    const page = await getPage(after, third.path);
    expect(page.html).toContain(rows[0]!.id);
    const charged = await postForm(after, third.path, {
      csrf_token: csrfOf(page.html),
      payment_method: rows[0]!.id,
    });
    expect(charged.status).toBe(303);
    const [payment] = await paymentsOf(after, third.checkoutId);
    expect(payment).toMatchObject({ status: 'SUCCEEDED', saved_payment_method_id: rows[0]!.id });
  });
});

describe('an idempotent POST /v1/payments retried across a master-key rotation', () => {
  it('is replayed, not refused as another request (its stored fingerprint keys the card under the old key)', async () => {
    const checkout = await createHostedCheckout(before, merchant);
    const request = (t: TestApp) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/payments',
        headers: { ...merchant.headers, 'idempotency-key': 'retried-across-rotation' },
        payload: {
          checkout_id: checkout.checkoutId,
          payment_method: {
            type: 'card',
            card: { number: CARDS.approved, exp_month: 12, exp_year: 2040, cvc: '123', holder_name: 'Ada' },
          },
        },
      });
    const first = await request(before);
    expect(first.statusCode).toBe(201);
    const retried = await request(after);
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect((retried.json() as { id: string }).id).toBe((first.json() as { id: string }).id);
    // Another card under the same key is still another request.
    const other = await after.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: { ...merchant.headers, 'idempotency-key': 'retried-across-rotation' },
      payload: {
        checkout_id: checkout.checkoutId,
        payment_method: {
          type: 'card',
          card: { number: CARDS.mastercard, exp_month: 12, exp_year: 2040, cvc: '123', holder_name: 'Ada' },
        },
      },
    });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'idempotency_key_reused' });
  });
});

describe('callback proxy URLs across a master-key rotation', () => {
  it('an image URL signed before the rotation is still served; a forged or unrelated-key one is not', async () => {
    const url = `${receiver.url}/logo.png`;
    const path = proxyPathFor(before.services.keyring, url);
    const served = await after.app.inject({ method: 'GET', url: path });
    expect(served.statusCode).toBe(200);
    expect(served.rawPayload.equals(PNG)).toBe(true);
    // New URLs carry the new key's signature, which the old gateway does not know.
    const newPath = proxyPathFor(after.services.keyring, url);
    expect(newPath).not.toBe(path);
    expect((await after.app.inject({ method: 'GET', url: newPath })).statusCode).toBe(200);
    expect((await before.app.inject({ method: 'GET', url: newPath })).statusCode).toBe(404);

    const signature = path.split('/')[2]!.split('?')[0]!;
    const newKeyAlone = createKeyring(Buffer.from(after.masterKey, 'base64'));
    expect(verifyProxySignature(newKeyAlone, url, signature)).toBe(false);
    expect(verifyProxySignature(createKeyring(randomBytes(32), [randomBytes(32)]), url, signature)).toBe(
      false,
    );
    expect(verifyProxySignature(after.services.keyring, `${url}?x`, signature)).toBe(false);
  });
});
