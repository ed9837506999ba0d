import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { ConnectorError, type AuthorizeRequest } from '../../../../src/connectors/connector.ts';
import { STRIPE_API_VERSION, stripeProcessor } from '../../../../src/connectors/stripe/index.ts';
import { compileEgressPolicy, createEgressClient } from '../../../../src/egress/index.ts';
import { STRIPE_TEST_CARDS } from '../../../fakes/stripe/fake-stripe.ts';
import { startStripeTestRig, testCard, type StripeTestRig } from '../../../fakes/stripe/stripe-fixture.ts';

const RETURN_URL = 'http://127.0.0.1:3000/checkout/return';

let rig: StripeTestRig;
beforeAll(async () => {
  rig = await startStripeTestRig({ accountId: 'pa_unit', responseTimeoutMs: 400 });
});
afterAll(async () => {
  await rig?.close();
});
afterEach(() => {
  expect(rig.fake.violations).toEqual([]);
  rig.fake.failNext(0);
  rig.fake.delayNext(0, 0);
  rig.fake.setRawCardDataEnabled(true);
});

function request(number: string, overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  return {
    idempotencyKey: `unit-${randomUUID()}`,
    paymentId: `pay_${randomUUID().replace(/-/g, '')}`,
    amount: 2_500,
    currency: 'EUR',
    livemode: false,
    method: testCard(number),
    returnUrl: RETURN_URL,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('the request Stripe receives', () => {
  it('creates a confirmed, manual-capture PaymentIntent with the card, return URL, metadata and idempotency key', async () => {
    const authorizeRequest = request(STRIPE_TEST_CARDS.visa, { amount: 1_234 });
    const result = await rig.connector.authorize(authorizeRequest);
    expect(result.status).toBe('authorized');
    const sent = rig.fake.requests.find(
      (r) =>
        r.path === '/v1/payment_intents' && r.headers['idempotency-key'] === authorizeRequest.idempotencyKey,
    );
    expect(sent).toBeDefined();
    expect(sent!.params).toEqual({
      amount: '1234',
      currency: 'eur',
      confirm: 'true',
      capture_method: 'manual',
      return_url: RETURN_URL,
      metadata: { kassa_payment_id: authorizeRequest.paymentId },
      payment_method_data: {
        type: 'card',
        card: { number: STRIPE_TEST_CARDS.visa, exp_month: '12', exp_year: expect.any(String), cvc: '987' },
        billing_details: { name: 'Ada Lovelace' },
      },
    });
    expect(sent!.headers['stripe-version']).toBe(STRIPE_API_VERSION);
    expect(sent!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(sent!.headers.authorization).toBe(`Bearer ${rig.fake.secretKey}`);
  });

  it('sends nothing for amounts, currencies or methods Stripe would refuse, and no saved cards', async () => {
    const before = rig.fake.requests.length;
    for (const bad of [
      request(STRIPE_TEST_CARDS.visa, { amount: 0 }),
      request(STRIPE_TEST_CARDS.visa, { amount: 12.5 }),
      request(STRIPE_TEST_CARDS.visa, { currency: 'eur' }),
      request(STRIPE_TEST_CARDS.visa, { method: { type: 'wallet' } }),
      request(STRIPE_TEST_CARDS.visa, { livemode: true }),
      request(STRIPE_TEST_CARDS.visa, {
        method: {
          type: 'card',
          card: { ...testCard(STRIPE_TEST_CARDS.visa).card, cvc: '', storedCredential: true },
        },
      }),
    ]) {
      expect((await rejection(rig.connector.authorize(bad))).code).toBe('invalid_request');
    }
    expect(rig.fake.requests.length).toBe(before);
  });
});

describe("Stripe's test cards", () => {
  it.each([
    [STRIPE_TEST_CARDS.declined, 'card_declined'],
    [STRIPE_TEST_CARDS.insufficientFunds, 'insufficient_funds'],
    [STRIPE_TEST_CARDS.lostCard, 'card_declined'],
    [STRIPE_TEST_CARDS.expiredCard, 'expired_card'],
    [STRIPE_TEST_CARDS.incorrectCvc, 'incorrect_cvc'],
    [STRIPE_TEST_CARDS.fraudulent, 'payment_rejected'],
    [STRIPE_TEST_CARDS.incorrectNumber, 'invalid_number'],
  ])('%s is declined as %s, and the status says so too', async (number, declineCode) => {
    const result = await rig.connector.authorize(request(number));
    expect(result).toMatchObject({ status: 'declined', declineCode });
    if (result.status !== 'declined') return;
    expect(result.message.length).toBeGreaterThan(0);
    expect(result.connectorReference).toMatch(/^pi_/);
    expect(
      await rig.connector.getPaymentStatus({ connectorReference: result.connectorReference }),
    ).toMatchObject({
      status: 'declined',
      declineCode,
      capturedAmount: 0,
    });
  });

  it('a past expiry date is declined as expired_card', async () => {
    const expired = request(STRIPE_TEST_CARDS.visa, {
      method: testCard(STRIPE_TEST_CARDS.visa, { expMonth: 1, expYear: 2020 }),
    });
    expect(await rig.connector.authorize(expired)).toMatchObject({
      status: 'declined',
      declineCode: 'expired_card',
    });
  });

  it('3-D Secure: redirects to Stripe, then the status follows what the shopper did', async () => {
    const passed = await rig.connector.authorize(request(STRIPE_TEST_CARDS.threeDSecureRequired));
    expect(passed).toMatchObject({
      status: 'requires_action',
      action: { type: 'redirect', url: `${rig.fake.url}/3ds/${passed.connectorReference}` },
    });
    expect(
      (await rig.connector.getPaymentStatus({ connectorReference: passed.connectorReference })).status,
    ).toBe('requires_action');
    rig.fake.completeThreeDSecure(passed.connectorReference, 'pass');
    expect(
      await rig.connector.getPaymentStatus({ connectorReference: passed.connectorReference }),
    ).toMatchObject({
      status: 'authorized',
      capturedAmount: 0,
    });

    const failed = await rig.connector.authorize(request(STRIPE_TEST_CARDS.threeDSecureAlways));
    rig.fake.completeThreeDSecure(failed.connectorReference, 'fail');
    expect(
      await rig.connector.getPaymentStatus({ connectorReference: failed.connectorReference }),
    ).toMatchObject({
      status: 'declined',
      declineCode: 'authentication_failed',
    });
  });

  it('a sale of a 3-D Secure card answers requires_action and captures nothing', async () => {
    const sale = await rig.connector.sale({
      ...request(STRIPE_TEST_CARDS.threeDSecureRequired),
      captureIdempotencyKey: randomUUID(),
    });
    expect(sale.status).toBe('requires_action');
    expect(rig.fake.intent(sale.connectorReference)).toMatchObject({ amount_received: 0 });
  });
});

describe('configuration errors', () => {
  it('maps the refusal of raw card data to a configuration error naming what to enable, not a decline', async () => {
    rig.fake.setRawCardDataEnabled(false);
    const authorizeRequest = request(STRIPE_TEST_CARDS.visa);
    const error = await rejection(rig.connector.authorize(authorizeRequest));
    expect(error).toMatchObject({ code: 'invalid_request', retryable: false, connectorId: 'pa_unit' });
    expect(error.message).toMatch(/raw card data APIs/);
    expect(error.message).toMatch(/enable/i);
    expect(error.message).not.toContain(STRIPE_TEST_CARDS.visa);
    expect(rig.fake.intentsFor(authorizeRequest.paymentId)).toHaveLength(0);
  });

  it('maps a wrong secret key to invalid_request', async () => {
    const connector = stripeProcessor.createConnector(
      { secret_key: 'sk_test_wrongwrongwrong' },
      {
        accountId: 'pa_wrong',
        livemode: false,
        apiBaseUrl: rig.fake.url,
        egress: rig.egress,
        notify: async () => {},
      },
    );
    const error = await rejection(connector.authorize(request(STRIPE_TEST_CARDS.visa)));
    expect(error).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(error.message).toMatch(/secret key/);
  });

  it('refuses a Stripe API URL the egress policy forbids, before connecting', async () => {
    const production = createEgressClient({
      policy: compileEgressPolicy({ mode: 'production', allowList: [] }),
    });
    try {
      const connector = stripeProcessor.createConnector(
        { secret_key: rig.fake.secretKey },
        {
          accountId: 'pa_policy',
          livemode: false,
          apiBaseUrl: rig.fake.url,
          egress: production,
          notify: async () => {},
        },
      );
      const before = rig.fake.requests.length;
      const error = await rejection(connector.authorize(request(STRIPE_TEST_CARDS.visa)));
      expect(error.code).toBe('invalid_request');
      expect(rig.fake.requests.length).toBe(before);
    } finally {
      await production.close();
    }
  });
});

describe('processor failures', () => {
  it.each([500, 503])(
    'a %s is unavailable and retryable; the retry with the same key charges once',
    async (status) => {
      const authorizeRequest = request(STRIPE_TEST_CARDS.visa);
      rig.fake.failNext(1, status);
      const error = await rejection(rig.connector.authorize(authorizeRequest));
      expect(error).toMatchObject({ code: 'unavailable', retryable: true });
      expect(rig.fake.intentsFor(authorizeRequest.paymentId)).toHaveLength(0);
      expect((await rig.connector.authorize({ ...authorizeRequest })).status).toBe('authorized');
      expect(rig.fake.intentsFor(authorizeRequest.paymentId)).toHaveLength(1);
    },
  );

  it('a 5xx on capture and on refund is unavailable, nothing moved, and the retry with the same key acts once', async () => {
    const authorized = await rig.connector.authorize(request(STRIPE_TEST_CARDS.visa));
    const reference = authorized.connectorReference;
    const capture = {
      idempotencyKey: randomUUID(),
      connectorReference: reference,
      amount: 2_500,
      currency: 'EUR',
    };
    rig.fake.failNext(1, 502, /^POST \/v1\/payment_intents\/pi_\w+\/capture$/);
    expect(await rejection(rig.connector.capture(capture))).toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
    expect(rig.fake.intent(reference)).toMatchObject({ status: 'requires_capture', amount_received: 0 });
    const captured = await rig.connector.capture({ ...capture });
    expect(captured.status).toBe('succeeded');
    expect(await rig.connector.capture({ ...capture })).toEqual(captured);

    const refund = {
      idempotencyKey: randomUUID(),
      connectorReference: reference,
      amount: 1_000,
      currency: 'EUR',
    };
    rig.fake.failNext(1, 500, /^POST \/v1\/refunds$/);
    expect((await rejection(rig.connector.refund(refund))).code).toBe('unavailable');
    expect((await rig.connector.getPaymentStatus({ connectorReference: reference })).refundedAmount).toBe(0);
    const refunded = await rig.connector.refund({ ...refund });
    expect(refunded.status).toBe('succeeded');
    expect(await rig.connector.refund({ ...refund })).toEqual(refunded);
    expect((await rig.connector.getPaymentStatus({ connectorReference: reference })).refundedAmount).toBe(
      1_000,
    );
  });

  it('a sale whose capture got a 5xx: the retried sale answers authorized, and the capture key then captures once', async () => {
    const sale = {
      ...request(STRIPE_TEST_CARDS.visa, { amount: 3_300 }),
      captureIdempotencyKey: randomUUID(),
    };
    rig.fake.failNext(1, 500, /\/capture$/);
    expect((await rejection(rig.connector.sale(sale))).code).toBe('unavailable');
    const retried = await rig.connector.sale({ ...sale });
    expect(retried.status).toBe('authorized');
    const capture = {
      idempotencyKey: sale.captureIdempotencyKey,
      connectorReference: retried.connectorReference,
      amount: 3_300,
      currency: 'EUR',
    };
    expect((await rig.connector.capture(capture)).status).toBe('succeeded');
    // Now that it captured, the sale retried once more answers captured, with that capture.
    expect(await rig.connector.sale({ ...sale })).toMatchObject({ status: 'captured' });
    expect(rig.fake.intentsFor(sale.paymentId)).toHaveLength(1);
    expect(rig.fake.intent(retried.connectorReference)).toMatchObject({ amount_received: 3_300 });
  });

  it('an answer that comes too late is a timeout; the retry with the same key answers the original, charged once', async () => {
    const authorizeRequest = request(STRIPE_TEST_CARDS.visa);
    rig.fake.delayNext(1, 1_500);
    const error = await rejection(rig.connector.authorize(authorizeRequest));
    expect(error).toMatchObject({ code: 'timeout', retryable: true });
    // Stripe acted although the answer was lost.
    expect(rig.fake.intentsFor(authorizeRequest.paymentId)).toHaveLength(1);
    const retried = await rig.connector.authorize({ ...authorizeRequest });
    expect(retried).toEqual({
      status: 'authorized',
      connectorReference: rig.fake.intentsFor(authorizeRequest.paymentId)[0]!.id,
    });
    expect(rig.fake.intentsFor(authorizeRequest.paymentId)).toHaveLength(1);
  });

  it('a refused connection is unavailable', async () => {
    const connector = stripeProcessor.createConnector(
      { secret_key: rig.fake.secretKey },
      {
        accountId: 'pa_down',
        livemode: false,
        apiBaseUrl: 'http://127.0.0.1:9',
        egress: rig.egress,
        notify: async () => {},
      },
    );
    expect(await rejection(connector.authorize(request(STRIPE_TEST_CARDS.visa)))).toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
  });
});

describe('crash recovery', () => {
  it('lookupPayment finds the intent by Kassa payment id, with what it captured; null when Stripe never saw it', async () => {
    const sale = {
      ...request(STRIPE_TEST_CARDS.visa, { amount: 4_100 }),
      captureIdempotencyKey: randomUUID(),
    };
    const sold = await rig.connector.sale(sale);
    expect(sold.status).toBe('captured');
    expect(await rig.connector.lookupPayment({ paymentId: sale.paymentId })).toMatchObject({
      connectorReference: sold.connectorReference,
      status: 'authorized',
      amount: 4_100,
      currency: 'EUR',
      capturedAmount: 4_100,
    });
    expect(await rig.connector.lookupPayment({ paymentId: 'pay_neverseen' })).toBeNull();
    const search = rig.fake.requests.filter((r) => r.path === '/v1/payment_intents/search').at(-1);
    expect(search?.params.query).toBe("metadata['kassa_payment_id']:'pay_neverseen'");
    expect((await rejection(rig.connector.lookupPayment({ paymentId: "x' OR '1" }))).code).toBe(
      'invalid_request',
    );
  });
});
