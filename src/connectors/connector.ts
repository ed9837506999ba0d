/**
 * The one interface every payment processor implements (hyperswitch's `ConnectorIntegration`, medusa's
 * abstract payment provider). The rest of Kassa sees only the normalized types below; a connector's wire
 * formats, credentials and its status mapping stay inside its own folder.
 *
 * Invariants every connector keeps (the conformance suite in `test/conformance/` checks them):
 * - Money is an integer of minor units with an ISO 4217 code. A connector converts only at its own edge
 *   (the sandbox uses minor units as they are).
 * - Every money-moving call carries an `idempotencyKey`, which the connector forwards to the processor: the
 *   same key sent twice never charges, captures or refunds twice, and answers with the original result. The
 *   caller makes keys unique per intended operation (e.g. `<payment id>:authorize`, `<capture id>`), keeps
 *   them across its own retries, and never reuses one for a different request (that is `invalid_request`).
 * - A business refusal (declined card, capture above the authorised amount) is a normal result. Only a
 *   failure to get an answer, or a request the processor cannot understand, is a thrown `ConnectorError`.
 * - Card numbers and CVCs are used for the call and never stored or logged by a connector.
 */

import { AppError } from '../lib/errors.ts';

export const PAYMENT_METHOD_TYPES = ['card', 'invoice', 'wallet'] as const;
export type PaymentMethodType = (typeof PAYMENT_METHOD_TYPES)[number];

/** Raw card data, held in memory for one request only. `number` is digits only (see `normalizeCardNumber`). */
export type CardDetails = {
  number: string;
  expMonth: number;
  /** Four-digit year. */
  expYear: number;
  /** Empty for a stored-credential charge. */
  cvc: string;
  holderName: string;
  /**
   * A charge of a card the shopper saved earlier (a stored credential): no CVC is sent, because a CVC may never
   * be stored (PCI DSS 3.3.1.2); processors accept such charges on the strength of the first, verified one.
   */
  storedCredential?: boolean;
};

export type PaymentMethodData =
  | { type: 'card'; card: CardDetails }
  | { type: 'invoice'; customer: { email?: string; firstName?: string; lastName?: string } }
  | { type: 'wallet' };

export type AuthorizeRequest = {
  idempotencyKey: string;
  /** Kassa's payment id (`pay_…`), echoed back in asynchronous status updates. */
  paymentId: string;
  /** Minor units, > 0. */
  amount: number;
  /** ISO 4217, upper case. */
  currency: string;
  livemode: boolean;
  method: PaymentMethodData;
  /** Where the shopper comes back to after a 3-D Secure challenge or a wallet approval. */
  returnUrl: string;
  /**
   * The shopper's browser as seen by the hosted page, for processors whose 3-D Secure needs it (Adyen's
   * `browserInfo`, `shopperIP`). Absent for server-to-server payments.
   */
  shopper?: ShopperBrowser;
};

export type ShopperBrowser = {
  ipAddress?: string;
  userAgent?: string;
  /** The request's `Accept` header. */
  acceptHeader?: string;
  /** BCP 47, from `Accept-Language` or the checkout's locale. */
  language?: string;
};

/**
 * Why an authorization was refused. Closed: a connector maps every processor-specific reason onto one of
 * these (the nearest, or `card_declined` / `payment_rejected` when nothing fits better).
 */
export const DECLINE_CODES = [
  'card_declined',
  'insufficient_funds',
  'expired_card',
  'incorrect_cvc',
  'invalid_number',
  'authentication_failed',
  'payment_rejected',
] as const;
export type DeclineCode = (typeof DECLINE_CODES)[number];

/** The normalized outcome of an authorization attempt. */
export const AUTHORIZATION_STATUSES = ['authorized', 'declined', 'pending', 'requires_action'] as const;
export type AuthorizationStatus = (typeof AUTHORIZATION_STATUSES)[number];

/** What the shopper must do before the processor decides: visit `url`, then come back to `returnUrl`. */
export type ConnectorAction = { type: 'redirect'; url: string };

