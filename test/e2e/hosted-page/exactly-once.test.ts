import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  CARDS,
  cardForm,
  countAuthorizations,
  createHostedCheckout,
  csrfOf,
  formBody,
  paymentsOf,
} from './hosted-fixtures.ts';

/**
 * Real parallel HTTP submissions against a listening gateway and the real database: however many arrive at
 * once — a double click without JavaScript, two tabs, a script — one authorization reaches the acquirer.
 */
describe('a checkout is charged exactly once', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp({ listen: true, poolMax: 20 });
    merchant = await t.createMerchant();
    // A slow acquirer keeps the first attempt in flight while the others arrive.
    t.services.sandbox.setFaults({ latencyMs: 150 });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function openPage(path: string): Promise<string> {
    const response = await fetch(`${t.baseUrl}${path}`);
    expect(response.status).toBe(200);
    return csrfOf(await response.text());
  }

  function submit(path: string, fields: Record<string, string>) {
    return fetch(`${t.baseUrl}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody(fields),
    }).then(async (response) => ({
      status: response.status,
      location: response.headers.get('location'),
      html: await response.text(),
    }));
  }

  it('ten parallel submissions of the same form: one authorization, one redirect, the rest wait or see the paid page', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const form = cardForm(await openPage(checkout.path));
    const responses = await Promise.all(Array.from({ length: 10 }, () => submit(checkout.path, form)));

    const payments = await paymentsOf(t, checkout.checkoutId);
    expect(payments.map((payment) => payment.status)).toEqual(['SUCCEEDED']);
    expect(await countAuthorizations(t, [payments[0]!.id])).toBe(1);
    const redirects = responses.filter((response) => response.status === 303);
    expect(redirects).toHaveLength(1);
    expect(redirects[0]!.location).toMatch(/^https:\/\/shop\.example\/complete\?/);
    for (const response of responses.filter((r) => r.status !== 303)) {
      expect(response.status).toBe(409);
      // Either "being confirmed" (refreshing itself) or, once done, "paid".
      expect(response.html).toMatch(/Confirming your payment|This order is paid/);
    }
    expect(responses.some((r) => r.html.includes('<meta http-equiv="refresh" content="2;url='))).toBe(true);
  });

  it('two tabs with different cards, submitted together: one charge', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const [tabA, tabB] = await Promise.all([openPage(checkout.path), openPage(checkout.path)]);
    const before = await countAuthorizations(t);
    const responses = await Promise.all([
      submit(checkout.path, cardForm(tabA, CARDS.approved)),
      submit(checkout.path, cardForm(tabB, CARDS.mastercard)),
    ]);
    expect(responses.map((r) => r.status).sort()).toEqual([303, 409]);
    expect(await countAuthorizations(t)).toBe(before + 1);
    expect((await paymentsOf(t, checkout.checkoutId)).map((p) => p.status)).toEqual(['SUCCEEDED']);
  });

  it('parallel 3-D Secure submissions start one challenge; the others are sent to the same challenge', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const form = cardForm(await openPage(checkout.path), CARDS.threeDs);
    const responses = await Promise.all(Array.from({ length: 6 }, () => submit(checkout.path, form)));
    const payments = await paymentsOf(t, checkout.checkoutId);
    expect(payments).toHaveLength(1);
    expect(await countAuthorizations(t, [payments[0]!.id])).toBe(1);
    const challenges = new Set(responses.filter((r) => r.status === 303).map((r) => r.location));
    expect(challenges.size).toBe(1);
    expect([...challenges][0]).toMatch(/\/sandbox\/3ds\/sbx_/);
  });

  it('parallel Pay and Cancel: exactly one of them wins', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const csrf = await openPage(checkout.path);
    const [paid, canceled] = await Promise.all([
      submit(checkout.path, cardForm(csrf)),
      submit(`${checkout.path}/cancel`, { csrf_token: csrf }),
    ]);
    const payments = await paymentsOf(t, checkout.checkoutId);
    const { rows } = await t.services.db.query<{ status: string }>(
      'SELECT status FROM checkouts WHERE id = $1',
      [checkout.checkoutId],
    );
    if (rows[0]!.status === 'COMPLETED') {
      expect(paid.status).toBe(303);
      expect(canceled.status).toBe(409);
      expect(payments.map((p) => p.status)).toEqual(['SUCCEEDED']);
    } else {
      expect(rows[0]!.status).toBe('CANCELED');
      expect(canceled.status).toBe(303);
      expect(payments.filter((p) => p.status === 'SUCCEEDED')).toEqual([]);
    }
  });
});
