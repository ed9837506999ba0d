import type { NewEvent } from '../events/event.types.ts';
import type { UnitOfWork } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import { AppError, notFoundError } from '../../lib/errors.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import { presentOrder } from './order.presenter.ts';
import { findOrder, updateOrderState, type OrderStateChange } from './order.repository.ts';
import { orderStateMachine } from './order.states.ts';
import type { OrderResource } from './order.schemas.ts';
import type { Order } from './order.types.ts';

/**
 * Moves an order along its transition table under a row lock and writes `order.updated` with the new
 * snapshot in the same transaction. For the payment, capture and refund flows.
 *
 * - An edge of the table is applied.
 * - The same status again is refused (409) unless `allowSameStatus`, in which case only the amounts change
 *   (a second partial refund keeps PARTIALLY_REFUNDED); with no amount change it is a no-op and writes no
 *   event — what a duplicate notification should do.
 * - Anything else (backwards, out of a terminal status) is a coded 409 naming the current status.
 */
export async function transitionOrder(
  tx: UnitOfWork,
  deps: { clock: Clock },
  scope: Scope,
  orderId: string,
  change: OrderStateChange,
  options: { action: string; allowSameStatus?: boolean },
): Promise<{ order: Order; changed: boolean }> {
  const order = await findOrder(tx, scope, orderId, { forUpdate: true });
  if (!order) throw notFoundError('order', orderId);
  const verdict = orderStateMachine.check(order.status, change.status);
  if (verdict === 'same' && options.allowSameStatus) {
    const amountsChange =
      (change.authorizedAmount !== undefined && change.authorizedAmount !== order.authorizedAmount) ||
      (change.capturedAmount !== undefined && change.capturedAmount !== order.capturedAmount) ||
      (change.refundedAmount !== undefined && change.refundedAmount !== order.refundedAmount);
    if (!amountsChange) return { order, changed: false };
  } else {
    orderStateMachine.assertTransition(order.status, change.status, options.action);
  }
  const updated = await updateOrderState(tx, scope, orderId, order.status, change, deps.clock.now());
  // The row is locked, so the conditional update cannot miss; if it does, something bypassed the lock.
  if (!updated) throw new AppError('conflict', `The order ${orderId} changed concurrently; retry`);
  await emitOrderEvent(tx, updated, 'order.updated');
  return { order: updated, changed: true };
}

export async function emitOrderEvent(tx: UnitOfWork, order: Order, type: 'order.created' | 'order.updated') {
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
