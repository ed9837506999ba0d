import type { NewEvent } from '../events/event.types.ts';
import type { UnitOfWork } from '../../db/client.ts';
import { presentOrder } from './order.presenter.ts';
import type { OrderResource } from './order.schemas.ts';
import type { Order } from './order.types.ts';

// What other modules may read and write of orders and customers: they go through this file, never through the
// repositories (eslint.config.js), so the orders module decides which of its statements others may send.
export { upsertCustomer } from '../customers/customer.service.ts';
export {
  findOrderByCheckoutId,
  findOrdersByCheckoutIds,
  lockOrderOfPayment,
  newOrderRecord,
  orderInsertSql,
  readOrderOfCheckout,
  replaceOrderContent,
  type NewOrder,
} from './order.repository.ts';

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
