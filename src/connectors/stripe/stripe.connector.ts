/**
 * Kassa's connector for Stripe, on the PaymentIntents API through the official `stripe` library.
 *
 * - An authorization is one `POST /v1/payment_intents` with `confirm=true`, the card as `payment_method_data`,
 *   `capture_method=manual`, `return_url` (3-D Secure comes back there) and `metadata[kassa_payment_id]`;
 *   Kassa's idempotency key is Stripe's `Idempotency-Key`, so a retried call answers the first result.
 * - A sale sends the very same request (Kassa's contract: a sale and an authorization under one key are one
 *   request, and Stripe compares parameters under a key) and then captures in full with the sale's capture
 *   key. When the create was a replay of an earlier call, the sale captures only if the intent shows that the
 *   earlier call was a sale (it captured); otherwise it answers what `authorize` would.
 * - Every call goes through the egress client (`stripe.http-client.ts`); the library never retries on its
 *   own (`maxNetworkRetries: 0`): Kassa's flows retry with the same key, which Stripe deduplicates.
 * - Stripe accepts raw card numbers only on accounts enabled for its raw card data APIs; its refusal becomes
 *   a `ConnectorError` `invalid_request` that says what to enable, never a decline.
 *
 * This file holds the operations; the library's configuration is `stripe.client.ts`, the requests and their
 * checks `stripe.requests.ts`, answers → results `stripe.results.ts` (statuses: `stripe.mapping.ts`), and
 * failures → `ConnectorError` `stripe.errors.ts`.
 */
import Stripe from 'stripe';

import {
  type AuthorizeRequest,
  type AuthorizeResult,
  type CaptureRequest,
  type Connector,
  type OperationResult,
  type RefundRequest,
  type SaleRequest,
  type SaleResult,
  type VoidRequest,
} from '../connector.ts';
import type { ProcessorConnectorContext } from '../processor.ts';
import { createStripeClient } from './stripe.client.ts';
import { stripeConnectorError } from './stripe.errors.ts';
import { declineMessage, fromStripeCurrency, mapDeclineCode } from './stripe.mapping.ts';
import {
  checkAmount,
  checkIntentId,
  checkPaymentId,
  paymentIntentParams,
  STRIPE_METADATA_PAYMENT_ID,
} from './stripe.requests.ts';
import { authorizeResultOf, chargeIdOf, operationFailed, paymentStatusOf } from './stripe.results.ts';

export type StripeCredentials = { secret_key: string; webhook_secret?: string };

