/**
 * A stateful fake of the Stripe API, on a real HTTP server on 127.0.0.1 (random port), for the Stripe
 * connector's tests. It keeps PaymentIntents, charges and refunds, honours `Idempotency-Key` (replays the
 * first answer, refuses a key reused with other parameters), answers Stripe's test cards the way Stripe
 * documents them, and signs and sends webhook events to a URL the test gives it.
 *
 * Every answer is built from Stripe's published fixtures (`fixtures/stripe-fixtures.json`, MIT). Every request
 * is checked against Stripe's documented parameters (form encoding, lower-case currency, integer amounts,
 * required fields, no unknown parameters): a request that breaks them is answered 400 as Stripe would AND
 * recorded in `violations`, which the tests assert stays empty.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { signStripePayload } from '../../../src/connectors/stripe/index.ts';

type Json = Record<string, unknown>;
type Params = { [key: string]: string | Params };

const FIXTURES = (
  JSON.parse(readFileSync(new URL('./fixtures/stripe-fixtures.json', import.meta.url), 'utf8')) as {
    resources: Record<'payment_intent' | 'charge' | 'refund' | 'event', Json>;
  }
).resources;

const fixture = (name: keyof typeof FIXTURES): Json => structuredClone(FIXTURES[name]);

/** Stripe's documented test cards (https://docs.stripe.com/testing) and what the fake does with them. */
export const STRIPE_TEST_CARDS = {
  visa: '4242424242424242',
  mastercard: '5555555555554444',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  lostCard: '4000000000009987',
  stolenCard: '4000000000009979',
  expiredCard: '4000000000000069',
  incorrectCvc: '4000000000000127',
  processingError: '4000000000000119',
  fraudulent: '4100000000000019',
  incorrectNumber: '4242424242424241',
  threeDSecureRequired: '4000000000003220',
  threeDSecureAlways: '4000002760003184',
  /**
   * Fake only: Stripe has no card that stays `processing`. The fake leaves an intent paid with this number
   * `processing` until the test settles it (`settle`). On real Stripe test mode this number is a disputed payment.
   */
  processing: '4000000000000259',
} as const;

type Decline = { code: string; decline_code?: string; message: string };

const DECLINES: Record<string, Decline> = {
  [STRIPE_TEST_CARDS.declined]: {
    code: 'card_declined',
    decline_code: 'generic_decline',
    message: 'Your card was declined.',
  },
  [STRIPE_TEST_CARDS.insufficientFunds]: {
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  [STRIPE_TEST_CARDS.lostCard]: {
    code: 'card_declined',
    decline_code: 'lost_card',
    message: 'Your card was declined.',
  },
  [STRIPE_TEST_CARDS.stolenCard]: {
    code: 'card_declined',
    decline_code: 'stolen_card',
    message: 'Your card was declined.',
  },
  [STRIPE_TEST_CARDS.expiredCard]: {
    code: 'expired_card',
    decline_code: 'expired_card',
    message: 'Your card has expired.',
  },
  [STRIPE_TEST_CARDS.incorrectCvc]: {
    code: 'incorrect_cvc',
    decline_code: 'incorrect_cvc',
    message: "Your card's security code is incorrect.",
  },
  [STRIPE_TEST_CARDS.processingError]: {
    code: 'processing_error',
    decline_code: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
  },
  [STRIPE_TEST_CARDS.fraudulent]: {
    code: 'card_declined',
    decline_code: 'fraudulent',
    message: 'Your card was declined.',
  },
};
const THREE_D_SECURE = new Set<string>([
  STRIPE_TEST_CARDS.threeDSecureRequired,
  STRIPE_TEST_CARDS.threeDSecureAlways,
]);

const RAW_CARD_REFUSAL =
  'Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you use test tokens that ' +
  'map to the test card you are using, see https://stripe.com/docs/testing. To enable raw card data APIs in test ' +
  'mode, see https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis.';

type IntentState = {
  intent: Json;
  charge: Json | null;
  refunds: Json[];
};

export type FakeStripeRequest = {
  method: string;
  path: string;
  params: Params;
  headers: Record<string, string | undefined>;
};

export type FakeStripeOptions = {
  /** The secret key requests must carry. Default: a random `sk_test_` key. */
  secretKey?: string;
  /** The `Stripe-Version` every request must name. */
  apiVersion: string;
  /** Whether the account may send raw card numbers (Stripe's raw card data APIs). Default true. */
  rawCardDataEnabled?: boolean;
  /** Port on 127.0.0.1; default a random free one. */
  port?: number;
};

export type FakeStripe = {
  url: string;
  secretKey: string;
  requests: FakeStripeRequest[];
  /** Requests that broke Stripe's documented parameters. Tests assert it stays empty. */
  violations: string[];
  events: Json[];
  deliveries: { eventId: string; status: number | string }[];
  intent(id: string): Json | undefined;
  intentsFor(paymentId: string): Json[];
  /** Next `count` API requests (whose path matches `path`, when given) answer `status` before doing anything. */
  failNext(count: number, status?: number, path?: RegExp): void;
  /** Next `count` API requests are processed, then answered after `ms` (a lost or late answer). */
  delayNext(count: number, ms: number): void;
  setRawCardDataEnabled(enabled: boolean): void;
  /** Decides a `processing` intent. */
  settle(intentId: string, outcome: 'authorized' | 'declined'): void;
  /** What the shopper does on the 3-D Secure page. */
  completeThreeDSecure(intentId: string, outcome: 'pass' | 'fail'): void;
  /** Every later event is signed with `secret` and POSTed to `url` (loopback only). */
  setWebhookEndpoint(url: string, secret: string): void;
  /** (Re)sends a recorded event; `timestamp` and `secret` override the signature's for forged/stale tests. */
  deliver(eventId: string, options?: { timestamp?: number; secret?: string }): Promise<number>;
  /** Waits until every webhook delivery started so far has finished. */
  flushWebhooks(): Promise<void>;
  close(): Promise<void>;
};

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function stripeId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const byte of bytes) id += ALNUM[byte % ALNUM.length];
  return `${prefix}_${id}`;
}

function luhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let digit = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Parses `a[b][c]=1&d=2` (Stripe's form encoding) into nested objects; repeated keys are a violation. */
export function parseStripeForm(body: string): { params: Params; errors: string[] } {
  const params: Params = {};
  const errors: string[] = [];
  if (body === '') return { params, errors };
  for (const pair of body.split('&')) {
    const separator = pair.indexOf('=');
    const rawKey = decodeURIComponent((separator < 0 ? pair : pair.slice(0, separator)).replace(/\+/g, ' '));
    const value = separator < 0 ? '' : decodeURIComponent(pair.slice(separator + 1).replace(/\+/g, ' '));
    const match = /^([A-Za-z0-9_.]+)((?:\[[^\]]*\])*)$/.exec(rawKey);
    if (!match) {
      errors.push(`malformed parameter name "${rawKey}"`);
      continue;
    }
    const path = [match[1]!, ...[...match[2]!.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!)];
    let node: Params = params;
    for (let i = 0; i < path.length - 1; i++) {
      const existing = node[path[i]!];
      if (typeof existing === 'string') {
        errors.push(`parameter "${rawKey}" conflicts with a scalar`);
        node = {};
        break;
      }
      node = existing ?? (node[path[i]!] = {});
    }
    const last = path[path.length - 1]!;
    if (last in node) errors.push(`parameter "${rawKey}" is repeated`);
    node[last] = value;
  }
  return { params, errors };
}

class StripeRequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
    /** True when the request broke Stripe's documented parameters (not a business refusal). */
    readonly violation: boolean,
  ) {
    super(String((body.error as Json | undefined)?.message ?? 'error'));
  }
}

function invalid(message: string, param?: string, code = 'parameter_invalid'): StripeRequestError {
  return new StripeRequestError(
    400,
    { error: { type: 'invalid_request_error', code, message, ...(param ? { param } : {}) } },
    true,
  );
}

function refusal(status: number, error: Json): StripeRequestError {
  return new StripeRequestError(status, { error: { type: 'invalid_request_error', ...error } }, false);
}