export type AuthorizeResult =
  | { status: 'authorized'; connectorReference: string }
  | { status: 'declined'; connectorReference: string; declineCode: DeclineCode; message: string }
  /** The processor decides later and says so through the `notify` sink (invoice, delayed card). */
  | { status: 'pending'; connectorReference: string }
  /** The shopper must act first; the outcome then comes through `notify` and `getPaymentStatus`. */
  | { status: 'requires_action'; connectorReference: string; action: ConnectorAction };

/**
 * A sale: authorize and, when the processor approves at once, capture the whole amount in the same call.
 * `idempotencyKey` is the authorization's key (a sale and an `authorize` with the same key are the same
 * request: either one retried answers the first one's result); `captureIdempotencyKey` is the key of the
 * capture the sale makes, so a later `capture` with that key answers the sale's capture instead of making
 * another (a caller unsure whether the sale captured may always capture with it).
 */
export type SaleRequest = AuthorizeRequest & { captureIdempotencyKey: string };

/**
 * The outcome of a sale: `captured` (authorized and captured in full; `operationReference` is the capture's),
 * or, when the processor cannot decide at once (3-D Secure, wallet, pending) or refuses, what `authorize`
 * would answer — the caller then captures after the authorization as it would without a sale.
 */
export type SaleResult =
  { status: 'captured'; connectorReference: string; operationReference: string } | AuthorizeResult;

/**
 * The processor's current view of one authorization, for the flow to learn the outcome when the shopper
 * returns from an action, and for a worker to reconcile a payment whose notification never arrived.
 */
export type ConnectorPaymentStatus = {
  connectorReference: string;
  status: AuthorizationStatus | 'voided';
  amount: number;
  currency: string;
  capturedAmount: number;
  refundedAmount: number;
  declineCode?: DeclineCode;
  action?: ConnectorAction;
};

export type CaptureRequest = {
  idempotencyKey: string;
  connectorReference: string;
  amount: number;
  currency: string;
};
export type VoidRequest = { idempotencyKey: string; connectorReference: string };
export type RefundRequest = {
  idempotencyKey: string;
  connectorReference: string;
  amount: number;
  currency: string;
};

/** Why the processor refused a capture, void or refund. */
export const OPERATION_FAILURE_CODES = [
  'amount_exceeds_authorized',
  'amount_exceeds_captured',
  'currency_mismatch',
  'invalid_state',
] as const;
export type OperationFailureCode = (typeof OPERATION_FAILURE_CODES)[number];

/** The normalized outcome of a capture, void or refund; `operationReference` is the processor's id for it. */
export type OperationResult =
  | { status: 'succeeded'; connectorReference: string; operationReference: string }
  | { status: 'pending'; connectorReference: string; operationReference: string }
  | {
      status: 'failed';
      connectorReference: string;
      operationReference: string;
      failureCode: OperationFailureCode;
      message: string;
    };

/**
 * An asynchronous decision by the processor (a pending payment finalised, a 3-D Secure challenge or a
 * wallet approval completed).
 *
 * Delivery is at-least-once: the same update may arrive more than once (the processor retries until the
 * sink resolves, and duplicates happen), and may arrive after the flow already learnt the outcome through
 * `getPaymentStatus`. The consumer dedupes by `notificationId` and applies updates through its monotonic
 * state machine, so a duplicate or late update changes nothing.
 */
export type ConnectorStatusUpdate = {
  /** Stable per decision: every redelivery of the same update carries the same id. */
  notificationId: string;
  connectorId: string;
  connectorReference: string;
  paymentId: string;
  status: 'authorized' | 'declined';
  declineCode?: DeclineCode;
  occurredAt: Date;
};

/** The sink a connector is constructed with. A rejected promise means "not delivered; send it again". */
export type ConnectorNotifySink = (update: ConnectorStatusUpdate) => Promise<void>;

