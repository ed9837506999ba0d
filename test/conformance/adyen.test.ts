import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { declineCodeOf } from '../../src/connectors/adyen/adyen.mapping.ts';
import type { ConnectorPaymentStatus, PaymentMethodData } from '../../src/connectors/connector.ts';
import { startAdyenHarness, type AdyenHarness } from '../fakes/adyen/adyen-harness.ts';
import {
  FAKE_ADYEN_CARDS,
  FAKE_ADYEN_HOLDER_NAMES,
  type FakeAdyenPayment,
} from '../fakes/adyen/fake-adyen.ts';
import { describeConnectorConformance } from './connector-conformance.ts';

const RETURN_URL = 'http://127.0.0.1:3000/checkout/return';

function card(number: string, holderName = 'Ada Lovelace'): PaymentMethodData {
  return {
    type: 'card',
    card: { number, expMonth: 3, expYear: 2030, cvc: '737', holderName },
  };
}

/** The fake's own ledger, as Kassa would know it from the webhooks: Adyen has no call that reads a payment. */
function statusOf(payment: FakeAdyenPayment): ConnectorPaymentStatus {
  const status = (
    {
      Authorised: 'authorized',
      Refused: 'declined',
      Received: 'pending',
      RedirectShopper: 'requires_action',
      Cancelled: 'voided',
      Error: 'declined',
    } as const
  )[payment.state];
  return {
    connectorReference: payment.pspReference,
    status,
    amount: payment.amount.value,
    currency: payment.amount.currency,
    capturedAmount: payment.captured,
    refundedAmount: payment.refunded,
    ...(payment.refusal ? { declineCode: declineCodeOf(payment.refusal) } : {}),
  };
}

let harness: AdyenHarness;
beforeAll(async () => {
  harness = await startAdyenHarness();
});
afterAll(async () => {
  await harness?.close();
});

describeConnectorConformance(
  'adyen (against the fake Adyen)',
  async () => ({
    connector: harness.connector(),
    received: harness.received,
    inputs: {
      approved: card(FAKE_ADYEN_CARDS.authorised),
      declined: card(FAKE_ADYEN_CARDS.refused),
      pending: card(FAKE_ADYEN_CARDS.authorised, FAKE_ADYEN_HOLDER_NAMES.pending),
    },
    currency: 'EUR',
    returnUrl: RETURN_URL,
    settlePending: (reference, outcome) => harness.fake.settlePending(reference, outcome),
    countAuthorizations: async (paymentId) => harness.fake.paymentsFor(paymentId).length,
    async processorStatus(reference) {
      const payment = harness.fake.payments.get(reference);
      if (!payment) throw new Error(`the fake holds no payment ${reference}`);
      return statusOf(payment);
    },
    async processorLookup(paymentId) {
      const [payment] = harness.fake.paymentsFor(paymentId);
      return payment ? statusOf(payment) : null;
    },
    settleOperation: (result) => harness.decision(result),
    challenge: {
      input: card(FAKE_ADYEN_CARDS.challenge),
      async complete(actionUrl, outcome) {
        // The shopper's browser: open the challenge page, follow its link, stop at the redirect to returnUrl.
        const page = await fetch(actionUrl);
        expect(page.status).toBe(200);
        const href = new RegExp(`id="${outcome}" href="([^"]+)"`).exec(await page.text())?.[1];
        expect(href).toBeDefined();
        const answer = await fetch(new URL(href!, actionUrl), { redirect: 'manual' });
        expect(answer.status).toBe(302);
        const back = new URL(answer.headers.get('location')!);
        expect(`${back.origin}${back.pathname}`).toBe(RETURN_URL);
        return Object.fromEntries(back.searchParams);
      },
    },
  }),
  { methods: ['card'], livemode: true, partialCapture: true, multipleCaptures: false, partialRefund: true },
  { asynchronousOperations: true, statusLookups: false, threeDSecureRedirect: true },
);

describe('the Adyen conversation above', () => {
  it('sent only requests that Adyen’s OpenAPI document accepts, and got only valid signed notifications', async () => {
    await harness.fake.drain();
    expect(harness.fake.violations).toEqual([]);
    expect(harness.refused).toEqual([]);
    const paths = new Set(
      harness.fake.requests.map((request) => request.path.replace(/\/[A-Z0-9]{16}\//, '/{psp}/')),
    );
    expect([...paths].sort()).toEqual([
      '/v71/payments',
      '/v71/payments/details',
      '/v71/payments/{psp}/cancels',
      '/v71/payments/{psp}/captures',
      '/v71/payments/{psp}/refunds',
    ]);
    expect(harness.fake.requests.every((request) => request.idempotencyKey !== undefined)).toBe(true);
    const events = new Set(harness.notifications.map((n) => n.kind));
    expect([...events].sort()).toEqual(['authorization', 'capture', 'refund', 'void']);
  });

  it('sends payments as Adyen expects them: scheme card, reference, manual capture, Ecommerce', () => {
    const payment = harness.fake.requests.find((request) => request.path === '/v71/payments')!.body;
    expect(payment).toMatchObject({
      merchantAccount: harness.fake.merchantAccount,
      reference: expect.stringMatching(/^pay_/),
      returnUrl: RETURN_URL,
      shopperInteraction: 'Ecommerce',
      paymentMethod: { type: 'scheme', expiryMonth: '03', expiryYear: '2030' },
      additionalData: { manualCapture: 'true' },
      authenticationData: { threeDSRequestData: { nativeThreeDS: 'disabled' } },
    });
  });
});
