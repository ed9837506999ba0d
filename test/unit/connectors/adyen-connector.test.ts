import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { ADYEN_TEST_BASE_URL, adyenBaseUrl } from '../../../src/connectors/adyen/adyen.connector.ts';
import { adyenIdempotencyKey } from '../../../src/connectors/adyen/adyen.client.ts';
import { adyenProcessor } from '../../../src/connectors/adyen/index.ts';
import {
  ConnectorError,
  type AuthorizeRequest,
  type Connector,
  type PaymentMethodData,
} from '../../../src/connectors/connector.ts';
import { compileEgressPolicy, createEgressClient } from '../../../src/egress/index.ts';
import { newId } from '../../../src/lib/ids.ts';
import { startAdyenHarness, type AdyenHarness } from '../../fakes/adyen/adyen-harness.ts';
import { FAKE_ADYEN_CARDS, FAKE_ADYEN_HOLDER_NAMES } from '../../fakes/adyen/fake-adyen.ts';

const RETURN_URL = 'http://127.0.0.1:3000/checkout/return';

function card(number: string, holderName = 'Ada Lovelace'): PaymentMethodData {
  return { type: 'card', card: { number, expMonth: 3, expYear: 2030, cvc: '737', holderName } };
}

function request(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  return {
    idempotencyKey: `adyen-${newId('pay')}`,
    paymentId: newId('pay'),
    amount: 2_500,
    currency: 'EUR',
    livemode: false,
    method: card(FAKE_ADYEN_CARDS.authorised),
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

let harness: AdyenHarness;
let connector: Connector;
beforeAll(async () => {
  harness = await startAdyenHarness();
  connector = harness.connector();
});
afterAll(async () => {
  await harness?.close();
});

describe('Adyen connector', () => {
  it('answers a processor 5xx as unavailable and retryable, charging nothing; the retry charges once', async () => {
    const payment = request();
    harness.fake.setFaults({ failWith: { status: 500, times: 1 } });
    const error = await rejection(connector.authorize(payment));
    expect(error).toMatchObject({ code: 'unavailable', retryable: true });
    expect(harness.fake.paymentsFor(payment.paymentId)).toHaveLength(0);
    harness.fake.setFaults({});
    expect((await connector.authorize({ ...payment })).status).toBe('authorized');
    expect(harness.fake.paymentsFor(payment.paymentId)).toHaveLength(1);

    harness.fake.setFaults({ failWith: { status: 503, times: 1 } });
    const capture = {
      idempotencyKey: newId('cap'),
      connectorReference: harness.fake.paymentsFor(payment.paymentId)[0]!.pspReference,
      amount: 100,
      currency: 'EUR',
    };
    expect(await rejection(connector.capture(capture))).toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
    harness.fake.setFaults({});
    expect((await connector.capture({ ...capture })).status).toBe('pending');
  });

  it('answers a timeout as retryable; the retry with the same key returns the payment Adyen made', async () => {
    const slow = harness.connector({ responseTimeoutMs: 150 });
    const payment = request();
    harness.fake.setFaults({ answerDelayMs: 600 });
    try {
      expect(await rejection(slow.authorize(payment))).toMatchObject({ code: 'timeout', retryable: true });
    } finally {
      harness.fake.setFaults({});
    }
    // Adyen acted on it even though the answer was lost (on a loaded machine it may still be at it).
    const made = await vi.waitFor(() => {
      const [found] = harness.fake.paymentsFor(payment.paymentId);
      if (!found) throw new Error('not made yet');
      return found;
    });
    expect(made.state).toBe('Authorised');
    expect(await slow.authorize({ ...payment })).toEqual({
      status: 'authorized',
      connectorReference: made.pspReference,
    });
    expect(harness.fake.paymentsFor(payment.paymentId)).toHaveLength(1);
  });

  it('reports Adyen’s refusal of raw card data as a configuration error, not a decline', async () => {
    harness.fake.setFaults({ refuseRawCardData: true });
    try {
      const error = await rejection(connector.authorize(request()));
      expect(error.code).toBe('processor_error');
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/PCI role/);
    } finally {
      harness.fake.setFaults({});
    }
  });

  it('reports a wrong API key as a non-retryable processor error', async () => {
    const wrong = adyenProcessor.createConnector(
      { ...harness.credentials, api_key: 'AQE_wrong' },
      {
        accountId: harness.accountId,
        livemode: false,
        apiBaseUrl: harness.fake.url,
        egress: createEgressClient({ policy: compileEgressPolicy({ mode: 'development', allowList: [] }) }),
        notify: async () => undefined,
      },
    );
    expect(await rejection(wrong.authorize(request()))).toMatchObject({
      code: 'processor_error',
      retryable: false,
    });
  });

  it('answers unavailable when nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const offline = adyenProcessor.createConnector(harness.credentials, {
      accountId: harness.accountId,
      livemode: false,
      apiBaseUrl: `http://127.0.0.1:${port}`,
      egress: createEgressClient({ policy: compileEgressPolicy({ mode: 'development', allowList: [] }) }),
      notify: async () => undefined,
    });
    expect(await rejection(offline.authorize(request()))).toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
  });

  it('refuses a payment of the other mode, other methods and saved cards before calling Adyen', async () => {
    const before = harness.fake.requests.length;
    expect((await rejection(connector.authorize(request({ livemode: true })))).code).toBe('invalid_request');
    expect((await rejection(connector.authorize(request({ method: { type: 'wallet' } })))).code).toBe(
      'invalid_request',
    );
    const saved = card(FAKE_ADYEN_CARDS.authorised);
    if (saved.type === 'card') saved.card.storedCredential = true;
    expect((await rejection(connector.authorize(request({ method: saved })))).code).toBe('invalid_request');
    expect(
      (await rejection(connector.void({ idempotencyKey: 'k', connectorReference: '../../payments' }))).code,
    ).toBe('invalid_request');
    expect(harness.fake.requests.length).toBe(before);
  });

  it('declines a 3-D Secure redirect that must be POSTed, which the script-free page cannot make', async () => {
    const result = await connector.authorize(
      request({ method: card(FAKE_ADYEN_CARDS.challenge, FAKE_ADYEN_HOLDER_NAMES.postRedirect) }),
    );
    expect(result).toMatchObject({ status: 'declined', declineCode: 'authentication_failed' });
    const get = await connector.authorize(request({ method: card(FAKE_ADYEN_CARDS.challenge) }));
    expect(get).toMatchObject({ status: 'requires_action', action: { type: 'redirect' } });
  });

  it('answers resultCode Error as a declined payment, not as a failure to get an answer', async () => {
    const result = await connector.authorize(
      request({ method: card(FAKE_ADYEN_CARDS.authorised, FAKE_ADYEN_HOLDER_NAMES.error) }),
    );
    expect(result).toMatchObject({ status: 'declined', declineCode: 'payment_rejected' });
    if (result.status === 'declined') expect(result.message).toMatch(/Acquirer Error/);
  });

  it('refuses to complete an action without Adyen’s redirectResult', async () => {
    const payment = request({ method: card(FAKE_ADYEN_CARDS.challenge) });
    const result = await connector.authorize(payment);
    const error = await rejection(
      connector.completeAction!({
        connectorReference: result.connectorReference,
        paymentId: payment.paymentId,
        returnParameters: { MD: 'x' },
      }),
    );
    expect(error.code).toBe('invalid_request');
    const unknown = await rejection(
      connector.completeAction!({
        connectorReference: result.connectorReference,
        paymentId: payment.paymentId,
        returnParameters: { redirectResult: 'forged-result' },
      }),
    );
    expect(unknown.code).toBe('invalid_request');
  });

  it('fills browserInfo and shopperIP from the shopper’s request for 3-D Secure', async () => {
    const payment = request({
      shopper: {
        ipAddress: '203.0.113.7',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
        acceptHeader: 'text/html,application/xhtml+xml',
        language: 'nl-NL',
      },
    });
    await connector.authorize(payment);
    const sent = harness.fake.requests.find(
      (r) => (r.body as { reference?: string }).reference === payment.paymentId,
    );
    expect(sent?.body).toMatchObject({
      shopperIP: '203.0.113.7',
      shopperLocale: 'nl-NL',
      browserInfo: {
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
        acceptHeader: 'text/html,application/xhtml+xml',
        language: 'nl-NL',
      },
    });
  });

  it('sends long idempotency keys as a stable digest within Adyen’s 64 characters', async () => {
    const long = `${newId('pay')}:authorize:${'x'.repeat(80)}`;
    expect(adyenIdempotencyKey(long)).toHaveLength(49);
    expect(adyenIdempotencyKey(long)).toBe(adyenIdempotencyKey(long));
    expect(adyenIdempotencyKey('short-key')).toBe('short-key');
    const payment = request({ idempotencyKey: long });
    const first = await connector.authorize(payment);
    expect(await connector.authorize({ ...payment })).toEqual(first);
    expect(harness.fake.paymentsFor(payment.paymentId)).toHaveLength(1);
  });

  it('uses Adyen’s test host, the live host of the account’s prefix, or the configured base', () => {
    const egress = createEgressClient({ policy: compileEgressPolicy({ mode: 'production', allowList: [] }) });
    const context = { accountId: 'pa_x', egress, notify: async () => undefined };
    expect(adyenBaseUrl(harness.credentials, { ...context, livemode: false })).toBe(ADYEN_TEST_BASE_URL);
    expect(ADYEN_TEST_BASE_URL).toBe('https://checkout-test.adyen.com/v71');
    expect(
      adyenBaseUrl(
        { ...harness.credentials, live_url_prefix: '1797a841fbb37ca7-AdyenDemo' },
        { ...context, livemode: true },
      ),
    ).toBe('https://1797a841fbb37ca7-AdyenDemo-checkout-live.adyenpayments.com/checkout/v71');
    expect(() => adyenBaseUrl(harness.credentials, { ...context, livemode: true })).toThrow(
      /live_url_prefix/,
    );
    expect(
      adyenBaseUrl(harness.credentials, { ...context, livemode: false, apiBaseUrl: 'http://127.0.0.1:9/' }),
    ).toBe('http://127.0.0.1:9/v71');
  });
});

