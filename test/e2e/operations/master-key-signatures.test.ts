import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring } from '../../../src/lib/keyring.ts';
import { verifyCheckoutUrlSignature } from '../../../src/modules/checkouts/checkout.tokens.ts';
import { verifyPaymentLinkSignature } from '../../../src/modules/payment-links/payment-link.tokens.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  cardForm,
  createHostedCheckout,
  csrfOf,
  getPage,
  paymentsOf,
  postForm,
  type CreatedCheckout,
} from '../hosted-page/hosted-fixtures.ts';
import { createLink, type PaymentLinkJson } from '../payment-links/payment-link-fixtures.ts';

/**
 * Values signed with an HMAC of a key derived from the master key — checkout URLs, payment-link URLs (printed
 * as QR codes), the payment form's CSRF token — keep working after a master-key rotation while the previous
 * key is configured (`KASSA_MASTER_KEY_PREVIOUS`, docs/security.md "Master key"): the same database served by
 * a gateway with a new master key and the old one as previous.
 */

let before: TestApp;
let after: TestApp;
let merchant: TestMerchant;
let checkout: CreatedCheckout;
let link: PaymentLinkJson;
let formBeforeRotation: string;

beforeAll(async () => {
  before = await createTestApp();
  merchant = await before.createMerchant();
  checkout = await createHostedCheckout(before, merchant, { amount: 1500 });
  link = await createLink(before, merchant);
  const page = await getPage(before, checkout.path);
  expect(page.status).toBe(200);
  formBeforeRotation = csrfOf(page.html);
  after = await createTestApp({ rotatedFrom: before });
});
afterAll(async () => {
  await after?.close();
  await before?.close();
});

describe('after a master-key rotation, with the previous key configured', () => {
  it('a checkout URL signed before the rotation still opens the page', async () => {
    expect((await getPage(after, checkout.path)).status).toBe(200);
  });

  it('a payment link URL signed before the rotation still opens', async () => {
    const response = await after.app.inject({ method: 'GET', url: new URL(link.url).pathname });
    expect(response.statusCode).not.toBe(404);
    expect(response.statusCode).toBeLessThan(400);
  });

  it('a payment form loaded before the rotation is accepted after it, and the payment goes through', async () => {
    const submitted = await postForm(after, checkout.path, cardForm(formBeforeRotation));
    expect(submitted.status).toBe(303);
    const [payment] = await paymentsOf(after, checkout.checkoutId);
    expect(payment).toMatchObject({ status: 'SUCCEEDED', authorized_amount: 1500 });
  });

  it('new signatures use the new key; the new key alone does not accept the old ones, nor does another key', async () => {
    const [, , checkoutId, oldSignature] = checkout.path.split('/');
    const [, , linkId, oldLinkSignature] = new URL(link.url).pathname.split('/');
    const resource = await after.app.inject({
      url: `/v1/checkouts/${checkoutId}`,
      headers: merchant.headers,
    });
    const newPath = new URL((resource.json() as { checkout_redirect_url: string }).checkout_redirect_url)
      .pathname;
    expect(newPath).not.toBe(checkout.path);
    expect((await getPage(after, newPath)).status).toBe(200);

    const newKeyAlone = createKeyring(Buffer.from(after.masterKey, 'base64'));
    expect(verifyCheckoutUrlSignature(newKeyAlone, checkoutId!, oldSignature!)).toBe(false);
    expect(verifyPaymentLinkSignature(newKeyAlone, linkId!, oldLinkSignature!)).toBe(false);
    expect(verifyCheckoutUrlSignature(after.services.keyring, checkoutId!, oldSignature!)).toBe(true);
    const unrelated = createKeyring(randomBytes(32), [randomBytes(32)]);
    expect(verifyCheckoutUrlSignature(unrelated, checkoutId!, oldSignature!)).toBe(false);
  });
});
