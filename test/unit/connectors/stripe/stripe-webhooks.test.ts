import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DECLINE_CODES } from '../../../../src/connectors/connector.ts';
import { ProcessorWebhookError } from '../../../../src/connectors/processor.ts';
import {
  STRIPE_WEBHOOK_EVENTS,
  signStripePayload,
  stripeProcessor,
} from '../../../../src/connectors/stripe/index.ts';
import { STRIPE_TEST_CARDS } from '../../../fakes/stripe/fake-stripe.ts';
import {
  TEST_WEBHOOK_SECRET,
  startStripeTestRig,
  testCard,
  type StripeTestRig,
} from '../../../fakes/stripe/stripe-fixture.ts';

const SECRET = 'whsec_unitTestSecretABCDEFGH';
const NOW = new Date('2026-06-01T12:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);
const credentials = { secret_key: 'sk_test_abcdefghijklmnop', webhook_secret: SECRET };

function event(type: string, object: Record<string, unknown>, id = 'evt_1') {
  return JSON.stringify({ id, object: 'event', type, created: T - 5, livemode: false, data: { object } });
}

function verify(body: string, header: string | undefined, options: { now?: Date; secret?: string } = {}) {
  return stripeProcessor.verifyWebhook({
    rawBody: Buffer.from(body),
    headers: header === undefined ? {} : { 'stripe-signature': header },
    credentials: { ...credentials, webhook_secret: options.secret ?? SECRET },
    livemode: false,
    now: options.now ?? NOW,
  });
}

function refusal(run: () => unknown): ProcessorWebhookError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProcessorWebhookError);
    return error as ProcessorWebhookError;
  }
  throw new Error('expected a refusal');
}

const intent = (overrides: Record<string, unknown> = {}) => ({
  id: 'pi_123',
  object: 'payment_intent',
  amount: 1000,
  currency: 'eur',
  status: 'requires_capture',
  metadata: { kassa_payment_id: 'pay_abc' },
  ...overrides,
});

describe('Stripe-Signature verification', () => {
  const body = event('payment_intent.amount_capturable_updated', intent());

  it('accepts a valid signature and acknowledges with {"received":true}', () => {
    const verified = verify(body, signStripePayload(body, SECRET, T));
    expect(verified.acknowledgement).toEqual({ contentType: 'application/json', body: '{"received":true}' });
    expect(verified.notifications).toHaveLength(1);
  });

  it('accepts a header with several v1 signatures when one matches (secret rolling)', () => {
    const good = signStripePayload(body, SECRET, T).split('v1=')[1];
    const other = signStripePayload(body, 'whsec_otherSecret000000', T).split('v1=')[1];
    expect(verify(body, `t=${T},v1=${other},v1=${good},v0=abc`).notifications).toHaveLength(1);
  });

  it('refuses a signature made with another secret (forged)', () => {
    const forged = signStripePayload(body, 'whsec_attackerSecret00000', T);
    expect(refusal(() => verify(body, forged)).reason).toBe('invalid_signature');
  });

  it('refuses a body changed after signing', () => {
    const header = signStripePayload(body, SECRET, T);
    const tampered = body.replace('"amount":1000', '"amount":1');
    expect(tampered).not.toBe(body);
    expect(refusal(() => verify(tampered, header)).reason).toBe('invalid_signature');
  });

  it('refuses a timestamp outside the 5-minute tolerance, either way, and accepts one just inside', () => {
    expect(refusal(() => verify(body, signStripePayload(body, SECRET, T - 301))).reason).toBe(
      'stale_timestamp',
    );
    expect(refusal(() => verify(body, signStripePayload(body, SECRET, T + 301))).reason).toBe(
      'stale_timestamp',
    );
    expect(verify(body, signStripePayload(body, SECRET, T - 299)).notifications).toHaveLength(1);
  });

  it('refuses a changed timestamp (the signature covers it)', () => {
    const header = signStripePayload(body, SECRET, T).replace(`t=${T}`, `t=${T + 1}`);
    expect(refusal(() => verify(body, header)).reason).toBe('invalid_signature');
  });

  it('refuses a missing or empty header, and headers without t or v1', () => {
    expect(refusal(() => verify(body, undefined)).reason).toBe('missing_signature');
    expect(refusal(() => verify(body, '')).reason).toBe('missing_signature');
    const v1 = signStripePayload(body, SECRET, T).split(',')[1]!;
    expect(refusal(() => verify(body, v1)).reason).toBe('invalid_signature');
    expect(refusal(() => verify(body, `t=${T}`)).reason).toBe('invalid_signature');
    expect(refusal(() => verify(body, `t=${T},v1=zz`)).reason).toBe('invalid_signature');
  });

  it('refuses everything while the account has no webhook secret', () => {
    const error = refusal(() =>
      stripeProcessor.verifyWebhook({
        rawBody: Buffer.from(body),
        headers: { 'stripe-signature': signStripePayload(body, SECRET, T) },
        credentials: { secret_key: credentials.secret_key },
        livemode: false,
        now: NOW,
      }),
    );
    expect(error.reason).toBe('invalid_signature');
  });

  it('refuses a correctly signed body that is not a Stripe event as malformed', () => {
    for (const bad of [
      'not json',
      '{"object":"event"}',
      JSON.stringify({ ...JSON.parse(body), data: null }),
    ]) {
      expect(refusal(() => verify(bad, signStripePayload(bad, SECRET, T))).reason).toBe('malformed');
    }
  });

  it('gives a duplicate delivery the same event id, so the consumer stores it once', () => {
    const first = verify(body, signStripePayload(body, SECRET, T - 60));
    const again = verify(body, signStripePayload(body, SECRET, T));
    expect(again.notifications).toEqual(first.notifications);
    expect(first.notifications[0]?.eventId).toBe('evt_1');
  });
});

