/**
 * Runs the fake Stripe on its own, for trying Kassa's Stripe connector by hand without a Stripe account:
 *
 *   node --import tsx test/fakes/stripe/serve.ts --port 12111 \
 *     --webhook-url http://127.0.0.1:3000/v1/processor-webhooks/pa_… --webhook-secret whsec_…
 *
 * It prints the secret key it accepts. Point a processor account at it with `"api_base_url"` (development and
 * test gateways only). Webhooks go to loopback only; `--live` makes it an `sk_live_` account.
 */
import { parseArgs } from 'node:util';

import { STRIPE_API_VERSION } from '../../../src/connectors/stripe/index.ts';
import { startFakeStripe } from './fake-stripe.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '12111' },
    'secret-key': { type: 'string' },
    'webhook-url': { type: 'string' },
    'webhook-secret': { type: 'string' },
    live: { type: 'boolean', default: false },
  },
});

const mode = values.live ? 'live' : 'test';
const fake = await startFakeStripe({
  apiVersion: STRIPE_API_VERSION,
  port: Number(values.port),
  secretKey: values['secret-key'] ?? `sk_${mode}_fake${Math.random().toString(36).slice(2, 14)}`,
});
if (values['webhook-url'] && values['webhook-secret']) {
  fake.setWebhookEndpoint(values['webhook-url'], values['webhook-secret']);
}
console.log(JSON.stringify({ api_base_url: fake.url, secret_key: fake.secretKey }));
console.log('3-D Secure pages are at', `${fake.url}/3ds/<payment intent id>`, '- Ctrl-C stops the fake');
process.on('SIGINT', () => {
  void fake.close().then(() => process.exit(0));
});