/** Checks a parameter object against an allow-list shape: `true` = any string, nested objects recurse. */
type Shape = { [key: string]: true | Shape | 'map' };
function checkShape(params: Params, shape: Shape, prefix = ''): void {
  for (const [key, value] of Object.entries(params)) {
    const name = prefix ? `${prefix}[${key}]` : key;
    const expected = shape[key];
    if (expected === undefined)
      throw invalid(`Received unknown parameter: ${name}`, name, 'parameter_unknown');
    if (expected === true && typeof value !== 'string') throw invalid(`Invalid string: ${name}`, name);
    if (expected === 'map') {
      if (typeof value === 'string') throw invalid(`Invalid object: ${name}`, name);
      for (const [entryKey, entry] of Object.entries(value)) {
        if (typeof entry !== 'string') throw invalid(`Invalid string: ${name}[${entryKey}]`, name);
        if (entryKey.length > 40 || entry.length > 500)
          throw invalid(`Metadata too long: ${name}[${entryKey}]`, name);
      }
    }
    if (typeof expected === 'object') {
      if (typeof value === 'string') throw invalid(`Invalid object: ${name}`, name);
      checkShape(value, expected, name);
    }
  }
}

function integer(params: Params, name: string, required: boolean, min = 1): number | undefined {
  const value = params[name];
  if (value === undefined) {
    if (required) throw invalid(`Missing required param: ${name}.`, name, 'parameter_missing');
    return undefined;
  }
  if (typeof value !== 'string' || !/^\d{1,12}$/.test(value) || Number(value) < min) {
    throw invalid(`Invalid integer: ${String(value)}`, name);
  }
  return Number(value);
}

function oneOf(params: Params, name: string, values: readonly string[]): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !values.includes(value)) {
    throw invalid(`Invalid ${name}: must be one of ${values.join(', ')}`, name);
  }
  return value;
}

function expandList(params: Params): string[] {
  const expand = params.expand;
  if (expand === undefined) return [];
  if (typeof expand === 'string') throw invalid('Invalid array', 'expand');
  return Object.values(expand).map((value) => {
    if (typeof value !== 'string') throw invalid('Invalid array', 'expand');
    return value;
  });
}

const CREATE_SHAPE: Shape = {
  amount: true,
  currency: true,
  confirm: true,
  capture_method: true,
  return_url: true,
  description: true,
  statement_descriptor_suffix: true,
  receipt_email: true,
  metadata: 'map',
  expand: 'map',
  payment_method_data: {
    type: true,
    card: { number: true, exp_month: true, exp_year: true, cvc: true },
    billing_details: { name: true, email: true },
    metadata: 'map',
  },
};