export type ConnectorCapabilities = {
  methods: readonly PaymentMethodType[];
  /** False for the sandbox: it may never move real money. */
  livemode: boolean;
  partialCapture: boolean;
  multipleCaptures: boolean;
  partialRefund: boolean;
};

export type Connector = {
  /** Stable id, stored with every payment attempt so later operations reach the same processor. */
  readonly id: string;
  readonly capabilities: ConnectorCapabilities;
  authorize(request: AuthorizeRequest): Promise<AuthorizeResult>;
  /**
   * Authorize and capture in one processor call, for automatic capture (one round trip instead of two). A
   * sale that captured reports `authorized` with `capturedAmount` = amount through `getPaymentStatus` and
   * `lookupPayment`, which is how recovery recognises it.
   */
  sale(request: SaleRequest): Promise<SaleResult>;
  getPaymentStatus(request: { connectorReference: string }): Promise<ConnectorPaymentStatus>;
  /**
   * Called when the shopper comes back to `returnUrl` from an action, with the query (or form) parameters the
   * processor appended (Adyen's `redirectResult`). Processors that need a call to finish the action (Adyen's
   * `/payments/details`) implement it; for the others the flow calls `getPaymentStatus`.
   */
  completeAction?(request: {
    connectorReference: string;
    paymentId: string;
    returnParameters: Record<string, string>;
  }): Promise<ConnectorPaymentStatus>;
  /**
   * The processor's authorization for Kassa's payment id, or null when the processor never received one.
   * Recovery uses it when a crash or a lost answer left the outcome of `authorize` unknown.
   */
  lookupPayment(request: { paymentId: string }): Promise<ConnectorPaymentStatus | null>;
  /** Captures `amount` (≤ authorised − already captured); repeated partial captures when supported. */
  capture(request: CaptureRequest): Promise<OperationResult>;
  /** Releases an authorization that has not been captured. */
  void(request: VoidRequest): Promise<OperationResult>;
  /** Refunds `amount` (≤ captured − already refunded). */
  refund(request: RefundRequest): Promise<OperationResult>;
};

export const CONNECTOR_ERROR_CODES = [
  'processor_error',
  'timeout',
  'unavailable',
  'invalid_request',
] as const;
export type ConnectorErrorCode = (typeof CONNECTOR_ERROR_CODES)[number];

/**
 * A call that got no usable answer. `retryable` says whether sending the SAME request again (same
 * idempotency key) is safe and may succeed:
 * - `unavailable`: the processor was not reached or refused before acting (5xx, connection refused). Retryable.
 * - `timeout`: no answer in time; the operation may or may not have happened. Retryable with the same key,
 *   which returns the original result if it did.
 * - `processor_error`: the processor reported an internal failure for this request. Not retryable.
 * - `invalid_request`: the request is wrong (unknown reference, reused key, live mode on the sandbox).
 *   Not retryable; a bug on our side.
 */
export class ConnectorError extends Error {
  readonly code: ConnectorErrorCode;
  readonly retryable: boolean;
  readonly connectorId: string;

  constructor(
    code: ConnectorErrorCode,
    message: string,
    options: { connectorId: string; retryable?: boolean; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = 'ConnectorError';
    this.code = code;
    this.connectorId = options.connectorId;
    this.retryable = options.retryable ?? (code === 'timeout' || code === 'unavailable');
  }
}

export function isConnectorError(error: unknown): error is ConnectorError {
  return error instanceof ConnectorError;
}

/**
 * How a connector failure reaches the API: as a coded `AppError`, with the processor's own message kept as
 * the cause only (it may name hosts or internals, which never go to the client).
 */
export function toAppError(error: ConnectorError): AppError {
  switch (error.code) {
    case 'timeout':
      return new AppError('connector_timeout', undefined, { cause: error });
    case 'unavailable':
    case 'processor_error':
      return new AppError('connector_error', undefined, { cause: error });
    case 'invalid_request':
      return new AppError('internal_error', undefined, { cause: error });
    default: {
      const unreachable: never = error.code;
      throw new Error(`Unhandled connector error code ${String(unreachable)}`);
    }
  }
}
