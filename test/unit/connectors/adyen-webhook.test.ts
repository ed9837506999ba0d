import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { declineCodeOf, operationFailureCodeOf } from '../../../src/connectors/adyen/adyen.mapping.ts';
import {
  signAdyenNotificationItem,
  type AdyenNotificationItem,
} from '../../../src/connectors/adyen/adyen.webhook.ts';
import { adyenProcessor, type AdyenCredentials } from '../../../src/connectors/adyen/index.ts';
import { ProcessorWebhookError } from '../../../src/connectors/processor.ts';

const HMAC_KEY = '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056';
const credentials: AdyenCredentials = {
  api_key: 'AQE_test',
  merchant_account: 'KassaECOM',
  hmac_key: HMAC_KEY,
};

function item(overrides: Partial<AdyenNotificationItem> = {}): AdyenNotificationItem {
  return {
    pspReference: '7914073381342284',
    merchantAccountCode: 'KassaECOM',
    merchantReference: 'pay_0123456789abcdef0123456789abcdef',
    amount: { currency: 'EUR', value: 1130 },
    eventCode: 'AUTHORISATION',
    eventDate: '2026-12-06T18:00:00+01:00',
    success: 'true',
    paymentMethod: 'visa',
    ...overrides,
  };
}

/** Signs as Adyen documents it, written out here rather than taken from the code under test. */
function signed(value: AdyenNotificationItem, key = HMAC_KEY): AdyenNotificationItem {
  const data = [
    value.pspReference,
    value.originalReference ?? '',
    value.merchantAccountCode,
    value.merchantReference,
    value.amount.value,
    value.amount.currency,
    value.eventCode,
    value.success,
  ].join(':');
  const hmacSignature = createHmac('sha256', Buffer.from(key, 'hex')).update(data).digest('base64');
  return { ...value, additionalData: { ...value.additionalData, hmacSignature } };
}

function body(...items: AdyenNotificationItem[]): Buffer {
  return bodyOf('false', items);
}

function bodyOf(live: string, items: AdyenNotificationItem[]): Buffer {
  return Buffer.from(
    JSON.stringify({ live, notificationItems: items.map((i) => ({ NotificationRequestItem: i })) }),
  );
}

function verify(rawBody: Buffer, key: string | undefined = HMAC_KEY, livemode = false) {
  return adyenProcessor.verifyWebhook({
    rawBody,
    headers: { 'content-type': 'application/json' },
    credentials: { ...credentials, hmac_key: key },
    livemode,
    now: new Date(),
  });
}

function refusal(rawBody: Buffer, key?: string, livemode = false): ProcessorWebhookError {
  try {
    verify(rawBody, key, livemode);
  } catch (error) {
    expect(error).toBeInstanceOf(ProcessorWebhookError);
    return error as ProcessorWebhookError;
  }
  throw new Error('the webhook was accepted');
}