export async function startFakeStripe(options: FakeStripeOptions): Promise<FakeStripe> {
  const secretKey = options.secretKey ?? `sk_test_${randomBytes(12).toString('hex')}`;
  const livemode = secretKey.startsWith('sk_live_');
  let rawCardDataEnabled = options.rawCardDataEnabled ?? true;
  const intents = new Map<string, IntentState>();
  const idempotency = new Map<string, { fingerprint: string; status: number; body: string }>();
  const requests: FakeStripeRequest[] = [];
  const violations: string[] = [];
  const events: Json[] = [];
  const deliveries: FakeStripe['deliveries'] = [];
  const inFlight = new Set<Promise<unknown>>();
  let webhook: { url: string; secret: string } | null = null;
  let failures: { count: number; status: number; path?: RegExp } = { count: 0, status: 500 };
  let delays: { count: number; ms: number } = { count: 0, ms: 0 };
  let baseUrl = '';

  const now = () => Math.floor(Date.now() / 1000);

  function emit(type: string, object: Json): void {
    const event = fixture('event');
    Object.assign(event, {
      id: stripeId('evt'),
      type,
      created: now(),
      livemode,
      api_version: options.apiVersion,
      pending_webhooks: webhook ? 1 : 0,
      data: { object: structuredClone(object) },
      request: { id: stripeId('req', 14), idempotency_key: null },
    });
    events.push(event);
    if (webhook) void deliver(String(event.id));
  }

  async function deliver(
    eventId: string,
    override: { timestamp?: number; secret?: string } = {},
  ): Promise<number> {
    const event = events.find((candidate) => candidate.id === eventId);
    if (!event) throw new Error(`No event ${eventId}`);
    if (!webhook) throw new Error('No webhook endpoint is set');
    const target = new URL(webhook.url);
    if (target.hostname !== '127.0.0.1' && target.hostname !== '[::1]') {
      throw new Error('The fake Stripe sends webhooks to loopback only');
    }
    const payload = JSON.stringify(event);
    const signature = signStripePayload(
      payload,
      override.secret ?? webhook.secret,
      override.timestamp ?? now(),
    );
    const sending = fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature },
      body: payload,
    }).then(
      async (response) => {
        await response.arrayBuffer();
        deliveries.push({ eventId, status: response.status });
        return response.status;
      },
      (error: unknown) => {
        deliveries.push({ eventId, status: String(error) });
        return 0;
      },
    );
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
    return sending;
  }

  function newCharge(intent: Json, status: 'succeeded' | 'failed', captured: boolean): Json {
    const charge = fixture('charge');
    Object.assign(charge, {
      id: stripeId('ch'),
      amount: intent.amount,
      amount_captured: captured ? intent.amount : 0,
      amount_refunded: 0,
      captured,
      created: now(),
      currency: intent.currency,
      livemode,
      metadata: structuredClone(intent.metadata),
      paid: status === 'succeeded',
      payment_intent: intent.id,
      payment_method: intent.payment_method,
      refunded: false,
      status,
      balance_transaction: status === 'succeeded' ? stripeId('txn') : null,
      description: null,
      receipt_url: null,
      source: null,
      transfer_data: null,
      billing_details: { ...(charge.billing_details as Json), name: null },
      outcome: {
        ...(charge.outcome as Json),
        type: status === 'succeeded' ? 'authorized' : 'issuer_declined',
        network_status: status === 'succeeded' ? 'approved_by_network' : 'declined_by_network',
      },
    });
    delete charge.refunds; // Not included since API version 2022-11-15.
    return charge;
  }

  function approve(state: IntentState): void {
    const { intent } = state;
    const automatic = intent.capture_method !== 'manual';
    state.charge = newCharge(intent, 'succeeded', automatic);
    Object.assign(intent, {
      status: automatic ? 'succeeded' : 'requires_capture',
      amount_capturable: automatic ? 0 : intent.amount,
      amount_received: automatic ? intent.amount : 0,
      latest_charge: state.charge.id,
      next_action: null,
      last_payment_error: null,
      processing: null,
    });
    emit(automatic ? 'payment_intent.succeeded' : 'payment_intent.amount_capturable_updated', intent);
  }

  function decline(state: IntentState, reason: Decline): Json {
    const { intent } = state;
    state.charge = newCharge(intent, 'failed', false);
    const error = {
      type: 'card_error',
      code: reason.code,
      ...(reason.decline_code ? { decline_code: reason.decline_code } : {}),
      message: reason.message,
      charge: state.charge.id,
      doc_url: `https://stripe.com/docs/error-codes/${reason.code}`,
    };
    Object.assign(intent, {
      status: 'requires_payment_method',
      latest_charge: state.charge.id,
      last_payment_error: error,
      next_action: null,
      processing: null,
      amount_capturable: 0,
    });
    emit('payment_intent.payment_failed', intent);
    return error;
  }

  function createIntent(params: Params): { status: number; body: Json } {
    checkShape(params, CREATE_SHAPE);
    const amount = integer(params, 'amount', true)!;
    const currency = params.currency;
    if (currency === undefined)
      throw invalid('Missing required param: currency.', 'currency', 'parameter_missing');
    if (typeof currency !== 'string' || !/^[a-z]{3}$/.test(currency)) {
      throw invalid(
        `Invalid currency: ${String(currency)}. Stripe currencies are lower-case ISO codes.`,
        'currency',
      );
    }
    const confirm = oneOf(params, 'confirm', ['true', 'false']) === 'true';
    const captureMethod =
      oneOf(params, 'capture_method', ['automatic', 'automatic_async', 'manual']) ?? 'automatic_async';
    const returnUrl = params.return_url;
    if (returnUrl !== undefined && (typeof returnUrl !== 'string' || !/^https?:\/\//.test(returnUrl))) {
      throw invalid('Invalid URL: return_url', 'return_url', 'url_invalid');
    }
    const data = params.payment_method_data;
    if (confirm && data === undefined) {
      throw invalid(
        'You must provide a payment method to confirm',
        'payment_method_data',
        'parameter_missing',
      );
    }
    if (confirm && returnUrl === undefined) {
      // A card that needs 3-D Secure redirects; without automatic_payment_methods Stripe asks for return_url.
      throw invalid('Missing required param: return_url.', 'return_url', 'parameter_missing');
    }
    let number = '';
    let expiry: { month: number; year: number } | null = null;
    if (data !== undefined) {
      if (typeof data === 'string' || data.type !== 'card') {
        throw invalid('The fake supports payment_method_data[type]=card only', 'payment_method_data[type]');
      }
      const card = data.card;
      if (card === undefined || typeof card === 'string') {
        throw invalid(
          'Missing required param: payment_method_data[card].',
          'payment_method_data[card]',
          'parameter_missing',
        );
      }
      for (const field of ['number', 'exp_month', 'exp_year'] as const) {
        if (card[field] === undefined) {
          throw invalid(
            `Missing required param: payment_method_data[card][${field}].`,
            field,
            'parameter_missing',
          );
        }
      }
      number = String(card.number);
      if (!/^\d{12,19}$/.test(number))
        throw invalid('Invalid card number', 'payment_method_data[card][number]');
      const month = integer(card, 'exp_month', true)!;
      const year = integer(card, 'exp_year', true)!;
      if (month > 12 || year < 1000 || year > 9999)
        throw invalid('Invalid card expiry', 'payment_method_data[card]');
      if (card.cvc !== undefined && !/^\d{3,4}$/.test(String(card.cvc))) {
        throw invalid('Invalid cvc', 'payment_method_data[card][cvc]');
      }
      expiry = { month, year };
      // Stripe answers 400 invalid_request_error (no code) on accounts without raw card data APIs.
      if (!rawCardDataEnabled) throw refusal(400, { message: RAW_CARD_REFUSAL });
    }

    const intent = fixture('payment_intent');
    const id = stripeId('pi');
    Object.assign(intent, {
      id,
      amount,
      amount_capturable: 0,
      amount_received: 0,
      automatic_payment_methods: null,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: captureMethod,
      client_secret: `${id}_secret_${stripeId('x', 25).slice(2)}`,
      created: now(),
      currency,
      description: typeof params.description === 'string' ? params.description : null,
      last_payment_error: null,
      latest_charge: null,
      livemode,
      metadata: typeof params.metadata === 'object' ? structuredClone(params.metadata) : {},
      next_action: null,
      payment_method: data === undefined ? null : stripeId('pm'),
      payment_method_configuration_details: null,
      payment_method_types: ['card'],
      processing: null,
      shipping: null,
      status: data === undefined ? 'requires_payment_method' : 'requires_confirmation',
      transfer_data: null,
      managed_payments: null,
    });
    const state: IntentState = { intent, charge: null, refunds: [] };
    intents.set(id, state);
    if (!confirm) return { status: 200, body: intent };

    const today = new Date();
    const expired =
      expiry !== null &&
      (expiry.year < today.getUTCFullYear() ||
        (expiry.year === today.getUTCFullYear() && expiry.month < today.getUTCMonth() + 1));
    const reason: Decline | undefined = !luhnValid(number)
      ? { code: 'incorrect_number', message: 'Your card number is incorrect.' }
      : expired
        ? { code: 'invalid_expiry_year', message: "Your card's expiration year is invalid." }
        : DECLINES[number];
    if (reason) {
      const error = decline(state, reason);
      return { status: 402, body: { error: { ...error, payment_intent: structuredClone(intent) } } };
    }
    if (THREE_D_SECURE.has(number)) {
      Object.assign(intent, {
        status: 'requires_action',
        next_action: {
          type: 'redirect_to_url',
          redirect_to_url: { url: `${baseUrl}/3ds/${id}`, return_url: returnUrl },
        },
      });
      return { status: 200, body: intent };
    }
    if (number === STRIPE_TEST_CARDS.processing) {
      Object.assign(intent, { status: 'processing', processing: { type: 'card', card: {} } });
      return { status: 200, body: intent };
    }
    approve(state);
    return { status: 200, body: intent };
  }

  function stateOf(id: string): IntentState {
    const state = intents.get(id);
    if (!state) {
      throw refusal(404, {
        code: 'resource_missing',
        message: `No such payment_intent: '${id}'`,
        param: 'intent',
      });
    }
    return state;
  }

  function unexpectedState(state: IntentState, action: string): StripeRequestError {
    return refusal(400, {
      code: 'payment_intent_unexpected_state',
      message: `This PaymentIntent could not be ${action} because it has a status of ${String(state.intent.status)}.`,
      payment_intent: structuredClone(state.intent),
    });
  }

  function capture(id: string, params: Params): { status: number; body: Json } {
    checkShape(params, { amount_to_capture: true, expand: 'map', metadata: 'map' });
    const state = stateOf(id);
    const amountToCapture =
      integer(params, 'amount_to_capture', false) ?? Number(state.intent.amount_capturable);
    if (state.intent.status !== 'requires_capture') throw unexpectedState(state, 'captured');
    if (amountToCapture > Number(state.intent.amount_capturable)) {
      throw refusal(400, {
        code: 'amount_too_large',
        param: 'amount_to_capture',
        message: `The amount to capture (${amountToCapture}) is greater than the amount capturable (${String(state.intent.amount_capturable)}).`,
        payment_intent: structuredClone(state.intent),
      });
    }
    // Capturing less than authorised releases the rest (one capture per intent unless multicapture is enabled).
    Object.assign(state.intent, {
      status: 'succeeded',
      amount_capturable: 0,
      amount_received: amountToCapture,
    });
    Object.assign(state.charge!, { captured: true, amount_captured: amountToCapture });
    emit('payment_intent.succeeded', state.intent);
    return { status: 200, body: state.intent };
  }

  function cancel(id: string, params: Params): { status: number; body: Json } {
    checkShape(params, { cancellation_reason: true, expand: 'map' });
    oneOf(params, 'cancellation_reason', ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned']);
    const state = stateOf(id);
    const cancelable = [
      'requires_payment_method',
      'requires_capture',
      'requires_confirmation',
      'requires_action',
      'processing',
    ];
    if (!cancelable.includes(String(state.intent.status))) throw unexpectedState(state, 'canceled');
    Object.assign(state.intent, {
      status: 'canceled',
      canceled_at: now(),
      cancellation_reason: typeof params.cancellation_reason === 'string' ? params.cancellation_reason : null,
      amount_capturable: 0,
      next_action: null,
    });
    emit('payment_intent.canceled', state.intent);
    return { status: 200, body: state.intent };
  }

  function createRefund(params: Params): { status: number; body: Json } {
    checkShape(params, {
      payment_intent: true,
      charge: true,
      amount: true,
      reason: true,
      metadata: 'map',
      expand: 'map',
    });
    oneOf(params, 'reason', ['duplicate', 'fraudulent', 'requested_by_customer']);
    const intentId = params.payment_intent;
    if (typeof intentId !== 'string') {
      throw invalid('Missing required param: payment_intent.', 'payment_intent', 'parameter_missing');
    }
    const state = stateOf(intentId);
    if (state.intent.status !== 'succeeded' || !state.charge) {
      throw refusal(400, {
        code: 'charge_not_captured',
        message: `This PaymentIntent (${intentId}) does not have a successful charge to refund.`,
      });
    }
    const charge = state.charge;
    const refundable = Number(charge.amount_captured) - Number(charge.amount_refunded);
    const amount = integer(params, 'amount', false) ?? refundable;
    if (refundable === 0) {
      throw refusal(400, {
        code: 'charge_already_refunded',
        message: `Charge ${String(charge.id)} has already been refunded.`,
      });
    }
    if (amount > refundable) {
      throw refusal(400, {
        code: 'amount_too_large',
        param: 'amount',
        message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${refundable})`,
      });
    }
    const refund = fixture('refund');
    Object.assign(refund, {
      id: stripeId('re'),
      amount,
      charge: charge.id,
      created: now(),
      currency: state.intent.currency,
      metadata: typeof params.metadata === 'object' ? structuredClone(params.metadata) : {},
      payment_intent: intentId,
      reason: typeof params.reason === 'string' ? params.reason : null,
      status: 'succeeded',
      balance_transaction: stripeId('txn'),
      payment_method: state.intent.payment_method,
    });
    state.refunds.push(refund);
    charge.amount_refunded = Number(charge.amount_refunded) + amount;
    charge.refunded = charge.amount_refunded === charge.amount_captured;
    emit('charge.refunded', charge);
    emit('refund.created', refund);
    return { status: 200, body: refund };
  }

  function presentIntent(state: IntentState, expand: string[], prefix = ''): Json {
    const intent = structuredClone(state.intent);
    if (expand.includes(`${prefix}latest_charge`) && state.charge)
      intent.latest_charge = structuredClone(state.charge);
    return intent;
  }

  function search(params: Params): { status: number; body: Json } {
    checkShape(params, { query: true, limit: true, page: true, expand: 'map' });
    const query = params.query;
    if (typeof query !== 'string')
      throw invalid('Missing required param: query.', 'query', 'parameter_missing');
    const limit = integer(params, 'limit', false) ?? 10;
    if (limit > 100) throw invalid('Invalid limit: must be at most 100', 'limit');
    const match = /^metadata\['([A-Za-z0-9_]+)'\]:'([^'\\]*)'$/.exec(query);
    if (!match)
      throw invalid(`The fake understands metadata['key']:'value' queries only, got ${query}`, 'query');
    const [, key, value] = match;
    const expand = expandList(params);
    const data = [...intents.values()]
      .filter((state) => (state.intent.metadata as Record<string, string>)[key!] === value)
      .sort((a, b) => Number(b.intent.created) - Number(a.intent.created))
      .slice(0, limit)
      .map((state) => presentIntent(state, expand, 'data.'));
    return {
      status: 200,
      body: {
        object: 'search_result',
        data,
        has_more: false,
        next_page: null,
        url: '/v1/payment_intents/search',
      },
    };
  }

  function route(method: string, path: string, params: Params): { status: number; body: Json } {
    if (method === 'POST' && path === '/v1/payment_intents') return createIntent(params);
    if (method === 'POST' && path === '/v1/refunds') return createRefund(params);
    if (method === 'GET' && path === '/v1/payment_intents/search') return search(params);
    const intentPath = /^\/v1\/payment_intents\/([^/]+)(?:\/(capture|cancel))?$/.exec(path);
    if (intentPath) {
      const [, id, action] = intentPath;
      if (method === 'GET' && !action) {
        checkShape(params, { expand: 'map', client_secret: true });
        return { status: 200, body: presentIntent(stateOf(id!), expandList(params)) };
      }
      if (method === 'POST' && action === 'capture') return capture(id!, params);
      if (method === 'POST' && action === 'cancel') return cancel(id!, params);
    }
    throw invalid(`Unrecognized request URL (${method}: ${path}).`, undefined, 'resource_missing');
  }

  function threeDSecurePage(id: string, response: ServerResponse): void {
    const state = intents.get(id);
    if (!state || state.intent.status !== 'requires_action') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('No authentication pending');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      `<!doctype html><title>Fake Stripe 3-D Secure</title><h1>3-D Secure test payment</h1>
<form method="post" action="/3ds/${id}"><button name="outcome" value="pass">Complete authentication</button>
<button name="outcome" value="fail">Fail authentication</button></form>`,
    );
  }

  function completeThreeDSecure(id: string, outcome: 'pass' | 'fail'): string {
    const state = stateOf(id);
    if (state.intent.status !== 'requires_action') throw new Error(`${id} is not waiting for 3-D Secure`);
    const returnUrl = String(
      (state.intent.next_action as Json).redirect_to_url
        ? ((state.intent.next_action as Json).redirect_to_url as Json).return_url
        : '',
    );
    if (outcome === 'pass') approve(state);
    else {
      decline(state, {
        code: 'payment_intent_authentication_failure',
        message: 'The provided PaymentMethod has failed authentication.',
      });
      state.intent.last_payment_error = {
        ...(state.intent.last_payment_error as Json),
        type: 'invalid_request_error',
      };
    }
    const back = new URL(returnUrl);
    back.searchParams.set('payment_intent', id);
    back.searchParams.set('payment_intent_client_secret', String(state.intent.client_secret));
    back.searchParams.set('redirect_status', outcome === 'pass' ? 'succeeded' : 'failed');
    return back.toString();
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', baseUrl);
    const method = request.method ?? 'GET';

    const threeDS = /^\/3ds\/(pi_[A-Za-z0-9]+)$/.exec(url.pathname);
    if (threeDS) {
      if (method === 'GET') return threeDSecurePage(threeDS[1]!, response);
      const outcome = new URLSearchParams(body).get('outcome') === 'pass' ? 'pass' : 'fail';
      try {
        const location = completeThreeDSecure(threeDS[1]!, outcome);
        response.writeHead(303, { location }).end();
      } catch {
        response.writeHead(404).end();
      }
      return;
    }

    const send = (status: number, json: string, extra: Record<string, string> = {}) => {
      const headers = {
        'content-type': 'application/json',
        'request-id': stripeId('req', 14),
        'stripe-version': options.apiVersion,
        ...extra,
      };
      const delay = delays.count > 0 ? (delays.count--, delays.ms) : 0;
      if (delay > 0) setTimeout(() => response.writeHead(status, headers).end(json), delay);
      else response.writeHead(status, headers).end(json);
    };

    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(request.headers))
      headers[name] = Array.isArray(value) ? value.join(', ') : value;

    if (headers.authorization !== `Bearer ${secretKey}`) {
      return send(
        401,
        JSON.stringify({
          error: { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_****' },
        }),
      );
    }
    const problems: string[] = [];
    if (headers['stripe-version'] !== options.apiVersion) {
      problems.push(`Stripe-Version is ${String(headers['stripe-version'])}, expected ${options.apiVersion}`);
    }
    let params: Params;
    if (method === 'POST') {
      if (!headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
        problems.push(
          `POST body is ${String(headers['content-type'])}, not application/x-www-form-urlencoded`,
        );
      }
      if (url.search !== '') problems.push('POST with a query string');
      const parsed = parseStripeForm(body);
      params = parsed.params;
      problems.push(...parsed.errors);
    } else {
      if (body !== '') problems.push('GET with a body');
      const parsed = parseStripeForm(url.search.slice(1));
      params = parsed.params;
      problems.push(...parsed.errors);
    }
    requests.push({ method, path: url.pathname, params, headers });
    if (problems.length > 0) {
      violations.push(...problems.map((problem) => `${method} ${url.pathname}: ${problem}`));
      return send(
        400,
        JSON.stringify({ error: { type: 'invalid_request_error', message: problems.join('; ') } }),
      );
    }
    if (failures.count > 0 && (!failures.path || failures.path.test(`${method} ${url.pathname}`))) {
      failures.count--;
      return send(
        failures.status,
        JSON.stringify({ error: { type: 'api_error', message: 'Fake Stripe internal error' } }),
      );
    }

    const key = method === 'POST' ? headers['idempotency-key'] : undefined;
    if (method === 'POST' && !key) violations.push(`${method} ${url.pathname}: no Idempotency-Key`);
    const fingerprint = `${method} ${url.pathname} ${JSON.stringify(params)}`;
    if (key) {
      const stored = idempotency.get(key);
      if (stored) {
        if (stored.fingerprint !== fingerprint) {
          return send(
            400,
            JSON.stringify({
              error: {
                type: 'idempotency_error',
                message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
              },
            }),
          );
        }
        return send(stored.status, stored.body, { 'idempotent-replayed': 'true', 'idempotency-key': key });
      }
    }
    let status: number;
    let answer: string;
    try {
      const result = route(method, url.pathname, params);
      status = result.status;
      answer = JSON.stringify(result.body);
    } catch (error) {
      if (!(error instanceof StripeRequestError)) throw error;
      if (error.violation) {
        violations.push(`${method} ${url.pathname}: ${error.message}`);
        // Stripe saves no idempotent result for a request that failed validation.
        return send(error.status, JSON.stringify(error.body));
      }
      status = error.status;
      answer = JSON.stringify(error.body);
    }
    if (key) idempotency.set(key, { fingerprint, status, body: answer });
    send(status, answer, key ? { 'idempotency-key': key } : {});
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      violations.push(`fake crashed: ${String(error)}`);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    secretKey,
    requests,
    violations,
    events,
    deliveries,
    intent: (id) => intents.get(id)?.intent,
    intentsFor: (paymentId) =>
      [...intents.values()]
        .filter((state) => (state.intent.metadata as Record<string, string>).kassa_payment_id === paymentId)
        .map((state) => state.intent),
    failNext(count, status = 500, path) {
      failures = { count, status, ...(path ? { path } : {}) };
    },
    delayNext(count, ms) {
      delays = { count, ms };
    },
    setRawCardDataEnabled(enabled) {
      rawCardDataEnabled = enabled;
    },
    settle(intentId, outcome) {
      const state = stateOf(intentId);
      if (state.intent.status !== 'processing') throw new Error(`${intentId} is not processing`);
      if (outcome === 'authorized') approve(state);
      else decline(state, DECLINES[STRIPE_TEST_CARDS.declined]!);
    },
    completeThreeDSecure(intentId, outcome) {
      completeThreeDSecure(intentId, outcome);
    },
    setWebhookEndpoint(url, secret) {
      webhook = { url, secret };
    },
    deliver,
    async flushWebhooks() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async close() {
      await Promise.allSettled([...inFlight]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
