import type { UnitOfWork } from '../../db/client.ts';
import { orderEvent } from '../orders/order.service.ts';
import type { OrderStatus } from '../orders/order.states.ts';
import { decideOrderMove, writeOrderMoves } from '../orders/order.transitions.ts';
import type { Order } from '../orders/order.types.ts';
import type { Payment } from './payment.types.ts';

/**
 * The order status that mirrors a payment after capture, void or refund, or undefined when the payment says
 * nothing about its order (an attempt still in progress or refused leaves the order where it is).
 *
 * REFUNDED means everything authorised was captured and refunded; a refund of a partial capture, with part of
 * the authorization still capturable, is PARTIALLY_REFUNDED.
 */
export function orderStatusForPayment(payment: Payment): OrderStatus | undefined {
  switch (payment.status) {
    case 'AUTHORIZED':
      return 'AUTHORIZED';
    case 'SUCCEEDED':
      if (payment.refundedAmount === 0) return 'PAID';
      return payment.refundedAmount >= payment.authorizedAmount ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    case 'CANCELED':
      return 'CANCELED';
    case 'PENDING':
    case 'REQUIRES_ACTION':
    case 'REJECTED':
      return undefined;
    default: {
      const unreachable: never = payment.status;
      throw new Error(`unhandled payment status ${String(unreachable)}`);
    }
  }
}

/** The order moved to what `payment` implies (`orderStatusForPayment`), decided only; undefined = stays. */
export function orderFollowing(order: Order, payment: Payment, now: Date): Order | undefined {
  const target = orderStatusForPayment(payment);
  if (!target) return undefined;
  return decideOrderMove(
    order,
    {
      to: target,
      sameStatusWhenAmountsDiffer: true,
      authorizedAmount: payment.authorizedAmount,
      capturedAmount: payment.capturedAmount,
      refundedAmount: payment.refundedAmount,
    },
    now,
  );
}

/**
 * Moves the payment's order (loaded under its row lock) to the status and amounts the payment implies
 * (`orderFollowing`), and emits `order.updated` when it moved. A same-status change moves only the amounts (a
 * second partial capture or refund); a move the order table refuses (the order is already terminal) changes
 * nothing. Answers the order as it now is.
 */
export function followPaymentWithOrder(tx: UnitOfWork, order: Order, payment: Payment, now: Date): Order {
  const moved = orderFollowing(order, payment, now);
  if (!moved) return order;
  writeOrderMoves(tx, order, moved);
  tx.emit(orderEvent(moved, 'order.updated'));
  return moved;
}
