/**
 * Stripe as a processor: a merchant's own Stripe account (secret key + webhook signing secret) behind one
 * Kassa processor account. See docs/processors/stripe.md.
 */
import { z } from 'zod';

import type { ProcessorModule } from '../processor.ts';
import { createStripeConnector, type StripeCredentials } from './stripe.connector.ts';
import { verifyStripeWebhook } from './stripe.webhooks.ts';

export type { StripeCredentials } from './stripe.connector.ts';
export { STRIPE_API_VERSION } from './stripe.client.ts';
export { STRIPE_METADATA_PAYMENT_ID } from './stripe.requests.ts';
export { STRIPE_WEBHOOK_EVENTS, signStripePayload } from './stripe.webhooks.ts';

const credentialsSchema = z
  .object({
    secret_key: z
      .string()
      .regex(/^sk_(test|live)_[A-Za-z0-9]{8,247}$/, 'must be a Stripe secret key (sk_test_… or sk_live_…)'),
    webhook_secret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/=]{8,250}$/, 'must be a Stripe webhook signing secret (whsec_…)')
      .optional(),
  })
  .strict();

export const stripeProcessor: ProcessorModule<StripeCredentials> = {
  name: 'stripe',
  credentialsSchema,
  secretFields: ['secret_key', 'webhook_secret'],
  impliedLivemode: (credentials) => credentials.secret_key.startsWith('sk_live_'),
  webhookSecretField: 'webhook_secret',
  // A partial capture releases the rest (Stripe's multicapture is not used).
  multipleCaptures: false,
  createConnector: createStripeConnector,
  verifyWebhook: ({ rawBody, headers, credentials, now }) =>
    verifyStripeWebhook({ rawBody, headers, webhookSecret: credentials.webhook_secret, now }),
};
