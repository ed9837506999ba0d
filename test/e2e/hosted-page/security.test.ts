import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReturnSignature } from '../../../src/lib/return-signature.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
import { PROCESSING_RECOVERY_MS } from '../../../src/modules/payments/payment-flow.service.ts';
import {
  alertOf,
  CARDS,
  cardForm,
  checkoutStatus,
  createHostedCheckout,
  csrfOf,
  getPage,
  localPath,
  orderStatus,
  payWithCard,
  paymentsOf,
  postForm,
  signingSecret,
} from './hosted-fixtures.ts';

/** CSRF, signatures and expiry, with a clock the tests move (never by sleeping). */
describe('hosted page security', () => {
  const clock = createManualClock(new Date('2025-03-01T12:00:00.000Z'));
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp({ clock });
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("refuses a payment without a CSRF token, or with another checkout's, and charges nothing", async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const other = await createHostedCheckout(t, merchant);
    const otherToken = csrfOf((await getPage(t, other.path)).html);
    for (const csrf of ['', 'garbage', otherToken]) {
      const response = await postForm(t, checkout.path, cardForm(csrf));
      expect(response.status).toBe(403);
      expect(alertOf(response.html)).toBe('This form has expired. Check your details and try again.');
      expect(response.html).not.toContain(CARDS.approved);
      // The page comes back with a fresh, working token.
      expect(csrfOf(response.html)).not.toBe(csrf);
    }
    const cancel = await postForm(t, `${checkout.path}/cancel`, { csrf_token: otherToken });
    expect(cancel.status).toBe(403);
    expect(await checkoutStatus(t, checkout.checkoutId)).toBe('OPEN');
    expect(await paymentsOf(t, checkout.checkoutId)).toEqual([]);
  });

  it('a form older than two hours is shown again (form_expired) instead of being acted on', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const stale = csrfOf((await getPage(t, checkout.path)).html);
    clock.advance(2 * 3600 + 1);
    const response = await postForm(t, checkout.path, cardForm(stale));
    expect(response.status).toBe(403);
    expect(alertOf(response.html)).toBe('This form has expired. Check your details and try again.');
    expect(await paymentsOf(t, checkout.checkoutId)).toEqual([]);
    const fresh = await postForm(t, checkout.path, cardForm(csrfOf(response.html)));
    expect(fresh.status).toBe(303);
  });

  it('the 3-D Secure page refuses a decision without its own CSRF token', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const started = await payWithCard(t, checkout.path, CARDS.threeDs);
    const challenge = localPath(started.location!);
    // A token of the checkout page (another binding), a forged one, and none: all refused.
    const other = await createHostedCheckout(t, merchant);
    const checkoutToken = csrfOf((await getPage(t, other.path)).html);
    for (const csrf of [checkoutToken, `${checkoutToken.split('.')[0]}.${'A'.repeat(43)}`, '']) {
      const forged = await postForm(t, challenge, { csrf_token: csrf, outcome: 'complete' });
      expect(forged.status).toBe(403);
      expect(forged.html).toContain('Complete authentication');
    }
    const [payment] = await paymentsOf(t, checkout.checkoutId);
    expect(payment!.status).toBe('REQUIRES_ACTION');
    const unknown = await getPage(t, `/sandbox/3ds/sbx_${'0'.repeat(32)}`);
    expect(unknown.status).toBe(404);
    const wrongKind = await getPage(t, localPath(started.location!).replace('/3ds/', '/wallet/'));
    expect(wrongKind.status).toBe(404);
  });

  it('a merchant cannot be fooled by an edited return URL', async () => {
    const secret = await signingSecret(t, merchant);
    const checkout = await createHostedCheckout(t, merchant);
    const page = await getPage(t, checkout.path);
    const canceled = await postForm(t, `${checkout.path}/cancel`, { csrf_token: csrfOf(page.html) });
    const url = new URL(canceled.location!);
    expect(verifyReturnSignature(url, secret, { now: clock.now() }).valid).toBe(true);
    url.searchParams.set('status', 'PAID');
    expect(verifyReturnSignature(url, secret, { now: clock.now() })).toEqual({
      valid: false,
      reason: 'signature_mismatch',
    });
    const otherMerchant = await t.createMerchant();
    expect(await signingSecret(t, otherMerchant)).not.toBe(secret);
    // One secret per mode, stable across calls, stored encrypted.
    expect(await signingSecret(t, merchant)).toBe(secret);
    const { rows } = await t.services.db.query<{ secret_encrypted: Buffer }>(
      'SELECT secret_encrypted FROM merchant_signing_secrets WHERE merchant_id = $1',
      [merchant.merchantId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret_encrypted.toString('latin1')).not.toContain(secret);
  });

  it('an unknown outcome (acquirer timeout) shows a self-refreshing waiting page until recovery settles it', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const form = cardForm(csrfOf((await getPage(t, checkout.path)).html));
    t.services.sandbox.setFaults({ timeoutMs: 20 });
    let response;
    try {
      response = await postForm(t, checkout.path, form);
    } finally {
      t.services.sandbox.setFaults({});
    }
    expect(response.status).toBe(202);
    expect(response.html).toContain('Confirming your payment');
    expect(response.html).toContain(`<meta http-equiv="refresh" content="2;url=${checkout.path}" />`);
    // Reloading, or paying again, never starts a second attempt while the first is unknown.
    const waiting = await getPage(t, checkout.path);
    expect(waiting.status).toBe(200);
    expect(waiting.html).toContain('Confirming your payment');
    const again = await postForm(t, checkout.path, form);
    expect(again.status).toBe(409);
    expect(again.html).toContain('Confirming your payment');
    expect(await paymentsOf(t, checkout.checkoutId)).toHaveLength(1);

    clock.advance(PROCESSING_RECOVERY_MS / 1000 + 1);
    await t.services.payments.recover();
    const settled = await getPage(t, checkout.path);
    expect(settled.html).toContain('This order is paid');
    expect(await orderStatus(t, checkout.orderId)).toBe('PAID');
  });

  it('an expired session shows the expired page on GET and POST and accepts no payment', async () => {
    const checkout = await createHostedCheckout(t, merchant, { expiresInSeconds: 900 });
    const csrf = csrfOf((await getPage(t, checkout.path)).html);
    clock.advance(901);
    const page = await getPage(t, checkout.path);
    expect(page.status).toBe(410);
    expect(page.html).toContain('This checkout has expired');
    const toStore = await getPage(t, `${checkout.path}/store`);
    expect(toStore.status).toBe(303);
    expect(
      verifyReturnSignature(String(toStore.headers.location), await signingSecret(t, merchant), {
        now: clock.now(),
      }),
    ).toMatchObject({
      valid: true,
      status: 'EXPIRED',
    });
    const post = await postForm(t, checkout.path, cardForm(csrf));
    expect(post.status).toBe(410);
    expect(post.html).toContain('This checkout has expired');
    const cancel = await postForm(t, `${checkout.path}/cancel`, { csrf_token: csrf });
    expect(cancel.status).toBe(410);
    expect(await paymentsOf(t, checkout.checkoutId)).toEqual([]);
    expect(await checkoutStatus(t, checkout.checkoutId)).toBe('EXPIRED');
    expect(await orderStatus(t, checkout.orderId)).toBe('EXPIRED');
  });
});
