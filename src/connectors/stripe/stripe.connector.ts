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
 */
import Stripe from 'stripe';

import { normalizeCardNumber } from '../../lib/card.ts';
import { EgressError } from '../../egress/index.ts';
import {
  ConnectorError,
  type AuthorizeRequest,
  type AuthorizeResult,
  type CaptureRequest,
  type Connector,
  type ConnectorPaymentStatus,
  type OperationResult,
  type RefundRequest,
  type SaleRequest,
  type SaleResult,
  type VoidRequest,
} from '../connector.ts';
import type { ProcessorConnectorContext } from '../processor.ts';
import { EgressHttpClient } from './stripe.http-client.ts';
import {
  declineMessage,
  fromStripeCurrency,
  mapDeclineCode,
  mapIntentStatus,
  toStripeCurrency,
  type StripeIntentView,
} from './stripe.mapping.ts';

/**
 * The Stripe API version every request names (`Stripe-Version`). It is the one the installed library is
 * typed for; upgrading the library is a deliberate change of this constant (the compiler insists).
 */
export const STRIPE_API_VERSION = '2026-11-18.endive' as const;
export const STRIPE_API_BASE_URL = 'https://api.stripe.com';
export const STRIPE_METADATA_PAYMENT_ID = 'kassa_payment_id';

export type StripeCredentials = { secret_key: string; webhook_secret?: string };

const INTENT_ID = /^pi_[A-Za-z0-9]{1,250}$/;
const PAYMENT_ID = /^[A-Za-z0-9_-]{1,200}$/;
const RAW_CARD_REFUSAL = /raw card data|card numbers directly|process payments unsafely/i;

/** A raw card inside `payment_method_data`: accepted by Stripe on enabled accounts, absent from the library's types. */
type RawCardPaymentMethodData = {
  type: 'card';
  card: { number: string; exp_month: number; exp_year: number; cvc?: string };
  billing_details?: { name?: string };
};

