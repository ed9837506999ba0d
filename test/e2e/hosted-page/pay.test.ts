import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReturnSignature } from '../../../src/lib/return-signature.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  alertOf,
  CARDS,
  cardForm,
  checkoutStatus,
  countAuthorizations,
  createHostedCheckout,
  csrfOf,
  decideOnSandboxPage,
  getPage,
  localPath,
  orderStatus,
  payWithCard,
  paymentsOf,
  postForm,
  signingSecret,
} from './hosted-fixtures.ts';

const MOBILE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36';

describe('paying on the hosted page', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let secret: string;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
    secret = await signingSecret(t, merchant);
  });
  afterAll(async () => {
    await t?.close();
  });

  function expectSignedReturn(
    location: string | undefined,
    base: string,
    expected: { checkoutId: string; orderId: string; status: string },
  ) {
    expect(location?.startsWith(base)).toBe(true);
    const result = verifyReturnSignature(location!, secret);
    expect(result).toMatchObject({ valid: true, ...expected });
  }

  it('approved card: 303 to the completed URL with a verifiable signature; captured automatically', async () => {
    const checkout = await createHostedCheckout(t, merchant, { amount: 4200 });
    const response = await payWithCard(t, checkout.path, CARDS.approved);
    expect(response.status).toBe(303);
    expectSignedReturn(response.location, 'https://shop.example/complete?ref=abc&checkout_id=', {
      checkoutId: checkout.checkoutId,
      orderId: checkout.orderId,
      status: 'PAID',
    });
    const [payment] = await paymentsOf(t, checkout.checkoutId);
    expect(payment).toMatchObject({
      status: 'SUCCEEDED',
      authorized_amount: 4200,
      captured_amount: 4200,
      card_last4: '4242',
    });
    expect(await orderStatus(t, checkout.orderId)).toBe('PAID');
    expect(await checkoutStatus(t, checkout.checkoutId)).toBe('COMPLETED');
    expect(
      await t.services.sandbox.countOperations({
        paymentId: payment!.id,
        kind: 'capture',
        outcome: 'succeeded',
      }),
    ).toBe(1);
  });

  it('manual capture leaves the payment AUTHORIZED, nothing captured at the acquirer', async () => {
    const checkout = await createHostedCheckout(t, merchant, { capture: 'manual' });
    const response = await payWithCard(t, checkout.path, CARDS.mastercard);
    expectSignedReturn(response.location, 'https://shop.example/complete', {
      checkoutId: checkout.checkoutId,
      orderId: checkout.orderId,
      status: 'AUTHORIZED',
    });
    const [payment] = await paymentsOf(t, checkout.checkoutId);
    expect(payment).toMatchObject({ status: 'AUTHORIZED', captured_amount: 0 });
    expect(await t.services.sandbox.countOperations({ paymentId: payment!.id, kind: 'capture' })).toBe(0);
    expect(await orderStatus(t, checkout.orderId)).toBe('AUTHORIZED');
  });

  it('declined, then approved: the page explains and lets the shopper try again', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const declined = await payWithCard(t, checkout.path, CARDS.declined);
    expect(declined.status).toBe(402);
    expect(alertOf(declined.html)).toBe('Your card was declined. Try again or choose another method.');
    expect(declined.html).toContain('value="Ada Lovelace"');
    expect(await checkoutStatus(t, checkout.checkoutId)).toBe('OPEN');

    const poor = await postForm(t, checkout.path, cardForm(csrfOf(declined.html), CARDS.insufficientFunds));
    expect(alertOf(poor.html)).toBe(
      'Your card has insufficient funds. Try another card or choose another method.',
    );

    const approved = await postForm(t, checkout.path, cardForm(csrfOf(poor.html), CARDS.approved));
    expect(approved.status).toBe(303);
    const payments = await paymentsOf(t, checkout.checkoutId);
    expect(payments.map((payment) => payment.status)).toEqual(['REJECTED', 'REJECTED', 'SUCCEEDED']);
    expect(
      await countAuthorizations(
        t,
        payments.map((payment) => payment.id),
      ),
    ).toBe(3);
  });

  it('a processor error: no money taken, a clear message, and the shopper may retry', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const failed = await payWithCard(t, checkout.path, CARDS.processorError);
    expect(failed.status).toBe(402);
    expect(alertOf(failed.html)).toBe(
      'The payment could not be processed and no money was taken. Please try again shortly.',
    );
    const retried = await postForm(t, checkout.path, cardForm(csrfOf(failed.html)));
    expect(retried.status).toBe(303);
  });

  it('invalid card fields come back as 422 next to the fields, without the number or CVC, and charge nothing', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const page = await getPage(t, checkout.path);
    const response = await postForm(
      t,
      checkout.path,
      cardForm(csrfOf(page.html), '4242424242424241', { card_expiry: '13/30', card_cvc: '9876' }),
    );
    expect(response.status).toBe(422);
    expect(response.html).toContain('The card number is not valid.');
    expect(response.html).toContain('The month must be between 01 and 12.');
    expect(response.html).toContain('The security code is not valid.');
    expect(response.html).toContain('value="13/30"');
    expect(response.html).not.toContain('4242424242424241');
    // The page also carries random material (CSRF token, signed form action, ids) in which any four
    // digits can occur by chance; strip those long tokens before looking for the CVC.
    expect(response.html.replace(/[\w.-]{16,}/g, '')).not.toContain('9876');
    expect(response.html).not.toContain('value="9876"');
    expect(await paymentsOf(t, checkout.checkoutId)).toEqual([]);
  });

  it('3-D Secure passed: challenge page → return URL → completed URL', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const started = await payWithCard(t, checkout.path, CARDS.threeDs);
    expect(started.status).toBe(303);
    expect(localPath(started.location!)).toMatch(/^\/sandbox\/3ds\/sbx_[0-9a-f]{32}$/);
    const challenge = await getPage(t, localPath(started.location!));
    expect(challenge.html).toContain('Complete authentication');
    expect(challenge.html).toContain('Visa •••• 3220');
    expect(challenge.headers['content-security-policy']).toContain("frame-ancestors 'none'");

    const decided = await decideOnSandboxPage(t, started.location!, 'outcome', 'complete');
    expect(decided.status).toBe(303);
    expect(localPath(decided.location!)).toMatch(new RegExp(`^${checkout.path}/return/pay_[0-9a-f]{44}$`));
    const back = await getPage(t, localPath(decided.location!));
    expect(back.status).toBe(303);
    expectSignedReturn(back.headers.location as string, 'https://shop.example/complete', {
      checkoutId: checkout.checkoutId,
      orderId: checkout.orderId,
      status: 'PAID',
    });
    // Pressing a button again changes nothing and sends the shopper back.
    const again = await postForm(t, localPath(started.location!), {
      csrf_token: csrfOf(challenge.html),
      outcome: 'fail',
    });
    expect(again.status).toBe(303);
    expect((await paymentsOf(t, checkout.checkoutId)).map((p) => p.status)).toEqual(['SUCCEEDED']);
  });

  it('3-D Secure failed: back on the page with the reason, free to pay another way', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const started = await payWithCard(t, checkout.path, CARDS.threeDs);
    const decided = await decideOnSandboxPage(t, started.location!, 'outcome', 'fail');
    const back = await getPage(t, localPath(decided.location!));
    expect(back.status).toBe(402);
    expect(alertOf(back.html)).toBe(
      'Your card could not be authenticated. Try again or choose another method.',
    );
    const retried = await postForm(t, checkout.path, cardForm(csrfOf(back.html)));
    expect(retried.status).toBe(303);
    expect((await paymentsOf(t, checkout.checkoutId)).map((p) => p.status)).toEqual([
      'REJECTED',
      'SUCCEEDED',
    ]);
  });

  it('while 3-D Secure waits, the page sends the shopper back to the challenge instead of charging again', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const started = await payWithCard(t, checkout.path, CARDS.threeDs);
    const reloaded = await getPage(t, checkout.path);
    expect(reloaded.status).toBe(303);
    expect(reloaded.headers.location).toBe(started.location);
    expect(
      await countAuthorizations(
        t,
        (await paymentsOf(t, checkout.checkoutId)).map((p) => p.id),
      ),
    ).toBe(1);
  });

  it('wallet (mobile): approval page → completed URL', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const page = await getPage(t, checkout.path, { 'user-agent': MOBILE_UA });
    const started = await t.app.inject({
      method: 'POST',
      url: checkout.path,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': MOBILE_UA },
      payload: new URLSearchParams({ csrf_token: csrfOf(page.html), payment_method: 'wallet' }).toString(),
    });
    expect(started.statusCode).toBe(303);
    expect(localPath(String(started.headers.location))).toMatch(/^\/sandbox\/wallet\//);
    const decided = await decideOnSandboxPage(t, String(started.headers.location), 'decision', 'approve');
    const back = await getPage(t, localPath(decided.location!));
    expect(back.status).toBe(303);
    expectSignedReturn(String(back.headers.location), 'https://shop.example/complete', {
      checkoutId: checkout.checkoutId,
      orderId: checkout.orderId,
      status: 'PAID',
    });
  });

  it('invoice: PENDING order and redirect; the sandbox resolve endpoint finalises it', async () => {
    const checkout = await createHostedCheckout(t, merchant, {
      currency: 'DKK',
      country: 'DK',
      locale: 'DA',
    });
    const page = await getPage(t, checkout.path);
    const response = await postForm(t, checkout.path, {
      csrf_token: csrfOf(page.html),
      payment_method: 'invoice',
    });
    expect(response.status).toBe(303);
    expectSignedReturn(response.location, 'https://shop.example/complete', {
      checkoutId: checkout.checkoutId,
      orderId: checkout.orderId,
      status: 'PENDING',
    });
    expect(await orderStatus(t, checkout.orderId)).toBe('PENDING');
    const [payment] = await paymentsOf(t, checkout.checkoutId);
    expect(payment!.status).toBe('PENDING');

    // The finished session's page says so, with a signed link back.
    const closed = await getPage(t, checkout.path);
    expect(closed.html).toContain('Vi venter på bekræftelse');

    const resolve = (outcome: string) =>
      t.app.inject({
        method: 'POST',
        url: `/v1/sandbox/payments/${payment!.id}/resolve`,
        headers: merchant.headers,
        payload: { outcome },
      });
    const resolved = await resolve('SUCCEEDED');
    expect(resolved.statusCode).toBe(200);
    expect(resolved.json()).toMatchObject({ id: payment!.id, status: 'SUCCEEDED', captured_amount: 2500 });
    expect(await orderStatus(t, checkout.orderId)).toBe('PAID');
    // Resolving again changes nothing.
    const again = await resolve('REJECTED');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'SUCCEEDED' });
    expect(await orderStatus(t, checkout.orderId)).toBe('PAID');
  });

  it('a pending card rejected later through the resolve endpoint cancels the order', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const response = await payWithCard(t, checkout.path, CARDS.pending);
    expect(response.status).toBe(303);
    expect(verifyReturnSignature(response.location!, secret)).toMatchObject({
      valid: true,
      status: 'PENDING',
    });
    const [payment] = await paymentsOf(t, checkout.checkoutId);
    const resolved = await t.app.inject({
      method: 'POST',
      url: `/v1/sandbox/payments/${payment!.id}/resolve`,
      headers: merchant.headers,
      payload: { outcome: 'REJECTED' },
    });
    expect(resolved.json()).toMatchObject({ status: 'REJECTED', decline_code: 'payment_rejected' });
    expect(await orderStatus(t, checkout.orderId)).toBe('CANCELED');
  });

  it('the resolve endpoint: test mode only, 404 for unknown or foreign payments, 409 for non-pending ones', async () => {
    const live = await t.createMerchant({ livemode: true });
    const liveCall = await t.app.inject({
      method: 'POST',
      url: `/v1/sandbox/payments/pay_${'0'.repeat(32)}/resolve`,
      headers: live.headers,
      payload: { outcome: 'SUCCEEDED' },
    });
    expect(expectProblem(liveCall).code).toBe('livemode_not_allowed');
    expect(liveCall.statusCode).toBe(403);

    const unknown = await t.app.inject({
      method: 'POST',
      url: `/v1/sandbox/payments/pay_${'0'.repeat(32)}/resolve`,
      headers: merchant.headers,
      payload: { outcome: 'SUCCEEDED' },
    });
    expect(expectProblem(unknown).code).toBe('not_found');

    const checkout = await createHostedCheckout(t, merchant);
    await payWithCard(t, checkout.path, CARDS.threeDs);
    const [payment] = await paymentsOf(t, checkout.checkoutId);
    const other = await t.createMerchant();
    const foreign = await t.app.inject({
      method: 'POST',
      url: `/v1/sandbox/payments/${payment!.id}/resolve`,
      headers: other.headers,
      payload: { outcome: 'SUCCEEDED' },
    });
    expect(foreign.statusCode).toBe(404);
    const waiting = await t.app.inject({
      method: 'POST',
      url: `/v1/sandbox/payments/${payment!.id}/resolve`,
      headers: merchant.headers,
      payload: { outcome: 'SUCCEEDED' },
    });
    expect(expectProblem(waiting).code).toBe('invalid_state_transition');
    const badBody = await t.app.inject({
      method: 'POST',
      url: `/v1/sandbox/payments/${payment!.id}/resolve`,
      headers: merchant.headers,
      payload: { outcome: 'MAYBE' },
    });
    expect(expectProblem(badBody).code).toBe('validation_failed');
  });

  it('cancel: the session and order are canceled, 303 to the signed canceled URL; nothing more is accepted', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const page = await getPage(t, checkout.path);
    const canceled = await postForm(t, `${checkout.path}/cancel`, { csrf_token: csrfOf(page.html) });
    expect(canceled.status).toBe(303);
    expectSignedReturn(canceled.location, 'https://shop.example/cancel?checkout_id=', {
      checkoutId: checkout.checkoutId,
      orderId: checkout.orderId,
      status: 'CANCELED',
    });
    expect(await checkoutStatus(t, checkout.checkoutId)).toBe('CANCELED');
    expect(await orderStatus(t, checkout.orderId)).toBe('CANCELED');

    const after = await getPage(t, checkout.path);
    expect(after.html).toContain('Payment canceled');
    const toStore = await getPage(t, `${checkout.path}/store`);
    expectSignedReturn(String(toStore.headers.location), 'https://shop.example/cancel', {
      checkoutId: checkout.checkoutId,
      orderId: checkout.orderId,
      status: 'CANCELED',
    });
    const payAfter = await postForm(t, checkout.path, cardForm(csrfOf(page.html)));
    expect(payAfter.status).toBe(409);
    expect(payAfter.html).toContain('Payment canceled');
    expect(await paymentsOf(t, checkout.checkoutId)).toEqual([]);
  });

  it('after success, reloading and re-posting show the paid page and never charge again', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const page = await getPage(t, checkout.path);
    const form = cardForm(csrfOf(page.html));
    expect((await postForm(t, checkout.path, form)).status).toBe(303);
    const repost = await postForm(t, checkout.path, form);
    expect(repost.status).toBe(409);
    expect(repost.html).toContain('This order is paid');
    // "Return to the store" is signed when followed.
    const returnLink = /class="button button--primary" href="([^"]+)"/.exec(repost.html)?.[1];
    expect(returnLink).toBe(`${t.baseUrl}${checkout.path}/store`);
    const toStore = await getPage(t, localPath(returnLink!));
    expect(toStore.status).toBe(303);
    expect(verifyReturnSignature(String(toStore.headers.location), secret)).toMatchObject({
      valid: true,
      status: 'PAID',
    });
    const reload = await getPage(t, checkout.path);
    expect(reload.status).toBe(200);
    expect(reload.html).toContain('This order is paid');
    const ids = (await paymentsOf(t, checkout.checkoutId)).map((payment) => payment.id);
    expect(ids).toHaveLength(1);
    expect(await countAuthorizations(t, ids)).toBe(1);
  });

  it("the return URL of another checkout's payment is a 404", async () => {
    const first = await createHostedCheckout(t, merchant);
    await payWithCard(t, first.path, CARDS.approved);
    const [payment] = await paymentsOf(t, first.checkoutId);
    const second = await createHostedCheckout(t, merchant);
    const response = await getPage(t, `${second.path}/return/${payment!.id}`);
    expect(response.status).toBe(404);
  });
});
