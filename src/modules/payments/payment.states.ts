import { defineStateMachine } from '../../lib/state-machine.ts';

/**
 * Payment statuses (docs/state-machines.md); one payment is one attempt to pay a checkout.
 *
 * - PENDING: created, or accepted by the processor with the outcome to follow (invoice, delayed card).
 * - REQUIRES_ACTION: the shopper must act first (3-D Secure challenge, wallet approval).
 * - AUTHORIZED: money reserved, to be captured (manual capture).
 * - SUCCEEDED: money captured (automatic capture, or a capture of an authorization). Refunds are child rows
 *   with their own status; the payment keeps SUCCEEDED and carries `refunded_amount`.
 * - REJECTED: declined, failed authentication, processor refusal. Terminal: a retry is a new payment.
 * - CANCELED: voided authorization, abandoned challenge. Terminal.
 *
 * REQUIRES_ACTION does not go back to PENDING: the table must stay acyclic so a late notification can never
 * move a payment backwards; an action whose result is "pending" should finish in AUTHORIZED/SUCCEEDED/
 * REJECTED when the processor decides.
 */
export const PAYMENT_STATUSES = [
  'PENDING',
  'REQUIRES_ACTION',
  'AUTHORIZED',
  'SUCCEEDED',
  'REJECTED',
  'CANCELED',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const paymentStateMachine = defineStateMachine<PaymentStatus>({
  name: 'payment',
  statuses: PAYMENT_STATUSES,
  initial: 'PENDING',
  transitions: {
    PENDING: ['REQUIRES_ACTION', 'AUTHORIZED', 'SUCCEEDED', 'REJECTED', 'CANCELED'],
    REQUIRES_ACTION: ['AUTHORIZED', 'SUCCEEDED', 'REJECTED', 'CANCELED'],
    AUTHORIZED: ['SUCCEEDED', 'CANCELED'],
    SUCCEEDED: [],
    REJECTED: [],
    CANCELED: [],
  },
});
