/**
 * `decideOrderMove` (src/modules/orders/order.transitions.ts): the pure decision behind every order move —
 * edges of the order table advance (version + 1, the amounts given, the rest kept); anything else leaves the
 * order as it is, except an amount change in the same status when the caller allows it.
 */
import { describe, expect, it } from 'vitest';
import { decideOrderMove } from '../../src/modules/orders/order.transitions.ts';
import type { Order } from '../../src/modules/orders/order.types.ts';

const created = new Date('2026-01-01T00:00:00Z');
const now = new Date('2026-01-01T00:05:00Z');

const order = (overrides: Partial<Order> = {}): Order => ({
  id: 'ord_1',
  merchantId: 'mer_1',
  livemode: false,
  checkoutId: 'chk_1',
  status: 'CREATED',
  merchantOrderId: 'A-1',
  currency: 'USD',
  countryCode: 'US',
  subtotalAmount: 1000,
  discounts: [],
  taxes: [],
  shippingAmount: 0,
  totalAmount: 1000,
  products: [],
  customer: null,
  customerVerified: false,
  metadata: {},
  authorizedAmount: 0,
  capturedAmount: 0,
  refundedAmount: 0,
  expiresAt: created,
  locale: 'en',
  createdAt: created,
  updatedAt: created,
  version: 3,
  ...overrides,
});

describe('decideOrderMove', () => {
  it('applies an edge of the table with the amounts given, one version on, and keeps everything else', () => {
    const before = order();
    expect(decideOrderMove(before, { to: 'AUTHORIZED', authorizedAmount: 1000 }, now)).toEqual({
      ...before,
      status: 'AUTHORIZED',
      authorizedAmount: 1000,
      updatedAt: now,
      version: 4,
    });
  });

  it('leaves the order when the table refuses the move, or for the same status without leave', () => {
    expect(decideOrderMove(order({ status: 'PAID' }), { to: 'AUTHORIZED' }, now)).toBeUndefined();
    expect(
      decideOrderMove(order({ status: 'CANCELED' }), { to: 'PAID', capturedAmount: 1 }, now),
    ).toBeUndefined();
    expect(
      decideOrderMove(
        order({ status: 'PARTIALLY_REFUNDED', refundedAmount: 100 }),
        {
          to: 'PARTIALLY_REFUNDED',
          refundedAmount: 200,
        },
        now,
      ),
    ).toBeUndefined();
  });

  it('with sameStatusWhenAmountsDiffer, moves only the amounts in the same status, and never a duplicate', () => {
    const partly = order({ status: 'PARTIALLY_REFUNDED', capturedAmount: 1000, refundedAmount: 100 });
    const move = { to: 'PARTIALLY_REFUNDED' as const, sameStatusWhenAmountsDiffer: true };
    expect(decideOrderMove(partly, { ...move, refundedAmount: 300 }, now)).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      refundedAmount: 300,
      version: 4,
    });
    expect(decideOrderMove(partly, { ...move, refundedAmount: 100 }, now)).toBeUndefined();
  });
});
