import { defineStateMachine } from '../../lib/state-machine.ts';
import type { EventType } from '../events/event.types.ts';

/**
 * Payment link statuses (docs/payment-links.md). A link is ACTIVE until exactly one of: its sessions were paid as often as
 * its cap allows (COMPLETED), its validity or activation window ran out (EXPIRED), or the merchant switched it
 * off (DEACTIVATED). Every closed status is terminal: a closed link never opens a session again.
 */
export const PAYMENT_LINK_STATUSES = ['ACTIVE', 'COMPLETED', 'EXPIRED', 'DEACTIVATED'] as const;
export type PaymentLinkStatus = (typeof PAYMENT_LINK_STATUSES)[number];
export type ClosedPaymentLinkStatus = Exclude<PaymentLinkStatus, 'ACTIVE'>;

export const paymentLinkStateMachine = defineStateMachine<PaymentLinkStatus>({
  name: 'payment_link',
  statuses: PAYMENT_LINK_STATUSES,
  initial: 'ACTIVE',
  transitions: {
    ACTIVE: ['COMPLETED', 'EXPIRED', 'DEACTIVATED'],
    COMPLETED: [],
    EXPIRED: [],
    DEACTIVATED: [],
  },
});

/** The event a link writes when it reaches `status`. */
export function paymentLinkEventType(status: ClosedPaymentLinkStatus): EventType {
  switch (status) {
    case 'COMPLETED':
      return 'payment_link.completed';
    case 'EXPIRED':
      return 'payment_link.expired';
    case 'DEACTIVATED':
      return 'payment_link.deactivated';
    default: {
      const unreachable: never = status;
      throw new Error(`Unknown payment link status ${String(unreachable)}`);
    }
  }
}