describe('event normalization', () => {
  const signed = (type: string, object: Record<string, unknown>, id = 'evt_n') => {
    const body = event(type, object, id);
    return verify(body, signStripePayload(body, SECRET, T)).notifications;
  };

  it('payment_intent.amount_capturable_updated → authorized', () => {
    expect(signed('payment_intent.amount_capturable_updated', intent())).toEqual([
      {
        eventId: 'evt_n',
        kind: 'authorization',
        paymentId: 'pay_abc',
        connectorReference: 'pi_123',
        status: 'authorized',
        occurredAt: new Date((T - 5) * 1000),
      },
    ]);
  });

  it('payment_intent.succeeded → captured', () => {
    expect(signed('payment_intent.succeeded', intent({ status: 'succeeded' }))).toMatchObject([
      { kind: 'authorization', status: 'captured', connectorReference: 'pi_123' },
    ]);
  });

  it('payment_intent.payment_failed → declined with the decline code mapped', () => {
    const failed = signed(
      'payment_intent.payment_failed',
      intent({
        status: 'requires_payment_method',
        last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' },
      }),
    );
    expect(failed).toMatchObject([{ status: 'declined', declineCode: 'insufficient_funds' }]);
    const threeDS = signed(
      'payment_intent.payment_failed',
      intent({
        status: 'requires_payment_method',
        last_payment_error: { code: 'payment_intent_authentication_failure' },
      }),
    );
    expect(threeDS).toMatchObject([{ declineCode: 'authentication_failed' }]);
  });

  it('payment_intent.canceled → a succeeded void', () => {
    expect(signed('payment_intent.canceled', intent({ status: 'canceled' }))).toEqual([
      expect.objectContaining({ kind: 'void', status: 'succeeded', operationReference: 'pi_123' }),
    ]);
  });

  it('refund.updated / refund.failed → refund succeeded or failed; pending says nothing', () => {
    const refund = (status: string) => ({
      id: 're_1',
      object: 'refund',
      amount: 300,
      status,
      payment_intent: 'pi_123',
      metadata: {},
    });
    expect(signed('refund.updated', refund('succeeded'))).toEqual([
      expect.objectContaining({
        kind: 'refund',
        status: 'succeeded',
        operationReference: 're_1',
        connectorReference: 'pi_123',
        amount: 300,
      }),
    ]);
    expect(signed('refund.failed', refund('failed'))).toEqual([
      expect.objectContaining({ kind: 'refund', status: 'failed', failureCode: 'invalid_state' }),
    ]);
    expect(signed('refund.updated', refund('pending'))).toEqual([]);
  });

  it('charge.refunded → one notification per refund it lists, each with its own event id', () => {
    const charge = {
      id: 'ch_1',
      object: 'charge',
      payment_intent: 'pi_123',
      refunds: {
        data: [
          { id: 're_a', object: 'refund', amount: 100, status: 'succeeded', payment_intent: 'pi_123' },
          { id: 're_b', object: 'refund', amount: 200, status: 'succeeded', payment_intent: 'pi_123' },
        ],
      },
    };
    const notifications = signed('charge.refunded', charge, 'evt_c');
    expect(notifications.map((n) => n.eventId)).toEqual(['evt_c:re_a', 'evt_c:re_b']);
    expect(signed('charge.refunded', { id: 'ch_1', object: 'charge' })).toEqual([]);
  });

  it('acknowledges events Kassa does not act on without notifications', () => {
    expect(signed('customer.created', { id: 'cus_1', object: 'customer' })).toEqual([]);
  });

  it('lists the events to register, all of which it understands', () => {
    expect(STRIPE_WEBHOOK_EVENTS).toContain('payment_intent.succeeded');
    expect(STRIPE_WEBHOOK_EVENTS).toContain('refund.failed');
  });
});

