import type { UnitOfWork } from '../../db/client.ts';
import type { EventType } from '../events/event.types.ts';
import { presentPaymentLink, type PaymentLinkPresentationDeps } from './payment-link.presenter.ts';
import type { PaymentLink } from './payment-link.types.ts';

/**
 * Emits a link's event with its snapshot (status, completions, order amounts, version) as data. Call it with
 * the transaction that made the change. `session` names the checkout (and order) that caused it, if any, so
 * the event also appears on that order's timeline.
 */
export async function emitPaymentLinkEvent(
  tx: UnitOfWork,
  deps: PaymentLinkPresentationDeps,
  link: PaymentLink,
  type: EventType,
  session?: { checkoutId: string; orderId: string },
) {
  tx.emit({
    merchantId: link.merchantId,
    livemode: link.livemode,
    type,
    objectId: link.id,
    objectVersion: link.version,
    ...(session ? { checkoutId: session.checkoutId, orderId: session.orderId } : {}),
    data: presentPaymentLink(link, deps),
  });
}
