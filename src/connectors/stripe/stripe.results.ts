/**
 * What Stripe's answers mean as the connector's results: a PaymentIntent → an authorization result or a payment
 * status, a capture's charge id, an operation Stripe refused. The status table itself is `stripe.mapping.ts`.
 */
import type Stripe from 'stripe';

import {
  ConnectorError,
  type AuthorizeResult,
  type ConnectorPaymentStatus,
  type OperationResult,
} from '../connector.ts';
import {
  declineMessage,
  fromStripeCurrency,
  mapIntentStatus,
  type StripeIntentView,
} from './stripe.mapping.ts';

export function authorizeResultOf(intent: StripeIntentView, connectorId: string): AuthorizeResult {
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
      throw new ConnectorError(
        'processor_error',
        'Stripe answered a new authorization with a canceled PaymentIntent',
        { connectorId },
      );
    default: {
      const unreachable: never = mapped.status;
      throw new ConnectorError('processor_error', `Unexpected status ${String(unreachable)}`, {
        connectorId,
      });
    }
  }
}

/** A PaymentIntent retrieved with `expand: ['latest_charge']` → the payment's status at Stripe. */
export function paymentStatusOf(intent: Stripe.PaymentIntent): ConnectorPaymentStatus {
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

/** A capture's reference: the intent's charge (Stripe has no capture object), else the intent itself. */
export function chargeIdOf(intent: Stripe.PaymentIntent): string {
  const charge = intent.latest_charge;
  if (typeof charge === 'string') return charge;
  if (charge && typeof charge === 'object') return charge.id;
  return intent.id;
}

export function operationFailed(
  reference: string,
  failureCode: Extract<OperationResult, { status: 'failed' }>['failureCode'],
  message: string,
  operationReference = reference,
): OperationResult {
  return { status: 'failed', connectorReference: reference, operationReference, failureCode, message };
}
