import type { UnitOfWork } from '../../db/client.ts';
import type { EventType, NewEvent } from '../events/event.types.ts';
import { presentCheckout, type CheckoutPresentationDeps } from './checkout.presenter.ts';
import type { CheckoutResource } from './checkout.schemas.ts';
import type { CheckoutWithOrder } from './checkout.types.ts';

/** A checkout's events carry the checkout as the API presents it, with its order. */
export async function emitCheckoutEvent(
  tx: UnitOfWork,
  deps: CheckoutPresentationDeps,
  { checkout, order }: CheckoutWithOrder,
  type: EventType,
) {
  tx.emit(checkoutEvent(deps, { checkout, order }, type));
}

export function checkoutEvent(
  deps: CheckoutPresentationDeps,
  { checkout, order }: CheckoutWithOrder,
  type: EventType,
  presented: CheckoutResource = presentCheckout({ checkout, order }, deps),
): NewEvent {
  return {
    merchantId: checkout.merchantId,
    livemode: checkout.livemode,
    type,
    objectId: checkout.id,
    objectVersion: checkout.version,
    checkoutId: checkout.id,
    orderId: order.id,
    data: presented,
  };
}