export function createStripeConnector(
  credentials: StripeCredentials,
  context: ProcessorConnectorContext,
): Connector {
  const connectorId = context.accountId;
  const stripe = createStripeClient(credentials.secret_key, context);
  const toConnectorError = (error: unknown) => stripeConnectorError(error, connectorId);

  async function call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toConnectorError(error);
    }
  }

  type Created =
    | { kind: 'intent'; intent: Stripe.PaymentIntent; replayed: boolean }
    | { kind: 'declined'; intent: Stripe.PaymentIntent; result: AuthorizeResult };

  async function createIntent(request: AuthorizeRequest): Promise<Created> {
    const params = paymentIntentParams(request, { connectorId, livemode: context.livemode });
    try {
      const intent = await stripe.paymentIntents.create(params, { idempotencyKey: request.idempotencyKey });
      const replayed = intent.lastResponse?.headers?.['idempotent-replayed'] === 'true';
      return { kind: 'intent', intent, replayed };
    } catch (error) {
      // A decline at confirmation is a 402 card_error carrying the intent, now `requires_payment_method`.
      if (error instanceof Stripe.errors.StripeCardError && error.payment_intent) {
        const intent = error.payment_intent;
        return {
          kind: 'declined',
          intent,
          result: {
            status: 'declined',
            connectorReference: intent.id,
            declineCode: mapDeclineCode(error),
            message: declineMessage(error),
          },
        };
      }
      throw toConnectorError(error);
    }
  }

  async function retrieve(reference: string): Promise<Stripe.PaymentIntent> {
    checkIntentId(reference, connectorId);
    return call(() => stripe.paymentIntents.retrieve(reference, { expand: ['latest_charge'] }));
  }

  /** The intent a capture or refund of an amount acts on; `mismatch`: the failure when its currency is another. */
  async function retrieveForAmount(
    request: CaptureRequest | RefundRequest,
    what: 'capture' | 'refund',
  ): Promise<{ intent: Stripe.PaymentIntent; mismatch: OperationResult | null }> {
    checkAmount(request.amount, connectorId);
    const intent = await retrieve(request.connectorReference);
    if (fromStripeCurrency(intent.currency) === request.currency) return { intent, mismatch: null };
    const message = `The ${what} is not in the currency of the payment`;
    return { intent, mismatch: operationFailed(intent.id, 'currency_mismatch', message) };
  }

  async function captureIntent(request: CaptureRequest): Promise<OperationResult> {
    try {
      const captured = await stripe.paymentIntents.capture(
        request.connectorReference,
        { amount_to_capture: request.amount },
        { idempotencyKey: request.idempotencyKey },
      );
      if (captured.status !== 'succeeded') {
        return {
          status: 'pending',
          connectorReference: captured.id,
          operationReference: chargeIdOf(captured),
        };
      }
      return {
        status: 'succeeded',
        connectorReference: captured.id,
        operationReference: chargeIdOf(captured),
      };
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError) {
        const reference = request.connectorReference;
        if (error.code === 'amount_too_large') {
          return operationFailed(reference, 'amount_exceeds_authorized', error.message);
        }
        if (error.code === 'payment_intent_unexpected_state') {
          // Nothing is capturable any more: a captured intent refuses more, anything else is the wrong state.
          const code =
            error.payment_intent?.status === 'succeeded' ? 'amount_exceeds_authorized' : 'invalid_state';
          return operationFailed(reference, code, error.message);
        }
      }
      throw toConnectorError(error);
    }
  }

  const connector: Connector = {
    id: connectorId,
    capabilities: {
      methods: ['card'],
      livemode: true,
      partialCapture: true,
      multipleCaptures: false,
      partialRefund: true,
    },

    async authorize(request) {
      const created = await createIntent(request);
      if (created.kind === 'declined') return created.result;
      return authorizeResultOf(created.intent, connectorId);
    },

    async sale(request: SaleRequest): Promise<SaleResult> {
      const created = await createIntent(request);
      if (created.kind === 'declined') return created.result;
      let intent = created.intent;
      if (created.replayed) {
        // The first call under this key may have been an `authorize` (then this answers as it did) or a sale
        // that captured (then the capture below replays that capture).
        intent = await retrieve(intent.id);
        if (intent.status !== 'succeeded') return authorizeResultOf(intent, connectorId);
      } else if (intent.status !== 'requires_capture') {
        return authorizeResultOf(intent, connectorId);
      }
      const capture = await captureIntent({
        idempotencyKey: request.captureIdempotencyKey,
        connectorReference: intent.id,
        amount: request.amount,
        currency: request.currency,
      });
      if (capture.status === 'succeeded') {
        return {
          status: 'captured',
          connectorReference: intent.id,
          operationReference: capture.operationReference,
        };
      }
      return { status: 'authorized', connectorReference: intent.id };
    },

    async getPaymentStatus({ connectorReference }) {
      return paymentStatusOf(await retrieve(connectorReference));
    },

    async lookupPayment({ paymentId }) {
      checkPaymentId(paymentId, connectorId);
      // Search is the only way to find an intent by metadata. Stripe's search index may lag a new intent by
      // up to a minute; recovery runs later than that, and asks again on its next pass when nothing is found.
      const found = await call(() =>
        stripe.paymentIntents.search({
          query: `metadata['${STRIPE_METADATA_PAYMENT_ID}']:'${paymentId}'`,
          limit: 10,
        }),
      );
      const rank = (intent: Stripe.PaymentIntent) =>
        ['succeeded', 'requires_capture', 'processing', 'requires_action', 'canceled'].indexOf(intent.status);
      const best = [...found.data]
        .filter((intent) => intent.metadata?.[STRIPE_METADATA_PAYMENT_ID] === paymentId)
        .sort((a, b) => (rank(a) === -1 ? 99 : rank(a)) - (rank(b) === -1 ? 99 : rank(b)))[0];
      if (!best) return null;
      return paymentStatusOf(await retrieve(best.id));
    },

    async capture(request) {
      const { mismatch } = await retrieveForAmount(request, 'capture');
      return mismatch ?? captureIntent(request);
    },

    async void(request: VoidRequest) {
      checkIntentId(request.connectorReference, connectorId);
      try {
        const canceled = await stripe.paymentIntents.cancel(
          request.connectorReference,
          {},
          { idempotencyKey: request.idempotencyKey },
        );
        return { status: 'succeeded', connectorReference: canceled.id, operationReference: canceled.id };
      } catch (error) {
        if (
          error instanceof Stripe.errors.StripeInvalidRequestError &&
          error.code === 'payment_intent_unexpected_state'
        ) {
          return operationFailed(request.connectorReference, 'invalid_state', error.message);
        }
        throw toConnectorError(error);
      }
    },

    async refund(request: RefundRequest) {
      const { intent, mismatch } = await retrieveForAmount(request, 'refund');
      if (mismatch) return mismatch;
      if (intent.status === 'canceled') {
        return operationFailed(
          intent.id,
          'invalid_state',
          'The payment was voided; there is nothing to refund',
        );
      }
      if (intent.status !== 'succeeded') {
        return operationFailed(
          intent.id,
          'amount_exceeds_captured',
          'Nothing of this payment is captured yet',
        );
      }
      try {
        const refund = await stripe.refunds.create(
          { payment_intent: intent.id, amount: request.amount },
          { idempotencyKey: request.idempotencyKey },
        );
        switch (refund.status) {
          case 'succeeded':
            return { status: 'succeeded', connectorReference: intent.id, operationReference: refund.id };
          case 'failed':
          case 'canceled':
            return operationFailed(
              intent.id,
              'invalid_state',
              `Stripe reports the refund ${refund.status}`,
              refund.id,
            );
          default:
            return { status: 'pending', connectorReference: intent.id, operationReference: refund.id };
        }
      } catch (error) {
        if (
          error instanceof Stripe.errors.StripeInvalidRequestError &&
          (error.code === 'amount_too_large' || error.code === 'charge_already_refunded')
        ) {
          return operationFailed(intent.id, 'amount_exceeds_captured', error.message);
        }
        throw toConnectorError(error);
      }
    },
  };
  return connector;
}
