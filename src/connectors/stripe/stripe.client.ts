/**
 * The official `stripe` library, configured for one processor account: the account's secret key, a pinned API
 * version, the account's base URL (Stripe's own, or a local fake outside production), and Kassa's egress
 * client as its HTTP client (`stripe.http-client.ts`), so every call keeps the egress policy and timeouts.
 */
import Stripe from 'stripe';

import type { ProcessorConnectorContext } from '../processor.ts';
import { EgressHttpClient } from './stripe.http-client.ts';

/**
 * The Stripe API version every request names (`Stripe-Version`). It is the one the installed library is
 * typed for; upgrading the library is a deliberate change of this constant (the compiler insists).
 */
export const STRIPE_API_VERSION = '2026-11-18.endive' as const;
export const STRIPE_API_BASE_URL = 'https://api.stripe.com';

export function createStripeClient(secretKey: string, context: ProcessorConnectorContext): Stripe {
  const base = new URL(context.apiBaseUrl ?? STRIPE_API_BASE_URL);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(secretKey, {
    apiVersion: STRIPE_API_VERSION,
    httpClient: new EgressHttpClient(context.egress),
    host: base.hostname.replace(/^\[|\]$/g, ''),
    port: base.port === '' ? (protocol === 'http' ? 80 : 443) : Number(base.port),
    protocol,
    // Kassa's flows retry with the same idempotency key, which Stripe deduplicates; the library never retries.
    maxNetworkRetries: 0,
    telemetry: false,
    appInfo: { name: 'Kassa' },
  });
}
