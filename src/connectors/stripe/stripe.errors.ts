/**
 * A failed call to Stripe → the connector's error vocabulary (`ConnectorError`). Transport failures are mapped
 * like every processor's (`../egress-failure.ts`); Stripe's own error classes by what retrying can change.
 * Stripe accepts raw card numbers only on accounts enabled for its raw card data APIs; its refusal becomes an
 * `invalid_request` that says what to enable, never a decline.
 */
import Stripe from 'stripe';

import { ConnectorError } from '../connector.ts';
import { connectorErrorOfEgressFailure } from '../egress-failure.ts';

const RAW_CARD_REFUSAL = /raw card data|card numbers directly|process payments unsafely/i;

export function stripeConnectorError(error: unknown, connectorId: string): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const fail = (code: ConnectorError['code'], message: string) =>
    new ConnectorError(code, message, { connectorId, cause: error });
  if (error instanceof Stripe.errors.StripeConnectionError) {
    return connectorErrorOfEgressFailure(error.detail, { processor: 'Stripe', connectorId });
  }
  if (error instanceof Stripe.errors.StripeError) {
    const status = error.statusCode ?? 0;
    // Stripe answers it as a 400 invalid_request_error; matched on any class in case the status changes.
    if (RAW_CARD_REFUSAL.test(error.message)) {
      return fail(
        'invalid_request',
        'Stripe refused the raw card data: this Stripe account is not enabled for raw card data APIs. ' +
          'Ask Stripe to enable them (https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis), ' +
          'in test mode too, before taking card payments through Kassa',
      );
    }
    if (error instanceof Stripe.errors.StripeAuthenticationError) {
      return fail('invalid_request', 'Stripe refused the secret key of this processor account');
    }
    if (error instanceof Stripe.errors.StripePermissionError) {
      return fail('invalid_request', 'The secret key of this processor account may not do this');
    }
    if (error instanceof Stripe.errors.StripeIdempotencyError) {
      if (status === 409) return fail('unavailable', 'Stripe is still processing the same request');
      return fail('invalid_request', 'The idempotency key was already used for a different request');
    }
    if (error instanceof Stripe.errors.StripeRateLimitError || status === 429) {
      return fail('unavailable', 'Stripe is rate limiting this account');
    }
    if (status >= 500 || error instanceof Stripe.errors.StripeAPIError) {
      return fail('unavailable', `Stripe answered ${status || 'an API error'}`);
    }
    if (error instanceof Stripe.errors.StripeInvalidRequestError) {
      return fail('invalid_request', `Stripe refused the request (${error.code ?? 'invalid_request_error'})`);
    }
    return fail('processor_error', `Stripe answered ${error.type}`);
  }
  return fail('processor_error', 'Unexpected failure calling Stripe');
}
