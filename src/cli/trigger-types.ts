/**
 * The event types `kassa trigger` can produce through a sandbox flow (src/cli/commands/trigger.ts). A plain
 * list, no imports: the command table shows it in `kassa trigger --help` without loading the command.
 */
export const TRIGGER_TYPES = [
  'checkout.created',
  'order.created',
  'checkout.completed',
  'checkout.canceled',
  'checkout.expired',
  'payment.authorized',
  'payment.succeeded',
  'payment.captured',
  'payment.canceled',
  'payment.rejected',
  'payment.pending',
  'refund.succeeded',
] as const;

export type TriggerType = (typeof TRIGGER_TYPES)[number];
