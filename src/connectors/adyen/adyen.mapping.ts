import type { DeclineCode, OperationFailureCode } from '../connector.ts';

/**
 * Adyen's refusal reasons (`refusalReasonCode` / `refusalReason` of a payment, `reason` of a failed
 * AUTHORISATION webhook) onto Kassa's closed set of decline codes. Codes and texts are Adyen's published
 * "authorisation refusal reasons"; anything not listed is a plain `card_declined`.
 */
const REFUSAL_BY_CODE: Readonly<Record<string, DeclineCode>> = {
  '2': 'card_declined', // Refused
  '3': 'card_declined', // Referral
  '5': 'card_declined', // Blocked Card
  '6': 'expired_card', // Expired Card
  '7': 'payment_rejected', // Invalid Amount
  '8': 'invalid_number', // Invalid Card Number
  '9': 'card_declined', // Issuer Unavailable
  '10': 'payment_rejected', // Not supported
  '11': 'authentication_failed', // 3D Not Authenticated
  '12': 'insufficient_funds', // Not enough balance
  '14': 'payment_rejected', // Acquirer Fraud
  '15': 'payment_rejected', // Cancelled
  '16': 'authentication_failed', // Shopper Cancelled
  '20': 'payment_rejected', // FRAUD
  '22': 'payment_rejected', // FRAUD-CANCELLED
  '23': 'card_declined', // Transaction Not Permitted
  '24': 'incorrect_cvc', // CVC Declined
  '25': 'card_declined', // Restricted Card
  '26': 'card_declined', // Revocation Of Auth
  '27': 'card_declined', // Declined Non Generic
  '28': 'insufficient_funds', // Withdrawal amount exceeded
  '29': 'card_declined', // Withdrawal count exceeded
  '31': 'payment_rejected', // Issuer Suspected Fraud
  '32': 'card_declined', // AVS Declined
  '38': 'authentication_failed', // Authentication required
  '39': 'authentication_failed', // RReq not received from DS
  '42': 'authentication_failed', // 3DS Authentication Error
};

const REFUSAL_BY_TEXT: Readonly<Record<string, DeclineCode>> = {
  refused: 'card_declined',
  referral: 'card_declined',
  'blocked card': 'card_declined',
  'expired card': 'expired_card',
  'invalid amount': 'payment_rejected',
  'invalid card number': 'invalid_number',
  'issuer unavailable': 'card_declined',
  'not supported': 'payment_rejected',
  '3d not authenticated': 'authentication_failed',
  'not enough balance': 'insufficient_funds',
  'acquirer fraud': 'payment_rejected',
  cancelled: 'payment_rejected',
  'shopper cancelled': 'authentication_failed',
  fraud: 'payment_rejected',
  'fraud-cancelled': 'payment_rejected',
  'transaction not permitted': 'card_declined',
  'cvc declined': 'incorrect_cvc',
  'restricted card': 'card_declined',
  'declined non generic': 'card_declined',
  'withdrawal amount exceeded': 'insufficient_funds',
  'issuer suspected fraud': 'payment_rejected',
  'authentication required': 'authentication_failed',
  '3ds authentication error': 'authentication_failed',
};

export function declineCodeOf(refusal: {
  code?: string | undefined;
  reason?: string | undefined;
}): DeclineCode {
  const byCode = refusal.code === undefined ? undefined : REFUSAL_BY_CODE[refusal.code.trim()];
  if (byCode) return byCode;
  // A failed AUTHORISATION webhook's `reason` may carry more after a colon ("Refused:12345"): the text first.
  const text = refusal.reason?.split(':')[0]?.trim().toLowerCase();
  return (text && REFUSAL_BY_TEXT[text]) || 'card_declined';
}

/**
 * Why Adyen refused a capture, cancel or refund (`reason` of a CAPTURE / CANCELLATION / REFUND webhook with
 * success false, or of CAPTURE_FAILED / REFUND_FAILED). Adyen words these freely; the nearest code is picked
 * from the words that say it, and anything else is `invalid_state` (the payment could not take the operation).
 */
export function operationFailureCodeOf(
  kind: 'capture' | 'void' | 'refund',
  reason: string | undefined,
): OperationFailureCode {
  const text = (reason ?? '').toLowerCase();
  if (/currenc/.test(text)) return 'currency_mismatch';
  if (/amount|balance|exceed|too high|insufficient/.test(text)) {
    return kind === 'refund' ? 'amount_exceeds_captured' : 'amount_exceeds_authorized';
  }
  return 'invalid_state';
}
