import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_ADYEN_CARDS,
  FAKE_ADYEN_HOLDER_NAMES,
  startFakeAdyen,
  type FakeAdyen,
} from '../fakes/adyen/fake-adyen.ts';
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
 * Paying on the hosted page in Chromium through a merchant's Adyen account — the fake Adyen on loopback
 * (test/fakes/adyen/), which validates every request against Adyen's published OpenAPI document — then
 * capturing, refunding and voiding through the API. Adyen's modifications answer `received`: the capture,
 * refund or void is decided by the HMAC-signed webhook the fake sends to the account's webhook URL.
 */

describe('the hosted page paying through Adyen (fake, on loopback)', () => {
  let adyen: FakeAdyen;
  let rig: ProcessorPageRig;

  beforeAll(async () => {
    adyen = await startFakeAdyen();
    rig = await startProcessorPageRig({
      connect: {
        processor: 'adyen',
        credentials: { api_key: adyen.apiKey, merchant_account: adyen.merchantAccount },
        apiBaseUrl: adyen.url,
      },
      registerWebhook: (url) => adyen.setWebhookUrl(url),
      webhookSecret: { hmac_key: adyen.hmacKey },
    });
  });
  afterAll(async () => {
    await rig?.close();
    await adyen?.close();
  });
  afterEach(async () => {
    await rig.closeContext();
    await adyen.drain();
    expect(rig.takeProblems()).toEqual([]);
    expect(adyen.violations).toEqual([]);
  });

  const paymentOf = (checkoutId: string) => onlyPayment(rig, checkoutId);
  const atAdyen = (pspReference: string) => adyen.payments.get(pspReference)!;

  it('approved (manual capture): a partial capture and a partial refund, each decided by its webhook', async () => {
    const opened = await rig.open({ capture: 'manual', amount: 4200 });
    await fillCard(opened.page, FAKE_ADYEN_CARDS.authorised);
    await opened.page.click('button.button--pay');
    await expectLandedOn(rig, opened, 'AUTHORIZED');

    const payment = await paymentOf(opened.checkoutId);
    expect(payment).toMatchObject({ status: 'AUTHORIZED', connectorId: rig.accountId, card_last4: '1142' });
    expect(adyen.paymentsFor(payment.id)).toHaveLength(1);
    expect(atAdyen(payment.connectorReference)).toMatchObject({
      state: 'Authorised',
      amount: { currency: 'EUR', value: 4200 },
    });
    // The page passed the shopper's browser on, for Adyen's 3-D Secure.
    expect(atAdyen(payment.connectorReference).request).toMatchObject({
      shopperIP: '127.0.0.1',
      browserInfo: { userAgent: expect.stringContaining('Chrome') },
    });

    const captured = await rig.api('POST', `/v1/payments/${payment.id}/capture`, { amount: 3000 });
    expect(captured.statusCode, JSON.stringify(captured.json)).toBe(202);
    expect(captured.json).toMatchObject({ status: 'PENDING', amount: 3000 });
    const afterCapture = await until(
      () => rig.api('GET', `/v1/payments/${payment.id}`),
      (answer) => answer.json.captured_amount === 3000,
    );
    expect(afterCapture.json).toMatchObject({ status: 'SUCCEEDED', captured_amount: 3000 });
    expect(atAdyen(payment.connectorReference).captured).toBe(3000);

    // Adyen cancels what a partial capture left (unless support enabled multiple partial captures): refused here.
    const modificationsBefore = adyen.modifications.size;
    const second = await rig.api('POST', `/v1/payments/${payment.id}/capture`, { amount: 1200 });
    expect(second.statusCode).toBe(422);
    expect(second.json).toMatchObject({ code: 'amount_exceeds_capturable', capturable_amount: 0 });
    expect(adyen.modifications.size).toBe(modificationsBefore);

    const refunded = await rig.api('POST', `/v1/payments/${payment.id}/refunds`, { amount: 1000 });
    expect(refunded.statusCode, JSON.stringify(refunded.json)).toBe(202);
    const afterRefund = await until(
      () => rig.api('GET', `/v1/payments/${payment.id}`),
      (answer) => answer.json.refunded_amount === 1000,
    );
    expect(afterRefund.json).toMatchObject({
      status: 'SUCCEEDED',
      captured_amount: 3000,
      refunded_amount: 1000,
    });
    expect(atAdyen(payment.connectorReference).refunded).toBe(1000);
    expect(await orderStatus(rig.t, opened.orderId)).toBe('PARTIALLY_REFUNDED');
  });

  it('declined: the page says why and offers the form again; another card then pays (captured by webhook)', async () => {
    const opened = await rig.open();
    await fillCard(opened.page, FAKE_ADYEN_CARDS.authorised, 'Not enough balance');
    await opened.page.click('button.button--pay');
    await opened.page.waitForSelector('#error-summary:not([hidden])');
    expect(await opened.page.textContent('#error-summary')).toMatch(/insufficient funds/i);
    await rig.shot(opened.page, 'adyen-declined');
    const refused = await paymentOf(opened.checkoutId);
    expect(refused).toMatchObject({ status: 'REJECTED', connectorId: rig.accountId });
    expect(atAdyen(refused.connectorReference)).toMatchObject({ state: 'Refused' });

    await fillCard(opened.page, FAKE_ADYEN_CARDS.authorised);
    await opened.page.click('button.button--pay');
    await opened.page.waitForURL(`${rig.receiver.origin}/complete**`);
    const paid = await until(
      () => orderStatus(rig.t, opened.orderId),
      (status) => status === 'PAID',
    );
    expect(paid).toBe('PAID');
  });

  it("3-D Secure: Adyen's redirect page, back to Kassa (/payments/details), on to the store; captured", async () => {
    const opened = await rig.open({ amount: 5100 });
    await fillCard(opened.page, FAKE_ADYEN_CARDS.challenge);
    await opened.page.click('button.button--pay');
    await opened.page.waitForURL(`${adyen.url}/threeds/**`);
    expect(await opened.page.textContent('h1')).toBe('3-D Secure challenge');
    await rig.shot(opened.page, 'adyen-3ds-challenge');
    expect((await paymentOf(opened.checkoutId)).status).toBe('REQUIRES_ACTION');
    await opened.page.click('#pass');
    await opened.page.waitForURL(`${rig.receiver.origin}/complete**`);
    expect(adyen.requests.some((request) => request.path.endsWith('/payments/details'))).toBe(true);
    const payment = await until(
      () => paymentOf(opened.checkoutId),
      (current) => current.status === 'SUCCEEDED',
    );
    expect(payment).toMatchObject({ status: 'SUCCEEDED', captured_amount: 5100 });
    expect(atAdyen(payment.connectorReference)).toMatchObject({ state: 'Authorised', captured: 5100 });
  });

  it('3-D Secure failed: back on the payment page with the reason', async () => {
    const opened = await rig.open();
    await fillCard(opened.page, FAKE_ADYEN_CARDS.challenge);
    await opened.page.click('button.button--pay');
    await opened.page.waitForURL(`${adyen.url}/threeds/**`);
    await opened.page.click('#fail');
    await opened.page.waitForURL(`**${opened.path}/return/**`);
    expect(await opened.page.textContent('#error-summary')).toContain(
      'Your card could not be authenticated.',
    );
    expect((await paymentOf(opened.checkoutId)).status).toBe('REJECTED');
  });

  it("pending: the store is told the order is pending; Adyen's AUTHORISATION webhook decides; then a void", async () => {
    const opened = await rig.open({ capture: 'manual' });
    await fillCard(opened.page, FAKE_ADYEN_CARDS.authorised, FAKE_ADYEN_HOLDER_NAMES.pending);
    await opened.page.click('button.button--pay');
    await expectLandedOn(rig, opened, 'PENDING');
    const pending = await paymentOf(opened.checkoutId);
    expect(pending.status).toBe('PENDING');
    expect(atAdyen(pending.connectorReference)).toMatchObject({ state: 'Received' });

    await adyen.settlePending(pending.connectorReference, 'authorized');
    const authorized = await until(
      () => paymentOf(opened.checkoutId),
      (payment) => payment.status === 'AUTHORIZED',
    );
    expect(authorized.status).toBe('AUTHORIZED');

    const voided = await rig.api('POST', `/v1/payments/${pending.id}/cancel`);
    expect(voided.statusCode, JSON.stringify(voided.json)).toBeLessThan(300);
    const canceled = await until(
      () => paymentOf(opened.checkoutId),
      (payment) => payment.status === 'CANCELED',
    );
    expect(canceled.status).toBe('CANCELED');
    expect([...adyen.modifications.values()]).toContainEqual(
      expect.objectContaining({
        kind: 'cancels',
        paymentPspReference: pending.connectorReference,
        success: true,
      }),
    );
    expect(await orderStatus(rig.t, opened.orderId)).toBe('CANCELED');
  });
});
