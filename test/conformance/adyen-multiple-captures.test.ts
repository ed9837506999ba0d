/**
 * The connector conformance suite against the fake Adyen for an account whose merchant account has Adyen's
 * "multiple partial captures" turned on (`multiple_captures: true` on the processor account): the connector
 * declares `multipleCaptures`, so the suite's repeated and parallel partial captures run too, each decided by
 * its CAPTURE webhook. Every request is validated against Adyen's OpenAPI document by the fake.
 */
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
  harness = await startAdyenHarness({ multiplePartialCaptures: true });
});
afterAll(async () => {
  await harness?.close();
});

describeConnectorConformance(
  'adyen with multiple partial captures (against the fake Adyen)',
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
  { methods: ['card'], livemode: true, partialCapture: true, multipleCaptures: true, partialRefund: true },
  { asynchronousOperations: true, statusLookups: false, threeDSecureRedirect: true },
);

describe('the Adyen conversation above', () => {
  it('sent only requests that Adyen’s OpenAPI document accepts, and several captures of one payment', async () => {
    await harness.fake.drain();
    expect(harness.fake.violations).toEqual([]);
    expect(harness.refused).toEqual([]);
    const capturesPerPayment = new Map<string, number>();
    for (const modification of harness.fake.modifications.values()) {
      if (modification.kind === 'captures' && modification.success) {
        const count = capturesPerPayment.get(modification.paymentPspReference) ?? 0;
        capturesPerPayment.set(modification.paymentPspReference, count + 1);
      }
    }
    expect(Math.max(...capturesPerPayment.values())).toBeGreaterThanOrEqual(3);
  });
});