describe('Adyen webhook HMAC', () => {
  it('accepts a correctly signed item and answers [accepted] as text/plain', () => {
    const verified = verify(body(signed(item())));
    expect(verified.acknowledgement).toEqual({ contentType: 'text/plain', body: '[accepted]' });
    expect(verified.notifications).toEqual([
      {
        eventId: '7914073381342284:AUTHORISATION:true',
        kind: 'authorization',
        paymentId: 'pay_0123456789abcdef0123456789abcdef',
        connectorReference: '7914073381342284',
        status: 'authorized',
        occurredAt: new Date('2026-12-06T17:00:00Z'),
      },
    ]);
    // The code's own signer agrees with the documented concatenation; the key's hex case does not matter.
    expect(signAdyenNotificationItem(item(), HMAC_KEY.toLowerCase())).toBe(
      signed(item()).additionalData!.hmacSignature,
    );
  });

  it('refuses a forged item: any signed field changed, or another key', () => {
    const good = signed(item());
    for (const forged of [
      { ...good, amount: { currency: 'EUR', value: 1 } },
      { ...good, success: 'false' },
      { ...good, merchantReference: 'pay_someoneelse' },
      { ...good, eventCode: 'REFUND' },
      { ...good, originalReference: '1234567890123456' },
    ]) {
      expect(refusal(body(forged)).reason).toBe('invalid_signature');
    }
    expect(refusal(body(signed(item(), randomBytes(32).toString('hex')))).reason).toBe('invalid_signature');
    expect(refusal(body({ ...good, additionalData: { hmacSignature: 'AAAA' } })).reason).toBe(
      'invalid_signature',
    );
  });

  it('refuses an unsigned item, and everything while the account has no HMAC key', () => {
    expect(refusal(body(item())).reason).toBe('missing_signature');
    expect(refusal(body({ ...item(), additionalData: { hmacSignature: '' } })).reason).toBe(
      'missing_signature',
    );
    expect(refusal(body(signed(item())), '').reason).toBe('missing_signature');
  });

  it('refuses the whole batch when one item fails', () => {
    const good = signed(item());
    const bad = { ...signed(item({ pspReference: '8814073381342285' })), success: 'false' };
    expect(refusal(body(good, bad)).reason).toBe('invalid_signature');
    expect(refusal(body(good, item({ pspReference: '8814073381342285' }))).reason).toBe('missing_signature');
  });

  it("refuses a signed batch whose live flag is not the account's mode, and accepts the matching one", () => {
    const good = signed(item());
    const fromLive = refusal(bodyOf('true', [good]), HMAC_KEY, false);
    expect(fromLive.reason).toBe('livemode_mismatch');
    expect(fromLive.message).toContain('live environment');
    expect(fromLive.message).toContain('test mode');
    const fromTest = refusal(bodyOf('false', [good]), HMAC_KEY, true);
    expect(fromTest.reason).toBe('livemode_mismatch');
    expect(fromTest.message).toContain('live mode');
    expect(verify(bodyOf('true', [good]), HMAC_KEY, true).notifications).toHaveLength(1);
    expect(verify(bodyOf('false', [good]), HMAC_KEY, false).notifications).toHaveLength(1);
    // A forged item is still a signature refusal, whatever the flag says.
    expect(refusal(bodyOf('true', [{ ...good, success: 'false' }]), HMAC_KEY, false).reason).toBe(
      'invalid_signature',
    );
    for (const live of ['TRUE', '', 'yes']) {
      expect(refusal(bodyOf(live, [good]), HMAC_KEY, false).reason).toBe('malformed');
    }
  });

  it('refuses a malformed body as malformed', () => {
    expect(refusal(Buffer.from('not json')).reason).toBe('malformed');
    expect(refusal(Buffer.from('{"live":"false"}')).reason).toBe('malformed');
    expect(refusal(Buffer.from('{"live":"false","notificationItems":[]}')).reason).toBe('malformed');
    expect(refusal(body({ ...signed(item()), amount: { currency: 'EUR', value: 1.5 } })).reason).toBe(
      'malformed',
    );
    expect(refusal(body({ ...signed(item()), eventDate: 'yesterday' })).reason).toBe('malformed');
  });

  it('gives a duplicate delivery the same event id, so the consumer stores it once', () => {
    const once = signed(item());
    const first = verify(body(once)).notifications;
    const again = verify(body(once, once)).notifications;
    expect(again).toHaveLength(2);
    expect(new Set([...first, ...again].map((n) => n.eventId)).size).toBe(1);
    // The same payment's failed authorisation is another event.
    const failed = verify(body(signed(item({ success: 'false', reason: 'Refused' })))).notifications;
    expect(failed[0]?.eventId).not.toBe(first[0]?.eventId);
  });

  it('verifies, then leaves alone, items of other events and other merchant accounts', () => {
    const verified = verify(
      body(
        signed(item({ eventCode: 'REPORT_AVAILABLE' })),
        signed(item({ merchantAccountCode: 'AnotherECOM', pspReference: '8814073381342285' })),
        signed(item({ pspReference: '9914073381342286' })),
      ),
    );
    expect(verified.notifications.map((n) => n.connectorReference)).toEqual(['9914073381342286']);
    expect(refusal(body(item({ eventCode: 'REPORT_AVAILABLE' }), signed(item()))).reason).toBe(
      'missing_signature',
    );
  });
});

