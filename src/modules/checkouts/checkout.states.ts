import type { EventType } from '../events/event.types.ts';
import { defineStateMachine } from '../../lib/state-machine.ts';

/**
 * Checkout session statuses (docs/state-machines.md). A session is OPEN until exactly one of: the shopper paid (COMPLETED),
 * the shopper or the merchant gave up (CANCELED), or its lifetime ran out (EXPIRED). Every closed status is
 * terminal.
 */
export const CHECKOUT_STATUSES = ['OPEN', 'COMPLETED', 'CANCELED', 'EXPIRED'] as const;
export type CheckoutStatus = (typeof CHECKOUT_STATUSES)[number];
export type ClosedCheckoutStatus = Exclude<CheckoutStatus, 'OPEN'>;

export const checkoutStateMachine = defineStateMachine<CheckoutStatus>({
  name: 'checkout',
  statuses: CHECKOUT_STATUSES,
  initial: 'OPEN',
  transitions: {
    OPEN: ['COMPLETED', 'CANCELED', 'EXPIRED'],
    COMPLETED: [],
    CANCELED: [],
    EXPIRED: [],
  },
});

/** The event a session writes when it reaches `status`. */
export function checkoutEventType(status: ClosedCheckoutStatus): EventType {
  switch (status) {
    case 'COMPLETED':
      return 'checkout.completed';
    case 'CANCELED':
      return 'checkout.canceled';
    case 'EXPIRED':
      return 'checkout.expired';
    default: {
      const unreachable: never = status;
      throw new Error(`Unknown checkout status ${String(unreachable)}`);
    }
  }
}
