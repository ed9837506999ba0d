import { afterEach, expect } from 'vitest';

import { STRIPE_TEST_CARDS } from '../fakes/stripe/fake-stripe.ts';
import { startStripeTestRig, testCard, type StripeTestRig } from '../fakes/stripe/stripe-fixture.ts';
import { describeConnectorConformance } from './connector-conformance.ts';

let rig: StripeTestRig | undefined;

// Every request the connector sent met Stripe's documented parameters.
afterEach(() => {
  expect(rig?.fake.violations ?? []).toEqual([]);
});

describeConnectorConformance(
  'stripe (against the fake Stripe)',
  async () => {
    rig = await startStripeTestRig({ accountId: 'pa_conformance' });
    const { fake, connector, received } = rig;
    return {
      connector,
      received,
      inputs: {
        approved: testCard(STRIPE_TEST_CARDS.visa),
        declined: testCard(STRIPE_TEST_CARDS.declined),
        pending: testCard(STRIPE_TEST_CARDS.processing),
      },
      currency: 'EUR',
      returnUrl: 'http://127.0.0.1:3000/checkout/return',
      async settlePending(reference, outcome) {
        fake.settle(reference, outcome);
        await fake.flushWebhooks();
      },
      countAuthorizations: async (paymentId) => fake.intentsFor(paymentId).length,
      teardown: () => rig!.close(),
    };
  },
  { methods: ['card'], livemode: true, partialCapture: true, multipleCaptures: false, partialRefund: true },
);
