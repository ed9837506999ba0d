import type { Queryable } from '../../db/client.ts';
import { emitEvent } from '../events/event.repository.ts';
import type { EventType } from '../events/event.types.ts';
import { presentPaymentLink, type PaymentLinkPresentationDeps } from './payment-link.presenter.ts';
import type { PaymentLink } from './payment-link.types.ts';

/**
 * Writes a link's event with its snapshot (status, completions, order amounts, version) as data. Call it with
 * the transaction that made the change. `session` names the checkout (and order) that caused it, if any, so
 * the event also appears on that order's timeline.
 */
export async function emitPaymentLinkEvent(
  tx: Queryable,
  deps: PaymentLinkPresentationDeps,
  link: PaymentLink,
  type: EventType,
  session?: { checkoutId: string; orderId: string },
) {
  await emitEvent(tx, {
    merchantId: link.merchantId,
    livemode: link.livemode,
    type,
    objectId: link.id,
    objectVersion: link.version,
    ...(session ? { checkoutId: session.checkoutId, orderId: session.orderId } : {}),
    data: presentPaymentLink(link, deps),
  });
}
