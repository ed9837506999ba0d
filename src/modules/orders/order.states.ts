import { defineStateMachine } from '../../lib/state-machine.ts';

/**
 * Order statuses (docs/state-machines.md). The order follows the money:
 *
 * - CREATED: nothing is paid. A payment attempt that is declined leaves the order CREATED, so the shopper can
 *   try again (another card, another method) while the session is open. A 3-D Secure challenge in progress
 *   does not move the order either: the attempt is tracked by the checkout's `active_payment_id`.
 * - PENDING: the shopper is done and the money is awaited (an invoice, a payment the processor finalises
 *   later). A pending payment that is finally rejected CANCELS the order: the session is closed by then.
 * - AUTHORIZED: money reserved (manual capture). Capture → PAID; void → CANCELED.
 * - PAID: captured (fully, or partially with the rest released). Refunds → PARTIALLY_REFUNDED → REFUNDED.
 *   A second partial refund keeps PARTIALLY_REFUNDED: only the amounts change, not the status.
 * - CANCELED, EXPIRED, REFUNDED: terminal.
 *
 * CREATED may jump straight to AUTHORIZED or PAID (a synchronous approval) — statuses may be skipped, never
 * revisited.
 */
export const ORDER_STATUSES = [
  'CREATED',
  'PENDING',
  'AUTHORIZED',
  'PAID',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
  'CANCELED',
  'EXPIRED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const orderStateMachine = defineStateMachine<OrderStatus>({
  name: 'order',
  statuses: ORDER_STATUSES,
  initial: 'CREATED',
  transitions: {
    CREATED: ['PENDING', 'AUTHORIZED', 'PAID', 'CANCELED', 'EXPIRED'],
    PENDING: ['AUTHORIZED', 'PAID', 'CANCELED'],
    AUTHORIZED: ['PAID', 'CANCELED'],
    PAID: ['PARTIALLY_REFUNDED', 'REFUNDED'],
    PARTIALLY_REFUNDED: ['REFUNDED'],
    REFUNDED: [],
    CANCELED: [],
    EXPIRED: [],
  },
});
