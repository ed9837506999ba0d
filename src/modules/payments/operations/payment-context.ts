import type { Metadata } from '../../../lib/metadata.ts';
import type { Connector, PaymentMethodData, ShopperBrowser } from '../../../connectors/connector.ts';
import type { Database, UnitOfWork } from '../../../db/client.ts';
import type { Clock } from '../../../lib/clock.ts';
import type { Keyring } from '../../../lib/keyring.ts';
import type { CheckoutServiceDeps } from '../../checkouts/checkout.service.ts';
import type { Checkout, Scope } from '../../checkouts/checkout.types.ts';
import type { Order } from '../../orders/order.types.ts';
import type { ConnectorRouter } from '../../processor-accounts/processor-routing.ts';
import type { Device } from '../../payment-methods/eligibility.ts';
import type { PaymentMethodSettingsCache } from '../../payment-methods/payment-method-settings.cache.ts';
import { PROCESSING_RECOVERY_MS, type PaymentAttempt } from '../payment.outcomes.ts';
import type { Payment, PaymentChannel } from '../payment.types.ts';
import type { AttemptLimiter } from '../attempt-limits.ts';

export type PaymentFlowLogger = {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
};

/** Without an application logger, releases are still reported (stderr; the only console use lint allows). */
const stderrLogger: PaymentFlowLogger = {
  warn: (object, message) => console.error(`warning: ${message}`, object),
  error: (object, message) => console.error(`error: ${message}`, object),
};

export type PaymentFlowDeps = {
  db: Database;
  clock: Clock;
  keyring: Keyring;
  /** Which connector takes a new payment, and the connector of a stored one (processor-routing.ts). */
  connectors: ConnectorRouter;
  checkoutDeps: CheckoutServiceDeps;
  /** The merchant's payment-method settings, through this process's cache (≤ 1 s old). */
  paymentMethodSettings: PaymentMethodSettingsCache;
  /**
   * `callbacks.verify_order` (the callbacks flow): asked after an attempt started and before the processor is called. A
   * refusal settles the payment REJECTED (decline_code `order_verification_failed`, failure_message = the
   * merchant's reason) and no money moves. Not asked again when an interrupted attempt is resumed: it may
   * already be at the processor. Absent = no verification.
   */
  verifyOrder?: (
    payment: Payment,
    checkout: Checkout,
    order: Order,
  ) => Promise<{ ok: true } | { ok: false; reason: string }>;
  /**
   * The longest a `verify_order` call may take (connect + response timeouts, and a margin): a resumed attempt
   * younger than this whose verification has not answered waits (409) instead of reaching the processor.
   * Default 130 s (the configurable timeouts' maxima).
   */
  orderVerificationTimeoutMs?: number;
  /**
   * The processor egress client's deadline for one call (connect, request and answer); default
   * PROCESSOR_CALL_TIMEOUT_MS. With `orderVerificationTimeoutMs` it bounds one attempt (`attemptBoundMs`).
   */
  processorCallTimeoutMs?: number;
  /** Card-testing limits (declines per checkout, client address and card); absent = none. */
  attemptLimits?: AttemptLimiter;
  /** Age after which `recover` settles interrupted work (default PROCESSING_RECOVERY_MS; shorter in fault tests). */
  processingRecoveryMs?: number;
  /** Where releases of late authorizations are reported (warn) and failed ones (error). Default: stderr. */
  logger?: PaymentFlowLogger;
};

/** The processor egress client's deadline for one call (services.ts): connect, request and the whole answer. */
export const PROCESSOR_CALL_TIMEOUT_MS = 30_000;

export type PayCheckoutInput = {
  scope: Scope;
  checkoutId: string;
  /**
   * A deterministic id (from `paymentIdForIdempotencyKey`) makes the call resumable: if a payment with this
   * id exists, the call continues it (re-asking the processor with the same idempotency key) instead of
   * starting another. Without it, a fresh id is drawn.
   */
  paymentId?: string;
  channel: PaymentChannel;
  method: PaymentMethodData;
  device: Device;
  /** Where the shopper lands after a 3-D Secure challenge or wallet approval. */
  returnUrl: (paymentId: string) => string;
  /** The saved card being charged (its data is in `method`, as a stored credential), recorded on the payment. */
  savedPaymentMethodId?: string | null;
  /** The merchant's own data (`POST /v1/payments`), stored on the payment by the same insert. */
  metadata?: Metadata | undefined;
  /**
   * The order version the shopper saw (the hosted page's form carries it): checked under the session's lock,
   * so an order replaced since then is refused with `order_changed` and nothing is charged.
   */
  expectedOrderVersion?: number;
  /** The shopper's address as the hosted page saw it, for the per-address card-testing limit. */
  clientAddress?: string;
  /** The shopper's browser, when paying on the hosted page (processors' 3-D Secure uses it). */
  shopper?: ShopperBrowser;
  /** The request's idempotency record, written by the attempt's own units of work (`AttemptRecord`). */
  record?: AttemptRecord | undefined;
};

/**
 * A caller's record of the attempt (the Processor API's idempotency record) that rides the attempt's own
 * units of work instead of transactions of its own: `claim` is queued in the start's unit, ahead of its load,
 * and its check awaited before the start decides anything (what it throws is the caller's refusal, passed
 * through as is: `RecordRefused`); the start's unit commits the claim even when the start then refuses.
 * A start whose unit failed to commit took its claim down with it: `lost(error)` answers what to throw
 * instead of `error` (the caller claims on its own and runs again). `complete` is queued in the settlement's
 * unit when that settlement is the attempt's answer (nothing left to capture or release), so the answer is
 * stored with the state it describes.
 */
export type AttemptRecord = {
  claim(tx: UnitOfWork): () => Promise<void>;
  lost(error: unknown): unknown;
  complete(tx: UnitOfWork, attempt: PaymentAttempt): void;
  /** Throws the caller's own answer for the key (a replay, 409, 422), if it has one, before a refusal. */
  verdict(): Promise<void>;
};

/** What an `AttemptRecord`'s claim check threw: the attempt stops there and its caller gets `refusal`. */
export class RecordRefused extends Error {
  constructor(readonly refusal: unknown) {
    super('the attempt record refused the attempt');
  }
}

/**
 * What every payment operation (the files of this folder) works with: the flow's dependencies, with the
 * recovery age resolved and the logger the application may swap in (`PaymentFlow.logTo`).
 */
export type PaymentContext = Omit<
  PaymentFlowDeps,
  'logger' | 'processingRecoveryMs' | 'orderVerificationTimeoutMs' | 'processorCallTimeoutMs'
> & {
  recoveryMs: number;
  orderVerificationTimeoutMs: number;
  processorCallTimeoutMs: number;
  logger: PaymentFlowLogger;
};

export function createPaymentContext(deps: PaymentFlowDeps): PaymentContext {
  return {
    ...deps,
    recoveryMs: deps.processingRecoveryMs ?? PROCESSING_RECOVERY_MS,
    orderVerificationTimeoutMs: deps.orderVerificationTimeoutMs ?? 130_000,
    processorCallTimeoutMs: deps.processorCallTimeoutMs ?? PROCESSOR_CALL_TIMEOUT_MS,
    logger: deps.logger ?? stderrLogger,
  };
}

/** The connector that took `payment` (its processor account, deleted or not, or the sandbox). */
export function connectorOf(
  context: PaymentContext,
  payment: Pick<Payment, 'connectorId'>,
): Promise<Connector> {
  return context.connectors.get(payment.connectorId);
}
