import {
  checkCardExpiry,
  checkCvc,
  detectCardBrand,
  normalizeCardNumber,
  passesLuhn,
} from '../../lib/card.ts';
import type { DeclineCode, PaymentMethodData } from '../connector.ts';

/**
 * The sandbox acquirer's decision table: which input leads to which outcome. Pure, so it can be tested
 * and documented (`docs/test-cards.md` is checked against `SANDBOX_TEST_CARDS` by a test).
 */

export type SandboxCardScenario =
  | { kind: 'approve' }
  | { kind: 'decline'; declineCode: DeclineCode }
  | { kind: 'three_ds' }
  | { kind: 'processor_error' }
  | { kind: 'pending' };

export type SandboxTestCard = { number: string; scenario: SandboxCardScenario; description: string };

/** The magic card numbers (docs/test-cards.md). Any other Luhn-valid number is approved. */
export const SANDBOX_TEST_CARDS: readonly SandboxTestCard[] = [
  { number: '4242424242424242', scenario: { kind: 'approve' }, description: 'Approved' },
  {
    number: '4000000000000002',
    scenario: { kind: 'decline', declineCode: 'card_declined' },
    description: 'Declined (card_declined)',
  },
  {
    number: '4000000000009995',
    scenario: { kind: 'decline', declineCode: 'insufficient_funds' },
    description: 'Declined (insufficient_funds)',
  },
  {
    number: '4000000000003220',
    scenario: { kind: 'three_ds' },
    description: '3-D Secure challenge: the shopper completes or fails authentication',
  },
  {
    number: '4000000000000119',
    scenario: { kind: 'processor_error' },
    description: 'Processor error: the acquirer fails to process the request',
  },
  {
    number: '4000000000000259',
    scenario: { kind: 'pending' },
    description: 'Pending, approved automatically after a delay (default 30 s) or resolved explicitly',
  },
];

export const SANDBOX_DECLINE_MESSAGES: Record<DeclineCode, string> = {
  card_declined: 'The card was declined',
  insufficient_funds: 'The card has insufficient funds',
  expired_card: 'The card has expired',
  incorrect_cvc: "The card's security code is incorrect",
  invalid_number: 'The card number is not valid',
  authentication_failed: '3-D Secure authentication failed',
  payment_rejected: 'The payment was rejected',
};

/** What the acquirer does with an authorization request. */
export type SandboxDecision =
  | { kind: 'approve' }
  | { kind: 'decline'; declineCode: DeclineCode }
  | { kind: 'action'; action: 'three_ds' | 'wallet' }
  /** `autoFinalise`: a pending card approves itself after the configured delay; an invoice waits for a resolution. */
  | { kind: 'pending'; autoFinalise: boolean }
  | { kind: 'processor_error' };

/**
 * Like a bank, the acquirer checks the card itself before the magic numbers: Kassa validates the form
 * first, so these declines are only reached through the Processor API or a bug, and never charge.
 */
export function decideCard(
  card: { number: string; expMonth: number; expYear: number; cvc: string; storedCredential?: boolean },
  now: Date,
) {
  const number = normalizeCardNumber(card.number);
  if (number === null || !passesLuhn(number)) return decline('invalid_number');
  if (!checkCardExpiry({ month: card.expMonth, year: card.expYear }, now).ok) return decline('expired_card');
  // A stored-credential charge carries no CVC (it may never be stored); every other charge must have one.
  if (!card.storedCredential && !checkCvc(card.cvc, detectCardBrand(number)).ok)
    return decline('incorrect_cvc');
  const scenario = SANDBOX_TEST_CARDS.find((testCard) => testCard.number === number)?.scenario;
  return scenario ?? { kind: 'approve' };
}

export function decideAuthorization(method: PaymentMethodData, now: Date): SandboxDecision {
  switch (method.type) {
    case 'card': {
      const scenario = decideCard(method.card, now);
      switch (scenario.kind) {
        case 'approve':
        case 'decline':
        case 'processor_error':
          return scenario;
        case 'three_ds':
          return { kind: 'action', action: 'three_ds' };
        case 'pending':
          return { kind: 'pending', autoFinalise: true };
        default:
          return assertNever(scenario);
      }
    }
    case 'invoice':
      return { kind: 'pending', autoFinalise: false };
    case 'wallet':
      return { kind: 'action', action: 'wallet' };
    default:
      return assertNever(method);
  }
}

function decline(declineCode: DeclineCode): SandboxCardScenario {
  return { kind: 'decline', declineCode };
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value ${JSON.stringify(value)}`);
}