describe('webhooks from the fake Stripe, verified as the webhook route does', () => {
  let rig: StripeTestRig;
  beforeAll(async () => {
    rig = await startStripeTestRig({ accountId: 'pa_webhooks' });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('delivers signed events for authorize, capture, refund and void that verify and normalize', async () => {
    const { connector, fake } = rig;
    const paymentId = 'pay_webhooks1';
    const authorized = await connector.authorize({
      idempotencyKey: 'wh-auth-1',
      paymentId,
      amount: 5_000,
      currency: 'EUR',
      livemode: false,
      method: testCard(STRIPE_TEST_CARDS.visa),
      returnUrl: 'http://127.0.0.1:3000/return',
    });
    const reference = authorized.connectorReference;
    await connector.capture({
      idempotencyKey: 'wh-cap-1',
      connectorReference: reference,
      amount: 5_000,
      currency: 'EUR',
    });
    const refund = await connector.refund({
      idempotencyKey: 'wh-ref-1',
      connectorReference: reference,
      amount: 1_200,
      currency: 'EUR',
    });
    await fake.flushWebhooks();
    const own = rig.notifications.filter((n) => n.connectorReference === reference);
    expect(own.map((n) => [n.kind, n.status])).toEqual([
      ['authorization', 'authorized'],
      ['authorization', 'captured'],
      ['refund', 'succeeded'],
    ]);
    expect(own[0]).toMatchObject({ paymentId });
    expect(own[2]).toMatchObject({ operationReference: refund.operationReference, amount: 1_200 });
    expect(rig.answers.every((answer) => answer.status === 200 && answer.body === '{"received":true}')).toBe(
      true,
    );

    const declined = await connector.authorize({
      idempotencyKey: 'wh-auth-2',
      paymentId: 'pay_webhooks2',
      amount: 700,
      currency: 'EUR',
      livemode: false,
      method: testCard(STRIPE_TEST_CARDS.insufficientFunds),
      returnUrl: 'http://127.0.0.1:3000/return',
    });
    await fake.flushWebhooks();
    expect(rig.notifications.filter((n) => n.connectorReference === declined.connectorReference)).toEqual([
      expect.objectContaining({
        kind: 'authorization',
        status: 'declined',
        declineCode: 'insufficient_funds',
      }),
    ]);
    expect(DECLINE_CODES).toContain('insufficient_funds');

    const toVoid = await connector.authorize({
      idempotencyKey: 'wh-auth-3',
      paymentId: 'pay_webhooks3',
      amount: 900,
      currency: 'EUR',
      livemode: false,
      method: testCard(STRIPE_TEST_CARDS.visa),
      returnUrl: 'http://127.0.0.1:3000/return',
    });
    await connector.void({ idempotencyKey: 'wh-void-3', connectorReference: toVoid.connectorReference });
    await fake.flushWebhooks();
    expect(
      rig.notifications.filter((n) => n.connectorReference === toVoid.connectorReference).map((n) => n.kind),
    ).toEqual(['authorization', 'void']);
  });

  it('refuses forged and stale deliveries and keeps a duplicate to the same event id', async () => {
    const { fake } = rig;
    const last = fake.events[fake.events.length - 1]!;
    const before = rig.notifications.length;
    expect(await fake.deliver(String(last.id), { secret: 'whsec_forgedForgedForged0' })).toBe(401);
    expect(await fake.deliver(String(last.id), { timestamp: Math.floor(Date.now() / 1000) - 600 })).toBe(401);
    expect(rig.notifications.length).toBe(before);
    expect(await fake.deliver(String(last.id))).toBe(200);
    const duplicate = rig.notifications.slice(before);
    expect(duplicate.length).toBeGreaterThan(0);
    const first = rig.notifications.find((n) => n.eventId === duplicate[0]!.eventId);
    expect(first).toEqual(duplicate[0]);
    expect(TEST_WEBHOOK_SECRET).toMatch(/^whsec_/);
  });
});
