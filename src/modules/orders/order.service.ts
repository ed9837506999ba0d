import type { NewEvent } from '../events/event.types.ts';
import type { UnitOfWork } from '../../db/client.ts';
import { presentOrder } from './order.presenter.ts';
import type { OrderResource } from './order.schemas.ts';
import type { Order } from './order.types.ts';

/** Order status changes go through `transitionOrder` (order.transitions.ts); this writes their event. */
export function emitOrderEvent(tx: UnitOfWork, order: Order, type: 'order.created' | 'order.updated') {
  tx.emit(orderEvent(order, type));
}

export function orderEvent(
  order: Order,
  type: 'order.created' | 'order.updated',
  presented: OrderResource = presentOrder(order),
): NewEvent {
  return {
    merchantId: order.merchantId,
    livemode: order.livemode,
    type,
    objectId: order.id,
    objectVersion: order.version,
    orderId: order.id,
    checkoutId: order.checkoutId,
    data: presented,
  };
}
