import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../../src/connectors/stripe/index.ts';
import { startFakeStripe, STRIPE_TEST_CARDS, type FakeStripe } from '../../fakes/stripe/fake-stripe.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { cardMethod, get, post, type PaymentJson } from '../payments/payment-fixtures.ts';
import {
  addUser,
  csrfOf,
  deviceOf,
  formKeyOf,
  nextCode,
  page,
  signIn,
  submit,
} from './dashboard-fixtures.ts';

/**
 * Step-up before a live refund from the dashboard: a live-mode refund without a code entered in the last five
 * minutes answers the step-up form (nothing refunded); after a valid TOTP code the same form goes through
 * the payment service's refund. The live payment is made through a live Stripe account against the fake Stripe
 * (test/fakes/stripe/, a real HTTP server on loopback).
 */
describe('dashboard step-up before a live refund', () => {
  let testApp: TestApp;
  let stripe: FakeStripe;
  let live: TestMerchant;
  let payment: PaymentJson;

  beforeAll(async () => {
    testApp = await createTestApp({ env: { KASSA_ENV: 'development' } });
    stripe = await startFakeStripe({
      apiVersion: STRIPE_API_VERSION,
      secretKey: `sk_live_${randomBytes(12).toString('hex')}`,
    });
    live = await testApp.createMerchant({ livemode: true, name: 'Live refund shop' });
    const connected = await post(testApp, live, '/v1/processor-accounts', {
      processor: 'stripe',
      credentials: { secret_key: stripe.secretKey },
      payment_methods: ['card'],
      api_base_url: stripe.url,
    });
    expect(connected.statusCode, connected.body).toBe(201);
    const checkout = await post(
      testApp,
      live,
      '/v1/checkouts',
      checkoutRequest(simpleOrder('EUR', 'DE', 4200, 'LIVE-1'), { capture_mode: 'automatic' }),
    );
    expect(checkout.statusCode, checkout.body).toBe(201);
    const paid = await post(testApp, live, '/v1/payments', {
      checkout_id: checkout.json().checkout_id,
      payment_method: cardMethod(STRIPE_TEST_CARDS.visa),
    });
    expect(paid.statusCode, paid.body).toBe(201);
    payment = paid.json();
    expect(payment).toMatchObject({ status: 'SUCCEEDED', livemode: true, captured_amount: 4200 });
    await addUser(testApp, live.merchantId, 'owner@live.example', 'owner');
  });
  afterAll(async () => {
    await testApp?.close();
    await stripe?.close();
  });

  const refunds = async () =>
    (await get(testApp, live, `/v1/payments/${payment.id}/refunds`)).json().data as {
      id: string;
      amount: number;
      status: string;
      reason: string | null;
    }[];

  it('answers the step-up form to a live refund without a fresh code, and refunds after a valid TOTP code', async () => {
    const session = await signIn(testApp, 'owner@live.example'); // enrols two-factor on the way
    const switched = await testApp.database.pool.query(
      'UPDATE dashboard_sessions SET livemode = true WHERE revoked_at IS NULL AND user_id = (SELECT id FROM dashboard_users WHERE email = $1)',
      ['owner@live.example'],
    );
    expect(switched.rowCount).toBe(1);
    const url = `/dashboard/orders/${payment.order_id}`;
    const detail = await page(testApp, session, url);
    expect(detail.statusCode).toBe(200);
    const action = `/dashboard/payments/${payment.id}/refund`;
    const fields = {
      csrf_token: csrfOf(detail.body),
      form_key: formKeyOf(detail.body, action),
      amount: '12.00',
      reason: 'Returned',
    };

    // No step-up yet: the step-up form, carrying the refund's own fields; nothing is refunded.
    const asked = await submit(testApp, session, action, fields);
    expect(asked.statusCode).toBe(200);
    expect(asked.body).toContain('Confirm with your code');
    expect(asked.body).toContain(`action="/dashboard/step-up?then=${encodeURIComponent(action)}"`);
    expect(asked.body).toContain(`name="form_key" value="${fields.form_key}"`);
    expect(await refunds()).toEqual([]);

    // A wrong code: refused, still nothing refunded.
    const stepUp = `/dashboard/step-up?then=${encodeURIComponent(action)}`;
    const wrong = await submit(testApp, session, stepUp, { ...fields, step_up_code: '000000' });
    expect(wrong.statusCode).toBe(422);
    expect(await refunds()).toEqual([]);

    // A valid code sends the browser back (307) to post the same form to the refund action.
    const code = nextCode(deviceOf(testApp, 'owner@live.example')!, Date.now() + 30_000)!;
    const stepped = await submit(testApp, session, stepUp, { ...fields, step_up_code: code });
    expect(stepped.statusCode).toBe(307);
    expect(stepped.headers.location).toBe(action);
    const done = await submit(testApp, session, action, { ...fields, step_up_code: code });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`${url}?notice=refunded`);
    const made = await refunds();
    expect(made).toEqual([
      expect.objectContaining({ amount: 1200, status: 'SUCCEEDED', reason: 'Returned' }),
    ]);
    // The same refund service as the API: the refund reached the (fake) processor, and the person is audited.
    expect(stripe.violations).toEqual([]);
    const { rows: audited } = await testApp.database.pool.query(
      `SELECT actor_label, details FROM audit_log WHERE action = 'payment.refund' AND object_id = $1`,
      [payment.id],
    );
    expect(audited).toEqual([
      expect.objectContaining({
        actor_label: 'owner@live.example',
        details: expect.objectContaining({ livemode: true, amount: 1200, operation_id: made[0]!.id }),
      }),
    ]);

    // Within five minutes another live refund needs no new code.
    const next = await page(testApp, session, url);
    const second = await submit(testApp, session, action, {
      csrf_token: csrfOf(next.body),
      form_key: formKeyOf(next.body, action),
      amount: '1.00',
    });
    expect(second.statusCode).toBe(303);
    expect(await refunds()).toHaveLength(2);

    // Once the step-up is older than five minutes, the code is asked again.
    await testApp.database.pool.query(
      "UPDATE dashboard_sessions SET stepped_up_at = now() - interval '301 seconds' WHERE revoked_at IS NULL AND livemode",
    );
    const later = await page(testApp, session, url);
    const stale = await submit(testApp, session, action, {
      csrf_token: csrfOf(later.body),
      form_key: formKeyOf(later.body, action),
      amount: '1.00',
    });
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toContain('Confirm with your code');
    expect(await refunds()).toHaveLength(2);
  });
});
