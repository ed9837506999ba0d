/**
 * `verify_order` (the callbacks flow, docs/hosted-page.md): asked after the attempt starts and before the processor is called.
 * Only `200` + `OKAY` lets the payment proceed; anything else stops it — REJECTED with decline code
 * `order_verification_failed`, no authorization at the sandbox acquirer — and the shopper sees the first 255
 * characters of the answer. The same veto holds for the Processor API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  CARDS,
  cardForm,
  countAuthorizations,
  csrfOf,
  getPage,
  postForm,
} from '../hosted-page/hosted-fixtures.ts';
import {
  FAST_CALLBACK_ENV,
  callbackAttemptsOf,
  callbackSecret,
  createCallbackCheckout,
  paymentsOfCheckout,
  startCallbackReceiver,
  verifyCallback,
  type CallbackReceiver,
  type CallbackReply,
} from './callback-fixtures.ts';

let t: TestApp;
let receiver: CallbackReceiver;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ env: FAST_CALLBACK_ENV });
  receiver = await startCallbackReceiver();
  merchant = await t.createMerchant({ name: 'Verifying Shop' });
});

afterAll(async () => {
  await receiver.close();
  await t.close();
});

async function payWithVerification(path: string, reply: CallbackReply) {
  receiver.on(path, reply);
  const checkout = await createCallbackCheckout(t, merchant, { verify_order: `${receiver.url}${path}` });
  const page = await getPage(t, checkout.path);
  const response = await postForm(t, checkout.path, cardForm(csrfOf(page.html), CARDS.approved));
  const payments = await paymentsOfCheckout(t, checkout.checkoutId);
  const authorizations = await countAuthorizations(
    t,
    payments.map((p) => p.id),
  );
  return { checkout, response, payments, authorizations };
}

/** The alert text of a re-rendered payment page, entities decoded. */
function alertTexts(html: string): string[] {
  return [...html.matchAll(/class="alert__message[^"]*">([^<]*)</g)].map((match) =>
    match[1]!
      .replaceAll('&amp;', '&')
      .replaceAll('&#39;', "'")
      .replaceAll('&quot;', '"')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>'),
  );
}

describe('verify_order', () => {
  it('200 OKAY lets the payment proceed: one authorization, and the request was signed', async () => {
    const { checkout, response, payments, authorizations } = await payWithVerification('/verify-ok', {
      status: 200,
      body: 'OKAY\n',
    });
    expect(response.status).toBe(303);
    expect(payments).toMatchObject([{ status: 'SUCCEEDED' }]);
    expect(authorizations).toBe(1);
    const [request] = receiver.receivedAt('/verify-ok');
    const secret = await callbackSecret(t, merchant);
    expect(() => verifyCallback(secret, request!)).not.toThrow();
    expect(request!.form.get('callback')).toBe('verify_order');
    expect(request!.form.get('payment_id')).toBe(payments[0]!.id);
    expect(request!.form.get('amount')).toBe('2500');
    expect(await callbackAttemptsOf(t, checkout.orderId)).toMatchObject([
      { kind: 'verify_order', result: 'accepted' },
    ]);
  });

  it('200 with another body stops the payment before authorization and shows the reason', async () => {
    const { checkout, response, payments, authorizations } = await payWithVerification('/verify-stock', {
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'OUT OF STOCK – sorry',
    });
    expect(authorizations).toBe(0);
    expect(payments).toMatchObject([
      {
        status: 'REJECTED',
        decline_code: 'order_verification_failed',
        failure_message: 'OUT OF STOCK – sorry',
      },
    ]);
    expect(response.status).toBe(402);
    expect(alertTexts(response.html)).toContain('OUT OF STOCK – sorry');
    // The session is still open: the shopper may try again (the store may restock).
    expect((await getPage(t, checkout.path)).html).toContain('name="card_number"');
    expect(await callbackAttemptsOf(t, checkout.orderId)).toMatchObject([
      { kind: 'verify_order', result: 'refused', status_code: 200, error: 'OUT OF STOCK – sorry' },
    ]);
  });

  it('shows only the first 255 characters of a long answer (counted in characters, not bytes)', async () => {
    const reason = `${'é'.repeat(250)}🙂🙂🙂🙂🙂🙂🙂🙂`;
    const { response, payments, authorizations } = await payWithVerification('/verify-long', {
      status: 200,
      body: reason,
    });
    expect(authorizations).toBe(0);
    const expected = Array.from(reason).slice(0, 255).join('');
    expect(Array.from(payments[0]!.failure_message!)).toHaveLength(255);
    expect(payments[0]!.failure_message).toBe(expected);
    expect(alertTexts(response.html)).toContain(expected);
  });

  it('a 500 stops the payment; its body is the reason', async () => {
    const { response, payments, authorizations } = await payWithVerification('/verify-500', {
      status: 500,
      body: 'Inventory service down',
    });
    expect(authorizations).toBe(0);
    expect(payments[0]!.status).toBe('REJECTED');
    expect(alertTexts(response.html)).toContain('Inventory service down');
  });

  it('"okay" in another case, or OKAY with another status, is not OKAY', async () => {
    for (const [path, reply] of [
      ['/verify-lower', { status: 200, body: 'okay' }],
      ['/verify-201', { status: 201, body: 'OKAY' }],
    ] as const) {
      const { payments, authorizations } = await payWithVerification(path, reply);
      expect(authorizations).toBe(0);
      expect(payments[0]!.status).toBe('REJECTED');
    }
  });

  it('an HTML answer shows as text, without its markup', async () => {
    const { response, payments } = await payWithVerification('/verify-html', {
      status: 409,
      headers: { 'content-type': 'text/html' },
      body: '<html><body><h1>Sorry</h1><script>x()</script><p>Price changed &amp; cart expired</p></body></html>',
    });
    expect(payments[0]!.failure_message).toBe('Sorry Price changed & cart expired');
    expect(response.html).not.toContain('<h1>Sorry');
  });

  it('no answer in time stops the payment', async () => {
    const { response, payments, authorizations } = await payWithVerification('/verify-hang', {
      status: 200,
      hang: true,
    });
    expect(authorizations).toBe(0);
    expect(payments[0]!.status).toBe('REJECTED');
    expect(alertTexts(response.html)).toContain('The store did not confirm the order in time');
  });

  it('the Processor API obeys the same veto', async () => {
    receiver.on('/verify-api', { status: 200, body: 'Address cannot be delivered to' });
    const checkout = await createCallbackCheckout(t, merchant, {
      verify_order: `${receiver.url}/verify-api`,
    });
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: merchant.headers,
      payload: {
        checkout_id: checkout.checkoutId,
        payment_method: {
          type: 'card',
          card: { number: CARDS.approved, exp_month: 12, exp_year: 2034, cvc: '123', holder_name: 'Ada' },
        },
      },
    });
    const payments = await paymentsOfCheckout(t, checkout.checkoutId);
    expect(
      await countAuthorizations(
        t,
        payments.map((p) => p.id),
      ),
    ).toBe(0);
    expect(response.body).toContain('order_verification_failed');
    expect(response.body).toContain('Address cannot be delivered to');
  });
});