describe('Adyen notification mapping', () => {
  const notificationOf = (overrides: Partial<AdyenNotificationItem>) => {
    const [notification] = verify(body(signed(item(overrides)))).notifications;
    return notification;
  };
  const modification = {
    pspReference: '8825408195409505',
    originalReference: '7914073381342284',
    amount: { currency: 'EUR', value: 500 },
  };

  it('maps AUTHORISATION success false to a declined payment with the reason’s decline code', () => {
    expect(notificationOf({ success: 'false', reason: 'Not enough balance' })).toMatchObject({
      kind: 'authorization',
      status: 'declined',
      declineCode: 'insufficient_funds',
    });
    expect(notificationOf({ success: 'false', reason: '3D Not Authenticated' })).toMatchObject({
      declineCode: 'authentication_failed',
    });
    expect(notificationOf({ success: 'false', reason: 'Something new' })).toMatchObject({
      declineCode: 'card_declined',
    });
  });

  it.each([
    ['CAPTURE', 'true', 'capture', 'succeeded'],
    ['CAPTURE', 'false', 'capture', 'failed'],
    ['CAPTURE_FAILED', 'true', 'capture', 'failed'],
    ['CANCELLATION', 'true', 'void', 'succeeded'],
    ['CANCELLATION', 'false', 'void', 'failed'],
    ['REFUND', 'true', 'refund', 'succeeded'],
    ['REFUND', 'false', 'refund', 'failed'],
    ['REFUND_FAILED', 'true', 'refund', 'failed'],
  ] as const)('maps %s success=%s to a %s that %s', (eventCode, success, kind, status) => {
    const notification = notificationOf({ ...modification, eventCode, success });
    expect(notification).toMatchObject({
      eventId: `8825408195409505:${eventCode}:${success}`,
      kind,
      paymentId: 'pay_0123456789abcdef0123456789abcdef',
      connectorReference: '7914073381342284',
      operationReference: '8825408195409505',
      status,
      amount: 500,
    });
    if (status === 'failed') expect(notification).toHaveProperty('failureCode');
    else expect(notification).not.toHaveProperty('failureCode');
  });

  it('maps refusal reason codes and texts onto the closed decline codes', () => {
    expect(declineCodeOf({ code: '6', reason: 'Expired Card' })).toBe('expired_card');
    expect(declineCodeOf({ code: '24' })).toBe('incorrect_cvc');
    expect(declineCodeOf({ code: '8' })).toBe('invalid_number');
    expect(declineCodeOf({ code: '20' })).toBe('payment_rejected');
    expect(declineCodeOf({ reason: 'CVC Declined' })).toBe('incorrect_cvc');
    expect(declineCodeOf({ reason: 'Refused:1234' })).toBe('card_declined');
    expect(declineCodeOf({})).toBe('card_declined');
  });

  it('maps modification refusals onto operation failure codes', () => {
    expect(operationFailureCodeOf('capture', 'Capture amount exceeds the authorised amount')).toBe(
      'amount_exceeds_authorized',
    );
    expect(operationFailureCodeOf('refund', 'Insufficient balance on payment')).toBe(
      'amount_exceeds_captured',
    );
    expect(operationFailureCodeOf('capture', 'Currency of the modification does not match')).toBe(
      'currency_mismatch',
    );
    expect(operationFailureCodeOf('void', 'Payment already captured')).toBe('invalid_state');
    expect(operationFailureCodeOf('refund', undefined)).toBe('invalid_state');
  });
});

describe('Adyen processor module', () => {
  it('declares its secrets, webhook secret and live requirement', () => {
    expect(adyenProcessor.name).toBe('adyen');
    expect(adyenProcessor.secretFields).toEqual(['api_key', 'hmac_key']);
    expect(adyenProcessor.webhookSecretField).toBe('hmac_key');
    expect(adyenProcessor.impliedLivemode(credentials)).toBeNull();
    expect(adyenProcessor.liveRequirement?.(credentials)).toMatchObject({ field: 'live_url_prefix' });
    expect(
      adyenProcessor.liveRequirement?.({ ...credentials, live_url_prefix: '1797a841fbb37ca7-AdyenDemo' }),
    ).toBeNull();
  });

  it('validates credentials: a hex HMAC key, no unknown fields', () => {
    const schema = adyenProcessor.credentialsSchema;
    expect(schema.safeParse(credentials).success).toBe(true);
    expect(schema.safeParse({ api_key: 'k', merchant_account: 'M' }).success).toBe(true);
    expect(schema.safeParse({ ...credentials, hmac_key: 'not-hex' }).success).toBe(false);
    expect(schema.safeParse({ ...credentials, hmac_key: 'ABC' }).success).toBe(false);
    expect(schema.safeParse({ ...credentials, live_url_prefix: 'https://evil.example/' }).success).toBe(
      false,
    );
    expect(schema.safeParse({ ...credentials, secret_key: 'sk_test_x' }).success).toBe(false);
    expect(schema.safeParse({ api_key: '', merchant_account: 'M' }).success).toBe(false);
  });
});
