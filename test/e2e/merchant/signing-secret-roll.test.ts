import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReturnSignature } from '../../../src/lib/return-signature.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createHostedCheckout, csrfOf, getPage, postForm } from '../hosted-page/hosted-fixtures.ts';

/**
 * Rolling the kss_ return-URL signing secret: during the overlap the redirect carries `signature` (previous
 * secret) and `next_signature` (new secret); a verifier written before rolling existed — the snippet of
 * docs/redirects.md as it was, which knows one secret and reads only `signature` — keeps working with the old
 * secret, and the repository's verifier works with either.
 */

/** The verifier merchants copied from docs/redirects.md before rolling existed (one secret, `signature`). */
function legacyVerify(landingUrl: string, secret: string): boolean {
  const params = new URL(landingUrl).searchParams;
  const names = ['checkout_id', 'order_id', 'status', 'timestamp', 'signature'];
  if (names.some((name) => params.getAll(name).length !== 1)) return false;
  const [checkoutId, orderId, status, timestamp, signature] = names.map((name) => params.get(name)!);
  const expected = createHmac('sha256', secret).update(`${checkoutId}.${orderId}.${status}.${timestamp}`);
  return expected.digest('hex') === signature;
}

describe('POST /v1/merchant/signing-secret/roll', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(() => t.close());

  const secretNow = async () =>
    (await t.app.inject({ url: '/v1/merchant/signing-secret', headers: merchant.headers })).json();

  async function canceledReturnUrl(): Promise<string> {
    const checkout = await createHostedCheckout(t, merchant);
    const page = await getPage(t, checkout.path);
    const canceled = await postForm(t, `${checkout.path}/cancel`, { csrf_token: csrfOf(page.html) });
    expect(canceled.status).toBe(303);
    return String(canceled.location);
  }

  function roll(payload: object) {
    return t.app.inject({
      method: 'POST',
      url: '/v1/merchant/signing-secret/roll',
      headers: { ...merchant.headers, 'content-type': 'application/json' },
      payload,
    });
  }

  it('sends both signatures during the overlap, the old one in `signature`; only the new one after it', async () => {
    const before = await secretNow();
    expect(before.previous_secret_expires_at).toBeNull();
    const plain = await canceledReturnUrl();
    expect(new URL(plain).searchParams.has('next_signature')).toBe(false);

    const rolled = await roll({ expire_previous_in_seconds: 3600 });
    expect(rolled.statusCode).toBe(200);
    expect(rolled.headers['cache-control']).toBe('no-store');
    const after = rolled.json();
    expect(after.secret).toMatch(/^kss_/);
    expect(after.secret).not.toBe(before.secret);
    // Each secret has its own id, so a rolled secret can be told from the one it replaced.
    expect(before.id).toMatch(/^ss_[0-9a-f]{44}$/);
    expect(after.id).toMatch(/^ss_[0-9a-f]{44}$/);
    expect(after.id).not.toBe(before.id);
    expect((await secretNow()).id).toBe(after.id);
    expect(Date.parse(after.previous_secret_expires_at) - Date.now()).toBeGreaterThan(3500_000);
    expect((await secretNow()).secret).toBe(after.secret);

    const during = await canceledReturnUrl();
    const params = new URL(during).searchParams;
    expect(params.getAll('signature')).toHaveLength(1);
    expect(params.getAll('next_signature')).toHaveLength(1);
    // A verifier that knows only the previous secret, unchanged, still accepts it.
    expect(legacyVerify(during, before.secret)).toBe(true);
    // The repository's verifier accepts it with either secret; a third secret fails.
    expect(verifyReturnSignature(during, before.secret)).toMatchObject({ valid: true, status: 'CANCELED' });
    expect(verifyReturnSignature(during, after.secret)).toMatchObject({ valid: true, status: 'CANCELED' });
    expect(verifyReturnSignature(during, 'kss_someone_else')).toEqual({
      valid: false,
      reason: 'signature_mismatch',
    });

    // Ending the overlap now: only the new secret signs, in `signature` again.
    const cut = await roll({ expire_previous_in_seconds: 0 });
    const latest = cut.json();
    expect(latest.id).not.toBe(after.id);
    const { rows: events } = await t.database.db.query<{ data: { id: string } }>(
      `SELECT data FROM events WHERE merchant_id = $1 AND type = 'signing_secret.rolled' ORDER BY seq`,
      [merchant.merchantId],
    );
    expect(events.map((event) => event.data.id)).toEqual([after.id, latest.id]);
    expect(latest.previous_secret_expires_at).toBeNull();
    const afterwards = await canceledReturnUrl();
    expect(new URL(afterwards).searchParams.has('next_signature')).toBe(false);
    expect(legacyVerify(afterwards, latest.secret)).toBe(true);
    expect(legacyVerify(afterwards, after.secret)).toBe(false);
    expect(verifyReturnSignature(afterwards, after.secret)).toMatchObject({ valid: false });
  });

  it('needs the merchant scope and refuses unknown fields', async () => {
    const token = await t.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      headers: { 'content-type': 'application/json' },
      payload: {
        grant_type: 'client_credentials',
        client_id: merchant.clientId,
        client_secret: merchant.clientSecret,
        scope: 'merchant:read',
      },
    });
    const readOnly = await t.app.inject({
      method: 'POST',
      url: '/v1/merchant/signing-secret/roll',
      headers: { authorization: `Bearer ${token.json().access_token}`, 'content-type': 'application/json' },
      payload: {},
    });
    expect(readOnly.statusCode).toBe(403);
    expect((await roll({ expire_in: 5 })).statusCode).toBe(422);
  });
});
