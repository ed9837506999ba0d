import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../src/connectors/stripe/index.ts';
import { startFakeStripe, STRIPE_TEST_CARDS, type FakeStripe } from '../fakes/stripe/fake-stripe.ts';
import { orderStatus } from '../e2e/hosted-page/hosted-fixtures.ts';
import {
  expectLandedOn,
  fillCard,
  onlyPayment,
  startProcessorPageRig,
  until,
  type ProcessorPageRig,
} from './processor-page.ts';

/**
 * Paying on the hosted page in Chromium through a merchant's Stripe account — the fake Stripe on loopback
 * (test/fakes/stripe/) — then capturing, refunding and voiding through the API, with Stripe's signed webhooks
 * coming back to the account's webhook URL. The fake records every request and checks it against Stripe's
 * documented parameters; each test asserts it saw no violation.
 */

const WEBHOOK_SECRET = 'whsec_browserJourneySecret0123456789';

describe('the hosted page paying through Stripe (fake, on loopback)', () => {
  let stripe: FakeStripe;
  let rig: ProcessorPageRig;

  beforeAll(async () => {
    stripe = await startFakeStripe({ apiVersion: STRIPE_API_VERSION });
    rig = await startProcessorPageRig({
      connect: { processor: 'stripe', credentials: { secret_key: stripe.secretKey }, apiBaseUrl: stripe.url },
      registerWebhook: (url) => stripe.setWebhookEndpoint(url, WEBHOOK_SECRET),
      webhookSecret: { webhook_secret: WEBHOOK_SECRET },
    });
  });
  afterAll(async () => {
    await rig?.close();
    await stripe?.close();
  });
  afterEach(async () => {
    await rig.closeContext();
    await stripe.flushWebhooks();
    expect(rig.takeProblems()).toEqual([]);
    expect(stripe.violations).toEqual([]);
    // Every webhook Stripe sent was verified and acknowledged.
    expect(stripe.deliveries.filter((delivery) => delivery.status !== 200)).toEqual([]);
  });

  it('approved (manual capture): authorized at Stripe; a partial capture, a partial refund; the rest is released', async () => {
    const opened = await rig.open({ capture: 'manual', amount: 4200 });
    expect(await opened.page.textContent('button.button--pay')).toContain('Pay €42.00');
    await fillCard(opened.page, STRIPE_TEST_CARDS.visa);
    await opened.page.click('button.button--pay');
    await expectLandedOn(rig, opened, 'AUTHORIZED');

    const payment = await onlyPayment(rig, opened.checkoutId);
    expect(payment).toMatchObject({ status: 'AUTHORIZED', connectorId: rig.accountId, card_last4: '4242' });
    expect(stripe.intentsFor(payment.id)).toHaveLength(1);
    expect(stripe.intent(payment.connectorReference)).toMatchObject({
      status: 'requires_capture',
      amount: 4200,
      currency: 'eur',
      capture_method: 'manual',
    });

    const captured = await rig.api('POST', `/v1/payments/${payment.id}/capture`, { amount: 3000 });
    expect(captured.statusCode, JSON.stringify(captured.json)).toBe(201);
    expect(captured.json).toMatchObject({
      status: 'SUCCEEDED',
      amount: 3000,
      payment: { captured_amount: 3000 },
    });
    expect(stripe.intent(payment.connectorReference)).toMatchObject({
      status: 'succeeded',
      amount_received: 3000,
    });

    const refunded = await rig.api('POST', `/v1/payments/${payment.id}/refunds`, { amount: 1000 });
    expect(refunded.statusCode, JSON.stringify(refunded.json)).toBe(201);
    expect(refunded.json).toMatchObject({ status: 'SUCCEEDED', amount: 1000 });

    // Stripe took one capture and released the other 12.00: a second capture is refused before Stripe is asked.
    const capturesAtStripe = () =>
      stripe.requests.filter((request) => request.path.endsWith('/capture')).length;
    const before = capturesAtStripe();
    const second = await rig.api('POST', `/v1/payments/${payment.id}/capture`, { amount: 1200 });
    expect(second.statusCode).toBe(422);
    expect(second.json).toMatchObject({ code: 'amount_exceeds_capturable' });
    expect(second.json.detail).toMatch(/one capture/i);
    expect(capturesAtStripe()).toBe(before);

    const after = await rig.api('GET', `/v1/payments/${payment.id}`);
    expect(after.json).toMatchObject({ status: 'SUCCEEDED', captured_amount: 3000, refunded_amount: 1000 });
    expect(await orderStatus(rig.t, opened.orderId)).toBe('PARTIALLY_REFUNDED');
  });

  it('declined: the page says so and offers the form again; another card then pays', async () => {
    const opened = await rig.open();
    await fillCard(opened.page, STRIPE_TEST_CARDS.insufficientFunds);
    await opened.page.click('button.button--pay');
    await opened.page.waitForSelector('#error-summary:not([hidden])');
    expect(await opened.page.textContent('#error-summary')).toMatch(/insufficient funds/i);
    await rig.shot(opened.page, 'stripe-declined');
    const payment = await onlyPayment(rig, opened.checkoutId);
    expect(payment).toMatchObject({ status: 'REJECTED', connectorId: rig.accountId });
    expect(stripe.intent(payment.connectorReference)).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { decline_code: 'insufficient_funds' },
    });
    // The shopper tries another card on the same page: approved and captured (a sale).
    await fillCard(opened.page, STRIPE_TEST_CARDS.mastercard);
    await opened.page.click('button.button--pay');
    await expectLandedOn(rig, opened, 'PAID');
    expect(await orderStatus(rig.t, opened.orderId)).toBe('PAID');
  });

  it("3-D Secure: Stripe's challenge page, then back to Kassa and on to the store, captured", async () => {
    const opened = await rig.open({ amount: 5100 });
    await fillCard(opened.page, STRIPE_TEST_CARDS.threeDSecureRequired);
    await opened.page.click('button.button--pay');
    await opened.page.waitForURL(`${stripe.url}/3ds/**`);
    expect(await opened.page.textContent('h1')).toBe('3-D Secure test payment');
    await rig.shot(opened.page, 'stripe-3ds-challenge');
    const waiting = await onlyPayment(rig, opened.checkoutId);
    expect(waiting.status).toBe('REQUIRES_ACTION');
    await opened.page.click('button:has-text("Complete authentication")');
    await expectLandedOn(rig, opened, 'PAID');
    const payment = await onlyPayment(rig, opened.checkoutId);
    expect(payment).toMatchObject({ status: 'SUCCEEDED', captured_amount: 5100 });
    expect(stripe.intent(payment.connectorReference)).toMatchObject({
      status: 'succeeded',
      amount_received: 5100,
    });
    expect(stripe.intentsFor(payment.id)).toHaveLength(1);
  });

  it('3-D Secure failed: back on the payment page with the reason', async () => {
    const opened = await rig.open();
    await fillCard(opened.page, STRIPE_TEST_CARDS.threeDSecureRequired);
    await opened.page.click('button.button--pay');
    await opened.page.waitForURL(`${stripe.url}/3ds/**`);
    await opened.page.click('button:has-text("Fail authentication")');
    await opened.page.waitForURL(`**${opened.path}/return/**`);
    expect(await opened.page.textContent('#error-summary')).toContain(
      'Your card could not be authenticated.',
    );
    expect((await onlyPayment(rig, opened.checkoutId)).status).toBe('REJECTED');
  });

  it("pending: the store is told the order is pending; Stripe's webhook authorizes it; then a void", async () => {
    const opened = await rig.open({ capture: 'manual' });
    await fillCard(opened.page, STRIPE_TEST_CARDS.processing);
    await opened.page.click('button.button--pay');
    await expectLandedOn(rig, opened, 'PENDING');
    const pending = await onlyPayment(rig, opened.checkoutId);
    expect(pending.status).toBe('PENDING');
    expect(stripe.intent(pending.connectorReference)).toMatchObject({ status: 'processing' });

    stripe.settle(pending.connectorReference, 'authorized');
    await stripe.flushWebhooks();
    const authorized = await until(
      () => onlyPayment(rig, opened.checkoutId),
      (payment) => payment.status === 'AUTHORIZED',
    );
    expect(authorized.status).toBe('AUTHORIZED');

    const voided = await rig.api('POST', `/v1/payments/${pending.id}/cancel`);
    expect(voided.statusCode, JSON.stringify(voided.json)).toBe(200);
    expect(voided.json).toMatchObject({ status: 'CANCELED' });
    expect(stripe.intent(pending.connectorReference)).toMatchObject({ status: 'canceled' });
    expect(await orderStatus(rig.t, opened.orderId)).toBe('CANCELED');
  });
});
