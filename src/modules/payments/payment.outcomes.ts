import type { ConnectorPaymentStatus, OperationFailureCode, SaleResult } from '../../connectors/connector.ts';
import type { PaymentStatus } from './payment.states.ts';
import type { Capture, Payment } from './payment.types.ts';

/**
 * Longer than the slowest legitimate step before the processor answers: `verify_order` may take up to 28 s
 * (the callbacks flow's response timeout) before `authorize` is even sent, so recovery must not conclude earlier.
 */
export const PROCESSING_RECOVERY_MS = 60_000;
export const ACTION_TIMEOUT_MS = 15 * 60_000;
/**
 * Terminal failures: Kassa has told the merchant that no money moved, so none may stay held at the processor.
 * REJECTED/CANCELED + `processing_since` means a release of a late authorization is owed (see above).
 */
export const GIVEN_UP_STATUSES: ReadonlySet<PaymentStatus> = new Set(['REJECTED', 'CANCELED']);

/** What an attempt came to, for the caller to answer the shopper or the API client. */
export type PaymentOutcome =
  'succeeded' | 'authorized' | 'pending' | 'requires_action' | 'rejected' | 'canceled' | 'processing';

export type PaymentAttempt = { payment: Payment; outcome: PaymentOutcome };

/** A capture's row after `capturePayment`; `refusal` when the processor refused it (the row is FAILED). */
export type CaptureAttempt = {
  payment: Payment;
  capture: Capture;
  refusal?: { code: OperationFailureCode; message: string };
};

/**
 * What `settle` recorded: the payment, and the capture row it wrote when an automatic payment was authorized;
 * `releaseOwed` when the processor approved a payment Kassa had given up (money to void or refund).
 */
export type Settlement = {
  payment: Payment;
  automaticCapture?: { result(): Promise<Capture> } | undefined;
  releaseOwed?: boolean;
};

/** What the processor said about an authorization, normalised for `settle`. */
export type AuthorizationOutcome =
  | { status: 'authorized'; connectorReference: string }
  /** Authorized and captured by one sale; `operationReference` is the capture's, when the answer names it. */
  | { status: 'captured'; connectorReference: string; capturedAmount: number; operationReference?: string }
  | { status: 'pending'; connectorReference: string }
  | { status: 'requires_action'; connectorReference: string; actionUrl: string }
  | { status: 'declined'; connectorReference?: string; declineCode: string; message: string }
  | { status: 'failed'; message: string }
  | { status: 'abandoned'; message: string };

export const TARGET_STATUS: Record<AuthorizationOutcome['status'], PaymentStatus> = {
  authorized: 'AUTHORIZED',
  // A sale moves through AUTHORIZED (with its events) to SUCCEEDED in the same transaction.
  captured: 'AUTHORIZED',
  pending: 'PENDING',
  requires_action: 'REQUIRES_ACTION',
  declined: 'REJECTED',
  failed: 'REJECTED',
  abandoned: 'CANCELED',
};

export function outcomeOf(payment: Payment): PaymentOutcome {
  // A given-up payment that is `processing` is releasing a late authorization: its own outcome is final.
  if (payment.processingSince && !GIVEN_UP_STATUSES.has(payment.status)) return 'processing';
  switch (payment.status) {
    case 'SUCCEEDED':
      return 'succeeded';
    case 'AUTHORIZED':
      return 'authorized';
    case 'PENDING':
      return 'pending';
    case 'REQUIRES_ACTION':
      return 'requires_action';
    case 'REJECTED':
      return 'rejected';
    case 'CANCELED':
      return 'canceled';
    default: {
      const unreachable: never = payment.status;
      return unreachable;
    }
  }
}

export function fromAuthorizeResult(result: SaleResult, amount: number): AuthorizationOutcome {
  switch (result.status) {
    case 'captured':
      return {
        status: 'captured',
        connectorReference: result.connectorReference,
        capturedAmount: amount,
        operationReference: result.operationReference,
      };
    case 'authorized':
      return { status: 'authorized', connectorReference: result.connectorReference };
    case 'pending':
      return { status: 'pending', connectorReference: result.connectorReference };
    case 'requires_action':
      return {
        status: 'requires_action',
        connectorReference: result.connectorReference,
        actionUrl: result.action.url,
      };
    case 'declined':
      return {
        status: 'declined',
        connectorReference: result.connectorReference,
        declineCode: result.declineCode,
        message: result.message,
      };
    default: {
      const unreachable: never = result;
      throw new Error(`unknown authorization result ${JSON.stringify(unreachable)}`);
    }
  }
}

export function fromPaymentStatus(status: ConnectorPaymentStatus): AuthorizationOutcome | undefined {
  switch (status.status) {
    case 'authorized':
      // Money captured before Kassa recorded the authorization can only come from a sale (Kassa captures
      // only what it recorded as authorized): record it as captured, never ask to capture it again.
      return status.capturedAmount > 0
        ? {
            status: 'captured',
            connectorReference: status.connectorReference,
            capturedAmount: status.capturedAmount,
          }
        : { status: 'authorized', connectorReference: status.connectorReference };
    case 'pending':
      return { status: 'pending', connectorReference: status.connectorReference };
    case 'requires_action':
      return status.action
        ? {
            status: 'requires_action',
            connectorReference: status.connectorReference,
            actionUrl: status.action.url,
          }
        : undefined;
    case 'declined':
      return {
        status: 'declined',
        connectorReference: status.connectorReference,
        declineCode: status.declineCode ?? 'payment_rejected',
        message: 'The payment was declined',
      };
    case 'voided':
      return { status: 'abandoned', message: 'The authorization was voided' };
    default: {
      const unreachable: never = status.status;
      throw new Error(`unknown processor status ${String(unreachable)}`);
    }
  }
}