export function createStripeConnector(
  credentials: StripeCredentials,
  context: ProcessorConnectorContext,
): Connector {
  const connectorId = context.accountId;
  const base = new URL(context.apiBaseUrl ?? STRIPE_API_BASE_URL);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  const stripe = new Stripe(credentials.secret_key, {
    apiVersion: STRIPE_API_VERSION,
    httpClient: new EgressHttpClient(context.egress),
    host: base.hostname.replace(/^\[|\]$/g, ''),
    port: base.port === '' ? (protocol === 'http' ? 80 : 443) : Number(base.port),
    protocol,
    maxNetworkRetries: 0,
    telemetry: false,
    appInfo: { name: 'Kassa' },
  });

  const fail = (code: ConnectorError['code'], message: string, cause?: unknown) =>
    new ConnectorError(code, message, { connectorId, cause });

  function checkReference(reference: string): void {
    if (!INTENT_ID.test(reference)) {
      throw fail('invalid_request', 'Not a Stripe PaymentIntent id');
    }
  }

  function checkAmount(amount: number): void {
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw fail('invalid_request', 'The amount must be a positive integer of minor units');
    }
  }

  /** Any library or transport failure → the connector's error vocabulary. */
  function toConnectorError(error: unknown): ConnectorError {
    if (error instanceof ConnectorError) return error;
    if (error instanceof Stripe.errors.StripeConnectionError) {
      const detail = error.detail;
      if (detail instanceof EgressError) {
        switch (detail.kind) {
          case 'response_timeout':
          case 'protocol_error':
            return fail('timeout', `No complete answer from Stripe in time (${detail.kind})`, error);
          case 'blocked_url':
          case 'blocked_address':
          case 'invalid_request':
            return fail(
              'invalid_request',
              `The egress policy refused the Stripe API URL: ${detail.message}`,
              error,
            );
          default:
            return fail('unavailable', `Stripe could not be reached (${detail.kind})`, error);
        }
      }
      return fail('unavailable', 'Stripe could not be reached', error);
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
          error,
        );
      }
      if (error instanceof Stripe.errors.StripeAuthenticationError) {
        return fail('invalid_request', 'Stripe refused the secret key of this processor account', error);
      }
      if (error instanceof Stripe.errors.StripePermissionError) {
        return fail('invalid_request', 'The secret key of this processor account may not do this', error);
      }
      if (error instanceof Stripe.errors.StripeIdempotencyError) {
        if (status === 409) return fail('unavailable', 'Stripe is still processing the same request', error);
        return fail('invalid_request', 'The idempotency key was already used for a different request', error);
      }
      if (error instanceof Stripe.errors.StripeRateLimitError || status === 429) {
        return fail('unavailable', 'Stripe is rate limiting this account', error);
      }
      if (status >= 500 || error instanceof Stripe.errors.StripeAPIError) {
        return fail('unavailable', `Stripe answered ${status || 'an API error'}`, error);
      }
      if (error instanceof Stripe.errors.StripeInvalidRequestError) {
        return fail(
          'invalid_request',
          `Stripe refused the request (${error.code ?? 'invalid_request_error'})`,
          error,
        );
      }
      return fail('processor_error', `Stripe answered ${error.type}`, error);
    }
    return fail('processor_error', 'Unexpected failure calling Stripe', error);
  }

  async function call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toConnectorError(error);
    }
  }

  function createParams(request: AuthorizeRequest): Stripe.PaymentIntentCreateParams {
    checkAmount(request.amount);
    if (!/^[A-Z]{3}$/.test(request.currency)) {
      throw fail('invalid_request', 'The currency must be an upper-case ISO 4217 code');
    }
    if (request.method.type !== 'card') {
      throw fail(
        'invalid_request',
        `The Stripe connector takes card payments only, not ${request.method.type}`,
      );
    }
    if (request.livemode !== context.livemode) {
      throw fail('invalid_request', 'The payment and the Stripe account are not in the same mode');
    }
    const { card } = request.method;
    if (card.storedCredential) {
      throw fail('invalid_request', 'Saved cards are charged through the sandbox only, not through Stripe');
    }
    const number = normalizeCardNumber(card.number);
    if (!number) throw fail('invalid_request', 'The card number is not a card number');
    const paymentMethodData: RawCardPaymentMethodData = {
      type: 'card',
      card: { number, exp_month: card.expMonth, exp_year: card.expYear, cvc: card.cvc },
      ...(card.holderName ? { billing_details: { name: card.holderName } } : {}),
    };
    return {
      amount: request.amount,
      currency: toStripeCurrency(request.currency),
      confirm: true,
      capture_method: 'manual',
      // The library types leave raw card fields out (they are for enabled accounts only); the API takes them.
      payment_method_data: paymentMethodData as unknown as Stripe.PaymentIntentCreateParams.PaymentMethodData,
      return_url: request.returnUrl,
      metadata: { [STRIPE_METADATA_PAYMENT_ID]: request.paymentId },
    };
  }

  type Created =
    | { kind: 'intent'; intent: Stripe.PaymentIntent; replayed: boolean }
    | { kind: 'declined'; intent: Stripe.PaymentIntent; result: AuthorizeResult };

  async function createIntent(request: AuthorizeRequest): Promise<Created> {
    const params = createParams(request);
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

  function authorizeResultOf(intent: StripeIntentView): AuthorizeResult {
    const mapped = mapIntentStatus(intent);
    switch (mapped.status) {
      case 'authorized':
        return { status: 'authorized', connectorReference: intent.id };
      case 'declined':
        return {
          status: 'declined',
          connectorReference: intent.id,
          declineCode: mapped.declineCode ?? 'card_declined',
          message: declineMessage(intent.last_payment_error),
        };
      case 'requires_action':
        if (mapped.action) {
          return { status: 'requires_action', connectorReference: intent.id, action: mapped.action };
        }
        return { status: 'pending', connectorReference: intent.id };
      case 'pending':
        return { status: 'pending', connectorReference: intent.id };
      case 'voided':
        throw fail('processor_error', 'Stripe answered a new authorization with a canceled PaymentIntent');
      default: {
        const unreachable: never = mapped.status;
        throw fail('processor_error', `Unexpected status ${String(unreachable)}`);
      }
    }
  }

  async function retrieve(reference: string): Promise<Stripe.PaymentIntent> {
    checkReference(reference);
    return call(() => stripe.paymentIntents.retrieve(reference, { expand: ['latest_charge'] }));
  }

  function statusOf(intent: Stripe.PaymentIntent): ConnectorPaymentStatus {
    const mapped = mapIntentStatus(intent);
    const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
    const captured = intent.status === 'succeeded' ? (intent.amount_received ?? 0) : 0;
    return {
      connectorReference: intent.id,
      status: mapped.status,
      amount: intent.amount,
      currency: fromStripeCurrency(intent.currency),
      capturedAmount: captured,
      refundedAmount: charge?.amount_refunded ?? 0,
      ...(mapped.declineCode ? { declineCode: mapped.declineCode } : {}),
      ...(mapped.action ? { action: mapped.action } : {}),
    };
  }

  function chargeIdOf(intent: Stripe.PaymentIntent): string {
    const charge = intent.latest_charge;
    if (typeof charge === 'string') return charge;
    if (charge && typeof charge === 'object') return charge.id;
    return intent.id;
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

  function operationFailed(
    reference: string,
    failureCode: Extract<OperationResult, { status: 'failed' }>['failureCode'],
    message: string,
    operationReference = reference,
  ): OperationResult {
    return { status: 'failed', connectorReference: reference, operationReference, failureCode, message };
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
      return authorizeResultOf(created.intent);
    },

    async sale(request: SaleRequest): Promise<SaleResult> {
      const created = await createIntent(request);
      if (created.kind === 'declined') return created.result;
      let intent = created.intent;
      if (created.replayed) {
        // The first call under this key may have been an `authorize` (then this answers as it did) or a sale
        // that captured (then the capture below replays that capture).
        intent = await retrieve(intent.id);
        if (intent.status !== 'succeeded') return authorizeResultOf(intent);
      } else if (intent.status !== 'requires_capture') {
        return authorizeResultOf(intent);
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
      return statusOf(await retrieve(connectorReference));
    },

    async lookupPayment({ paymentId }) {
      if (!PAYMENT_ID.test(paymentId)) throw fail('invalid_request', 'Not a Kassa payment id');
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
      return statusOf(await retrieve(best.id));
    },

    async capture(request) {
      checkAmount(request.amount);
      const intent = await retrieve(request.connectorReference);
      if (fromStripeCurrency(intent.currency) !== request.currency) {
        return operationFailed(
          intent.id,
          'currency_mismatch',
          'The capture is not in the currency of the payment',
        );
      }
      return captureIntent(request);
    },

    async void(request: VoidRequest) {
      checkReference(request.connectorReference);
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
      checkAmount(request.amount);
      const intent = await retrieve(request.connectorReference);
      if (fromStripeCurrency(intent.currency) !== request.currency) {
        return operationFailed(
          intent.id,
          'currency_mismatch',
          'The refund is not in the currency of the payment',
        );
      }
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
