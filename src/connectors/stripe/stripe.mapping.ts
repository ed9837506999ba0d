/**
 * How Stripe's PaymentIntent statuses and decline reasons map onto Kassa's normalized ones. Pure functions,
 * shared by the connector (answers to its calls) and the webhook normalizer (events Stripe sends).
 */
import type { AuthorizationStatus, ConnectorAction, DeclineCode } from '../connector.ts';

/** The parts of a PaymentIntent the mapping reads (the library's `Stripe.PaymentIntent` fits it). */
export type StripeIntentView = {
  id: string;
  status: string;
  amount: number;
  currency: string;
  amount_received?: number | null;
  amount_capturable?: number | null;
  metadata?: Record<string, string> | null;
  last_payment_error?: StripeErrorView | null;
  next_action?: { type?: string; redirect_to_url?: { url?: string | null } | null } | null;
};

export type StripeErrorView = {
  type?: string | null;
  code?: string | null;
  decline_code?: string | null;
  message?: string | null;
};

/** Stripe `decline_code` (issuer reasons) → Kassa's closed set; anything else is `card_declined`. */
const DECLINE_REASONS: Readonly<Record<string, DeclineCode>> = {
  insufficient_funds: 'insufficient_funds',
  card_velocity_exceeded: 'insufficient_funds',
  withdrawal_count_limit_exceeded: 'insufficient_funds',
  expired_card: 'expired_card',
  incorrect_cvc: 'incorrect_cvc',
  invalid_cvc: 'incorrect_cvc',
  incorrect_number: 'invalid_number',
  invalid_number: 'invalid_number',
  invalid_account: 'invalid_number',
  authentication_required: 'authentication_failed',
  fraudulent: 'payment_rejected',
  merchant_blacklist: 'payment_rejected',
  security_violation: 'payment_rejected',
  highest_risk_level: 'payment_rejected',
};

/** Stripe error `code` when there is no issuer `decline_code` (Stripe's own checks, 3-D Secure). */
const ERROR_CODES: Readonly<Record<string, DeclineCode>> = {
  expired_card: 'expired_card',
  incorrect_cvc: 'incorrect_cvc',
  invalid_cvc: 'incorrect_cvc',
  incorrect_number: 'invalid_number',
  invalid_number: 'invalid_number',
  invalid_expiry_month: 'expired_card',
  invalid_expiry_year: 'expired_card',
  payment_intent_authentication_failure: 'authentication_failed',
};

export function mapDeclineCode(error: StripeErrorView | null | undefined): DeclineCode {
  if (!error) return 'card_declined';
  const byReason = error.decline_code ? DECLINE_REASONS[error.decline_code] : undefined;
  if (byReason) return byReason;
  const byCode = error.code ? ERROR_CODES[error.code] : undefined;
  return byCode ?? 'card_declined';
}

export type MappedIntent = {
  status: AuthorizationStatus | 'voided';
  declineCode?: DeclineCode;
  action?: ConnectorAction;
};

/**
 * | Stripe status | Kassa |
 * | `requires_capture` | authorized (nothing captured) |
 * | `succeeded` | authorized, captured = `amount_received` |
 * | `requires_action` + `redirect_to_url` | requires_action (redirect) |
 * | `processing`, `requires_confirmation` | pending |
 * | `requires_payment_method` (after an attempt) | declined, from `last_payment_error` |
 * | `canceled` | voided |
 */
export function mapIntentStatus(intent: StripeIntentView): MappedIntent {
  switch (intent.status) {
    case 'requires_capture':
    case 'succeeded':
      return { status: 'authorized' };
    case 'requires_action': {
      const url = intent.next_action?.redirect_to_url?.url;
      if (intent.next_action?.type === 'redirect_to_url' && url) {
        return { status: 'requires_action', action: { type: 'redirect', url } };
      }
      // Another kind of action (use_stripe_sdk) needs Stripe's script, which the hosted page does not run.
      return { status: 'pending' };
    }
    case 'processing':
    case 'requires_confirmation':
      return { status: 'pending' };
    case 'requires_payment_method':
      return { status: 'declined', declineCode: mapDeclineCode(intent.last_payment_error) };
    case 'canceled':
      return { status: 'voided' };
    default:
      return { status: 'pending' };
  }
}

export function declineMessage(error: StripeErrorView | null | undefined): string {
  const message = error?.message?.trim();
  return message && message.length > 0 ? message : 'The card was declined';
}

/** Stripe wants lower-case ISO 4217 codes; Kassa uses upper case. */
export function toStripeCurrency(currency: string): string {
  return currency.toLowerCase();
}

export function fromStripeCurrency(currency: string): string {
  return currency.toUpperCase();
}
