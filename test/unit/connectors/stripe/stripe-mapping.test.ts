import { describe, expect, it } from 'vitest';

import { DECLINE_CODES } from '../../../../src/connectors/connector.ts';
import { stripeProcessor } from '../../../../src/connectors/stripe/index.ts';
import { mapDeclineCode, mapIntentStatus } from '../../../../src/connectors/stripe/stripe.mapping.ts';

const intent = (status: string, extra: Record<string, unknown> = {}) => ({
  id: 'pi_1',
  status,
  amount: 100,
  currency: 'eur',
  ...extra,
});

describe('PaymentIntent status → Kassa', () => {
  it.each([
    ['requires_capture', 'authorized'],
    ['succeeded', 'authorized'],
    ['processing', 'pending'],
    ['requires_confirmation', 'pending'],
    ['canceled', 'voided'],
  ])('%s → %s', (status, expected) => {
    expect(mapIntentStatus(intent(status)).status).toBe(expected);
  });

  it('requires_action with a redirect → requires_action with its URL; another action → pending', () => {
    expect(
      mapIntentStatus(
        intent('requires_action', {
          next_action: { type: 'redirect_to_url', redirect_to_url: { url: 'https://hooks.stripe.com/3ds' } },
        }),
      ),
    ).toEqual({
      status: 'requires_action',
      action: { type: 'redirect', url: 'https://hooks.stripe.com/3ds' },
    });
    expect(
      mapIntentStatus(intent('requires_action', { next_action: { type: 'use_stripe_sdk' } })).status,
    ).toBe('pending');
  });

  it('requires_payment_method → declined, with the last error mapped', () => {
    expect(
      mapIntentStatus(
        intent('requires_payment_method', {
          last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds' },
        }),
      ),
    ).toEqual({ status: 'declined', declineCode: 'insufficient_funds' });
  });
});

describe('decline codes', () => {
  it.each([
    [{ code: 'card_declined', decline_code: 'generic_decline' }, 'card_declined'],
    [{ code: 'card_declined', decline_code: 'insufficient_funds' }, 'insufficient_funds'],
    [{ code: 'card_declined', decline_code: 'fraudulent' }, 'payment_rejected'],
    [{ code: 'card_declined', decline_code: 'lost_card' }, 'card_declined'],
    [{ code: 'expired_card' }, 'expired_card'],
    [{ code: 'incorrect_cvc', decline_code: 'incorrect_cvc' }, 'incorrect_cvc'],
    [{ code: 'incorrect_number' }, 'invalid_number'],
    [{ code: 'payment_intent_authentication_failure' }, 'authentication_failed'],
    [{ code: 'processing_error', decline_code: 'processing_error' }, 'card_declined'],
    [{ code: 'something_new', decline_code: 'brand_new_reason' }, 'card_declined'],
  ])('%j → %s', (error, expected) => {
    expect(mapDeclineCode(error)).toBe(expected);
    expect(DECLINE_CODES).toContain(mapDeclineCode(error));
  });
});

describe('credentials', () => {
  const schema = stripeProcessor.credentialsSchema;

  it('takes sk_test_/sk_live_ keys and a whsec_ secret (optional until the endpoint exists)', () => {
    expect(schema.safeParse({ secret_key: 'sk_test_51Habcdefgh' }).success).toBe(true);
    expect(
      schema.safeParse({ secret_key: 'sk_live_51Habcdefgh', webhook_secret: 'whsec_abcdefgh12' }).success,
    ).toBe(true);
    for (const bad of [
      { secret_key: 'pk_test_51Habcdefgh' },
      { secret_key: 'sk_test_51Habcdefgh', webhook_secret: 'secret' },
      { secret_key: 'sk_test_51Habcdefgh', extra: 'x' },
      {},
    ]) {
      expect(schema.safeParse(bad).success).toBe(false);
    }
  });

  it('implies the mode from the key prefix; both fields are secrets; the webhook secret is webhook_secret', () => {
    expect(stripeProcessor.impliedLivemode({ secret_key: 'sk_live_51Habcdefgh' })).toBe(true);
    expect(stripeProcessor.impliedLivemode({ secret_key: 'sk_test_51Habcdefgh' })).toBe(false);
    expect(stripeProcessor.secretFields).toEqual(['secret_key', 'webhook_secret']);
    expect(stripeProcessor.webhookSecretField).toBe('webhook_secret');
    expect(stripeProcessor.name).toBe('stripe');
  });
});
