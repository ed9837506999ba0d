import type { ProcessorModule } from '../processor.ts';
import { createAdyenConnector } from './adyen.connector.ts';
import { adyenCredentialsSchema, type AdyenCredentials } from './adyen.credentials.ts';
import { verifyAdyenWebhook } from './adyen.webhook.ts';

export type { AdyenCredentials } from './adyen.credentials.ts';
export { createAdyenConnector } from './adyen.connector.ts';

/** Adyen (Checkout API v71 and Standard webhooks) as a processor merchants connect. */
export const adyenProcessor: ProcessorModule<AdyenCredentials> = {
  name: 'adyen',
  credentialsSchema: adyenCredentialsSchema,
  secretFields: ['api_key', 'hmac_key'],
  // Adyen's keys do not say which environment they belong to.
  impliedLivemode: () => null,
  liveRequirement: (credentials) =>
    credentials.live_url_prefix
      ? null
      : {
          field: 'live_url_prefix',
          message:
            'is required for a live Adyen account: its live URL prefix (Customer Area › Developers › API URLs), e.g. "1797a841fbb37ca7-AdyenDemo"',
        },
  webhookSecretField: 'hmac_key',
  multipleCaptures: 'account_setting',
  createConnector: createAdyenConnector,
  verifyWebhook: ({ rawBody, credentials, livemode }) =>
    verifyAdyenWebhook({
      rawBody,
      livemode,
      hmacKey: credentials.hmac_key,
      merchantAccount: credentials.merchant_account,
    }),
};
