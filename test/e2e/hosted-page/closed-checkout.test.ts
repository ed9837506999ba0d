import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
import {
  CARDS,
  cardForm,
  checkoutStatus,
  createHostedCheckout,
  csrfOf,
  getPage,
  paymentsOf,
  postForm,
} from './hosted-fixtures.ts';

/**
 * A session that takes no payment (paid, canceled, expired, or with an attempt in flight) is answered once,
 * by its closed or waiting page, and a form posted to it never reaches the payment code. The log lines of
 * those requests (captured from the app's pino destination stream) carry no page signature and no
 * "reply already sent" warning: a Fastify reply is thenable, so awaiting a function that returns one yields
 * `undefined`, and a check on that value used to fall through to a second rendering.
 */
describe('closed and busy checkouts on the hosted page', () => {
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
  beforeEach(() => {
    t.logs.length = 0;
  });

  const signatureOf = (path: string) => path.split('/')[3]!;
  const doctypes = (html: string) => html.match(/<!doctype html>/gi)?.length ?? 0;

  /**
   * Every log line written since the test began: no signature, no double answer. Fastify's "already sent"
   * warning comes after the response has gone out, so the lines are read once the event loop has moved on.
   */
  async function expectCleanLogs(signature: string) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const logs = t.logs.join('');
    expect(logs).toContain('request completed'); // the capture works: the request lines are there
    expect(logs).not.toContain(signature);
    expect(logs).not.toContain('FST_ERR_REP_ALREADY_SENT');
    expect(logs).not.toMatch(/already sent/i);
  }

  it('a paid checkout: the page once (200), a second payment refused (409) with no new payment row', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const csrf = csrfOf((await getPage(t, checkout.path)).html);
    const paid = await postForm(t, checkout.path, cardForm(csrf));
    expect(paid.status).toBe(303);
    expect(await paymentsOf(t, checkout.checkoutId)).toHaveLength(1);

    const page = await getPage(t, checkout.path);
    expect(page.status).toBe(200);
    expect(doctypes(page.html)).toBe(1);
    expect(page.html).not.toContain('name="card_number"');

    // The same still-valid form again, and another card: nothing reaches the payment flow.
    const again = await postForm(t, checkout.path, cardForm(csrf, CARDS.mastercard));
    expect(again.status).toBe(409);
    expect(doctypes(again.html)).toBe(1);
    const cancel = await postForm(t, `${checkout.path}/cancel`, { csrf_token: csrf });
    expect(cancel.status).toBe(409);

    expect(await paymentsOf(t, checkout.checkoutId)).toHaveLength(1);
    expect(await checkoutStatus(t, checkout.checkoutId)).toBe('COMPLETED');
    await expectCleanLogs(signatureOf(checkout.path));
  });

  it('a canceled checkout: a valid form posted to it is refused (409) and creates no payment row', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const csrf = csrfOf((await getPage(t, checkout.path)).html);
    const canceled = await postForm(t, `${checkout.path}/cancel`, { csrf_token: csrf });
    expect(canceled.status).toBe(303);

    const page = await getPage(t, checkout.path);
    expect(page.status).toBe(200);
    expect(doctypes(page.html)).toBe(1);
    const post = await postForm(t, checkout.path, cardForm(csrf));
    expect(post.status).toBe(409);
    expect(doctypes(post.html)).toBe(1);

    expect(await paymentsOf(t, checkout.checkoutId)).toEqual([]);
    expect(await checkoutStatus(t, checkout.checkoutId)).toBe('CANCELED');
    await expectCleanLogs(signatureOf(checkout.path));
  });

  it('an expired checkout (past its deadline, not yet swept): 410 on GET and POST, no payment row', async () => {
    const checkout = await createHostedCheckout(t, merchant, { expiresInSeconds: 120 });
    const csrf = csrfOf((await getPage(t, checkout.path)).html);
    clock.advance(121);

    const post = await postForm(t, checkout.path, cardForm(csrf));
    expect(post.status).toBe(410);
    expect(doctypes(post.html)).toBe(1);
    const page = await getPage(t, checkout.path);
    expect(page.status).toBe(410);
    expect(doctypes(page.html)).toBe(1);

    expect(await paymentsOf(t, checkout.checkoutId)).toEqual([]);
    expect(await checkoutStatus(t, checkout.checkoutId)).toBe('EXPIRED');
    await expectCleanLogs(signatureOf(checkout.path));
  });

  it('an attempt waiting for 3-D Secure: a second form goes back to the challenge, no second payment', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const csrf = csrfOf((await getPage(t, checkout.path)).html);
    const first = await postForm(t, checkout.path, cardForm(csrf, CARDS.threeDs));
    expect(first.status).toBe(303);
    const challenge = first.location!;
    expect(challenge).toContain('/sandbox/3ds/');

    const page = await getPage(t, checkout.path);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe(challenge);
    const second = await postForm(t, checkout.path, cardForm(csrf, CARDS.approved));
    expect(second.status).toBe(303);
    expect(second.location).toBe(challenge);

    expect(await paymentsOf(t, checkout.checkoutId)).toHaveLength(1);
    await expectCleanLogs(signatureOf(checkout.path));
  });
});