describe('Adyen webhooks from the fake', () => {
  it('delivers a capture that the bank refuses later as CAPTURE_FAILED, and a duplicate with the same event id', async () => {
    const payment = request();
    const authorization = await connector.authorize(payment);
    const pending = await connector.capture({
      idempotencyKey: newId('cap'),
      connectorReference: authorization.connectorReference,
      amount: 2_500,
      currency: 'EUR',
    });
    expect(await harness.decision(pending)).toMatchObject({ status: 'succeeded' });
    await harness.fake.failLater(pending.operationReference, 'Capture refused by the acquirer');
    const forCapture = () =>
      harness.notifications.filter(
        (n) => n.kind === 'capture' && n.operationReference === pending.operationReference,
      );
    expect(forCapture().map((n) => n.status)).toEqual(['succeeded', 'failed']);

    const index = harness.fake.sent.findIndex(
      (s) => s.notificationItems[0]?.NotificationRequestItem.eventCode === 'CAPTURE_FAILED',
    );
    await harness.fake.redeliver(index);
    const events = forCapture().map((n) => n.eventId);
    expect(events).toHaveLength(3);
    expect(events[2]).toBe(events[1]);
    expect(harness.refused).toEqual([]);
  });

  it('is refused by the receiver when forged: nothing is recorded', async () => {
    const [original] = harness.fake.sent;
    const forged = structuredClone(original!);
    forged.notificationItems[0]!.NotificationRequestItem.amount.value += 1;
    const before = harness.notifications.length;
    const response = await fetch(harness.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(forged),
    });
    expect(response.status).toBe(401);
    expect(harness.notifications.length).toBe(before);
    expect(harness.refused.at(-1)).toBe('invalid_signature');
    harness.refused.length = 0;
  });

  it('sent only documented requests and notifications', async () => {
    await harness.fake.drain();
    expect(harness.fake.violations).toEqual([]);
  });
});
