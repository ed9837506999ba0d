import type { UnitOfWork } from '../../db/client.ts';
import { writeOrderMove } from './order.repository.ts';
import { orderStateMachine, type OrderStatus } from './order.states.ts';
import type { Order } from './order.types.ts';

/** Where a change wants an order: its status and, when given, its amounts. */
export type OrderMove = {
  to: OrderStatus;
  authorizedAmount?: number | undefined;
  capturedAmount?: number | undefined;
  refundedAmount?: number | undefined;
  /** Also a move when the order is already `to` with other amounts (a second partial capture or refund). */
  sameStatusWhenAmountsDiffer?: boolean;
};

/**
 * Decides an order's move (pure): the order as it will be, or undefined when the move is not an edge of the
 * order table (`order.states.ts`) — a move the table refuses, or a duplicate, leaves the order as it is.
 */
export function decideOrderMove(order: Order, move: OrderMove, now: Date): Order | undefined {
  const next: Order = {
    ...order,
    status: move.to,
    authorizedAmount: move.authorizedAmount ?? order.authorizedAmount,
    capturedAmount: move.capturedAmount ?? order.capturedAmount,
    refundedAmount: move.refundedAmount ?? order.refundedAmount,
    updatedAt: now,
    version: order.version + 1,
  };
  if (orderStateMachine.check(order.status, move.to) === 'advance') return next;
  const amountsDiffer =
    next.authorizedAmount !== order.authorizedAmount ||
    next.capturedAmount !== order.capturedAmount ||
    next.refundedAmount !== order.refundedAmount;
  if (move.sameStatusWhenAmountsDiffer && order.status === move.to && amountsDiffer) return next;
  return undefined;
}

/**
 * The one way an order's status or money changes: decides the move on the order as loaded under its row
 * lock and queues its write in the caller's unit of work. Answers the order as moved, or undefined when it
 * stays as it is. The caller emits `order.updated` (`orderEvent`) where the event belongs among its own.
 */
export function transitionOrder(
  uow: UnitOfWork,
  order: Order,
  move: OrderMove,
  now: Date,
): Order | undefined {
  const moved = decideOrderMove(order, move, now);
  if (moved) writeOrderMove(uow, order, moved);
  return moved;
}

/**
 * Moves decided one after another on the same locked order (`decideOrderMove`, each on the one before: a sale
 * goes AUTHORIZED, then PAID), written once as the last of them: one UPDATE guarded by the version loaded. Each
 * step keeps its own version, and its own `order.updated`, which the caller emits.
 */
export function writeOrderMoves(uow: UnitOfWork, loaded: Order, last: Order): void {
  writeOrderMove(uow, loaded, last);
}
