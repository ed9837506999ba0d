/** Our signer against the reference `standardwebhooks` verifier (never our own verification code). */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  buildWebhookHeaders,
  buildWebhookPayload,
  buildWebhookPayloadFromJson,
  generateWebhookSecret,
  webhookSigningKey,
} from '../../../src/outbox/webhook-signer.ts';

const event = {
  id: 'evt_0123456789abcdef0123456789abcdef',
  type: 'payment.succeeded',
  apiVersion: '2026-12-06',
  livemode: false,
  createdAt: new Date('2025-03-01T12:00:00.123Z'),
  objectId: 'pay_0123456789abcdef0123456789abcdef',
  objectVersion: 3,
  orderId: 'ord_0123456789abcdef0123456789abcdef',
  checkoutId: null,
  paymentId: 'pay_0123456789abcdef0123456789abcdef',
  actor: { type: 'credential', id: 'key_0123456789abcdef0123456789abcdef' },
  data: { amount: 1050, currency: 'KWD' },
};

describe('webhook secrets', () => {
  it('are whsec_ + base64 of 24–64 random bytes, all different', () => {
    const secrets = new Set(Array.from({ length: 50 }, generateWebhookSecret));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
      const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64');
      expect(bytes.length).toBeGreaterThanOrEqual(24);
      expect(bytes.length).toBeLessThanOrEqual(64);
    }
  });
});

describe('signed webhooks', () => {
  const secret = generateWebhookSecret();
  const payload = buildWebhookPayload(event);

  it('have the Standard Webhooks body and headers, and verify with the reference library', () => {
    expect(JSON.parse(payload)).toEqual({
      id: 'evt_0123456789abcdef0123456789abcdef',
      object: 'event',
      type: 'payment.succeeded',
      api_version: '2026-12-06',
      livemode: false,
      created_at: '2025-03-01T12:00:00.123Z',
      timestamp: '2025-03-01T12:00:00.123Z',
      object_id: 'pay_0123456789abcdef0123456789abcdef',
      object_version: 3,
      order_id: 'ord_0123456789abcdef0123456789abcdef',
      checkout_id: null,
      payment_id: 'pay_0123456789abcdef0123456789abcdef',
      actor: { type: 'credential', id: 'key_0123456789abcdef0123456789abcdef' },
      data: { amount: 1050, currency: 'KWD' },
    });
    const timestamp = new Date();
    const headers = buildWebhookHeaders({ webhookId: 'evt_1', timestamp, payload, secrets: [secret] });
    expect(headers['webhook-id']).toBe('evt_1');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(timestamp.getTime() / 1000)));
    expect(new Webhook(secret).verify(payload, headers)).toEqual(JSON.parse(payload));
  });

  it('sign the same with a kept signing key as with the secret text (what the delivery worker sends)', () => {
    const timestamp = new Date();
    const other = generateWebhookSecret();
    const fromText = buildWebhookHeaders({
      webhookId: 'evt_1',
      timestamp,
      payload,
      secrets: [secret, other],
    });
    const fromKeys = buildWebhookHeaders({
      webhookId: 'evt_1',
      timestamp,
      payload,
      secrets: [webhookSigningKey(secret), webhookSigningKey(other)],
    });
    expect(fromKeys).toEqual(fromText);
    expect(new Webhook(other).verify(payload, fromKeys)).toEqual(JSON.parse(payload));
    expect(() => new Webhook(generateWebhookSecret()).verify(payload, fromKeys)).toThrow(
      WebhookVerificationError,
    );
  });

  it('fail verification when any byte, the id or the timestamp changes, or with another secret', () => {
    const headers = buildWebhookHeaders({
      webhookId: 'evt_1',
      timestamp: new Date(),
      payload,
      secrets: [secret],
    });
    const verifier = new Webhook(secret);
    for (let index = 0; index < payload.length; index += 7) {
      const flipped =
        payload.slice(0, index) +
        String.fromCharCode(payload.charCodeAt(index) ^ 1) +
        payload.slice(index + 1);
      expect(() => verifier.verify(flipped, headers)).toThrow(WebhookVerificationError);
    }
    expect(() => verifier.verify(payload, { ...headers, 'webhook-id': 'evt_2' })).toThrow(
      WebhookVerificationError,
    );
    expect(() =>
      verifier.verify(payload, {
        ...headers,
        'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1),
      }),
    ).toThrow(WebhookVerificationError);
    expect(() => new Webhook(generateWebhookSecret()).verify(payload, headers)).toThrow(
      WebhookVerificationError,
    );
  });

  it('carry one v1 signature per active secret, each verifiable on its own', () => {
    const previous = generateWebhookSecret();
    const headers = buildWebhookHeaders({
      webhookId: 'evt_1',
      timestamp: new Date(),
      payload,
      secrets: [secret, previous],
    });
    expect(headers['webhook-signature']!.split(' ').map((s) => s.split(',')[0])).toEqual(['v1', 'v1']);
    expect(() => new Webhook(secret).verify(payload, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(payload, headers)).not.toThrow();
  });

  it('are refused by verifiers when older than their tolerance (the timestamp is per attempt)', () => {
    const stale = new Date(Date.now() - 10 * 60_000);
    const headers = buildWebhookHeaders({ webhookId: 'evt_1', timestamp: stale, payload, secrets: [secret] });
    expect(() => new Webhook(secret).verify(payload, headers)).toThrow(/too old/);
  });
});

describe('payloads around JSON text (how the delivery worker builds them)', () => {
  it('match the compact body for compact data', () => {
    expect(buildWebhookPayloadFromJson({ ...event, dataJson: JSON.stringify(event.data) })).toBe(
      JSON.stringify({
        id: event.id,
        object: 'event',
        type: event.type,
        api_version: event.apiVersion,
        livemode: false,
        created_at: event.createdAt.toISOString(),
        timestamp: event.createdAt.toISOString(),
        object_id: event.objectId,
        object_version: 3,
        order_id: event.orderId,
        checkout_id: null,
        payment_id: event.paymentId,
        actor: event.actor,
        data: event.data,
      }),
    );
  });

  it('carry data as PostgreSQL prints jsonb (spaces, escapes, unicode), and verify', () => {
    const dataJson =
      '{"note": "a \\"quoted\\" line\\nbreak", "name": "Zoë", "amount": 1050, "items": [1, 2]}';
    const payload = buildWebhookPayloadFromJson({ ...event, dataJson });
    expect(JSON.parse(payload)).toEqual({
      id: 'evt_0123456789abcdef0123456789abcdef',
      object: 'event',
      type: 'payment.succeeded',
      api_version: '2026-12-06',
      livemode: false,
      created_at: '2025-03-01T12:00:00.123Z',
      timestamp: '2025-03-01T12:00:00.123Z',
      object_id: 'pay_0123456789abcdef0123456789abcdef',
      object_version: 3,
      order_id: 'ord_0123456789abcdef0123456789abcdef',
      checkout_id: null,
      payment_id: 'pay_0123456789abcdef0123456789abcdef',
      actor: event.actor,
      data: { note: 'a "quoted" line\nbreak', name: 'Zoë', amount: 1050, items: [1, 2] },
    });
    const secret = generateWebhookSecret();
    const headers = buildWebhookHeaders({
      webhookId: 'evt_2',
      timestamp: new Date(),
      payload,
      secrets: [secret],
    });
    expect(new Webhook(secret).verify(payload, headers)).toEqual(JSON.parse(payload));
  });
});
