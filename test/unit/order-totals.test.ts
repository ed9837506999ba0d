import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkOrderTotals, type OrderAmounts } from '../../src/modules/checkouts/order-totals.ts';

/** The order of the redirect-checkout flow (OrkestaPay): MXN, subtotal 1000, one discount of 10, total 990. */
const seedOrder: OrderAmounts = {
  subtotal_amount: 1000,
  discounts: [{ amount: 10 }],
  total_amount: 990,
  products: [{ quantity: 1, unit_price: 1000 }],
};

const MAX = Number.MAX_SAFE_INTEGER;

describe('checkOrderTotals', () => {
  it('accepts the the redirect-checkout flow order', () => {
    expect(checkOrderTotals(seedOrder)).toEqual([]);
  });

  it('explains a total that ignores the discount', () => {
    expect(checkOrderTotals({ ...seedOrder, total_amount: 1000 })).toEqual([
      {
        pointer: '/order/total_amount',
        code: 'total_mismatch',
        message: 'must be 990 (subtotal 1000 − discounts 10 + taxes 0 + shipping 0); got 1000',
      },
    ]);
  });

  it('adds taxes and shipping and subtracts several discounts', () => {
    const order: OrderAmounts = {
      subtotal_amount: 2500,
      discounts: [{ amount: 100 }, { amount: 50 }],
      taxes: [{ amount: 376 }, { amount: 24 }],
      shipping_amount: 499,
      total_amount: 2500 - 150 + 400 + 499,
      products: [
        { quantity: 2, unit_price: 1000 },
        { quantity: 1, unit_price: 500 },
      ],
    };
    expect(checkOrderTotals(order)).toEqual([]);
    expect(checkOrderTotals({ ...order, total_amount: 2750 })).toEqual([
      {
        pointer: '/order/total_amount',
        code: 'total_mismatch',
        message: 'must be 3249 (subtotal 2500 − discounts 150 + taxes 400 + shipping 499); got 2750',
      },
    ]);
  });

  it('checks the subtotal against the products and shows the lines', () => {
    const errors = checkOrderTotals({
      subtotal_amount: 2000,
      total_amount: 2000,
      products: [
        { quantity: 2, unit_price: 1000 },
        { quantity: 3, unit_price: 250 },
      ],
    });
    expect(errors).toEqual([
      {
        pointer: '/order/subtotal_amount',
        code: 'subtotal_mismatch',
        message: 'must be 2750 (Σ quantity × unit_price: 2 × 1000 + 3 × 250); got 2000',
      },
    ]);
  });

  it('summarises long product lists in the message', () => {
    const products = Array.from({ length: 8 }, () => ({ quantity: 1, unit_price: 100 }));
    const [error] = checkOrderTotals({ subtotal_amount: 700, total_amount: 700, products });
    expect(error?.message).toBe(
      'must be 800 (Σ quantity × unit_price: 1 × 100 + 1 × 100 + 1 × 100 + 1 × 100 + 1 × 100 + 3 more lines); got 700',
    );
  });

  it('reports subtotal and total independently, under a custom base pointer', () => {
    const errors = checkOrderTotals(
      { subtotal_amount: 900, total_amount: 1000, products: [{ quantity: 1, unit_price: 1000 }] },
      '/orders/0',
    );
    expect(errors.map((e) => [e.pointer, e.code])).toEqual([
      ['/orders/0/subtotal_amount', 'subtotal_mismatch'],
      ['/orders/0/total_amount', 'total_mismatch'],
    ]);
  });

  it('treats missing or empty products, discounts and taxes as none', () => {
    expect(checkOrderTotals({ subtotal_amount: 1000, total_amount: 1000 })).toEqual([]);
    expect(
      checkOrderTotals({
        subtotal_amount: 1000,
        total_amount: 1000,
        products: [],
        discounts: [],
        taxes: null,
        shipping_amount: null,
      }),
    ).toEqual([]);
  });

  it('refuses a zero total: there is nothing to pay', () => {
    expect(
      checkOrderTotals({ subtotal_amount: 1000, discounts: [{ amount: 1000 }], total_amount: 0 }),
    ).toEqual([
      {
        pointer: '/order/total_amount',
        code: 'total_zero',
        message:
          'must be more than 0: the total is 0 (subtotal 1000 − discounts 1000 + taxes 0 + shipping 0), there is nothing to pay',
      },
    ]);
    expect(checkOrderTotals({ subtotal_amount: 0, total_amount: 0 })[0]?.code).toBe('total_zero');
  });

  it('refuses discounts larger than everything else', () => {
    expect(
      checkOrderTotals({
        subtotal_amount: 1000,
        discounts: [{ amount: 1500 }],
        shipping_amount: 100,
        total_amount: 0,
      }),
    ).toEqual([
      {
        pointer: '/order/discounts',
        code: 'total_negative',
        message:
          'must add up to at most subtotal + taxes + shipping (1100); got 1500, which makes the total -400',
      },
    ]);
  });

  it('works with JPY (no decimals) and KWD (three) amounts alike: they are all minor units', () => {
    expect(checkOrderTotals({ subtotal_amount: 1234, taxes: [{ amount: 123 }], total_amount: 1357 })).toEqual(
      [],
    );
    expect(
      checkOrderTotals({ subtotal_amount: 1_234_567, shipping_amount: 1_500, total_amount: 1_236_067 }),
    ).toEqual([]);
  });

  describe('overflow', () => {
    it('accepts a total of exactly Number.MAX_SAFE_INTEGER', () => {
      expect(checkOrderTotals({ subtotal_amount: MAX - 1, shipping_amount: 1, total_amount: MAX })).toEqual(
        [],
      );
    });

    it('refuses a total above Number.MAX_SAFE_INTEGER, computed exactly', () => {
      const errors = checkOrderTotals({ subtotal_amount: MAX, taxes: [{ amount: 2 }], total_amount: MAX });
      expect(errors).toEqual([
        {
          pointer: '/order/total_amount',
          code: 'amount_too_large',
          message:
            'must come to at most 9007199254740991 (the largest supported amount); the total (subtotal 9007199254740991 − discounts 0 + taxes 2 + shipping 0) would be 9007199254740993',
        },
      ]);
    });

    it('refuses a product line whose quantity × unit_price overflows', () => {
      const errors = checkOrderTotals({
        subtotal_amount: 1000,
        total_amount: 1000,
        products: [
          { quantity: 1, unit_price: 1000 },
          { quantity: 3, unit_price: 2 ** 52 },
        ],
      });
      expect(errors).toEqual([
        {
          pointer: '/order/products/1',
          code: 'amount_too_large',
          message:
            'must come to at most 9007199254740991 (the largest supported amount); got quantity × unit_price = 3 × 4503599627370496 = 13510798882111488',
        },
      ]);
    });

    it('refuses products whose sum overflows even though each line fits', () => {
      const errors = checkOrderTotals({
        subtotal_amount: MAX,
        total_amount: MAX,
        products: [
          { quantity: 1, unit_price: MAX },
          { quantity: 1, unit_price: 1 },
        ],
      });
      expect(errors.map((e) => [e.pointer, e.code])).toEqual([['/order/products', 'amount_too_large']]);
      expect(errors[0]?.message).toContain('9007199254740992');
    });

    it('refuses discounts and taxes whose sums overflow', () => {
      const errors = checkOrderTotals({
        subtotal_amount: 10,
        discounts: [{ amount: MAX }, { amount: MAX }],
        taxes: [{ amount: MAX }, { amount: MAX }],
        total_amount: 10,
      });
      expect(errors.map((e) => [e.pointer, e.code])).toEqual([
        ['/order/discounts', 'amount_too_large'],
        ['/order/taxes', 'amount_too_large'],
      ]);
    });

    it('does not lose precision where floating point would (2^53 + 1)', () => {
      // 2^53 − 1 − 1 + 3 is 2^53 + 1, which a float sum rounds to 2^53.
      const errors = checkOrderTotals({
        subtotal_amount: MAX,
        discounts: [{ amount: 1 }],
        taxes: [{ amount: 3 }],
        total_amount: MAX,
      });
      expect(errors[0]?.message).toContain('would be 9007199254740993');
    });
  });

  it('throws on inputs the schema should have refused (a bug, not a client error)', () => {
    expect(() => checkOrderTotals({ subtotal_amount: 10.5, total_amount: 10.5 })).toThrow(TypeError);
    expect(() =>
      checkOrderTotals({ subtotal_amount: 10, total_amount: 10, discounts: [{ amount: NaN }] }),
    ).toThrow(TypeError);
  });
});

describe('checkOrderTotals properties', () => {
  const amount = (max: number) => fc.integer({ min: 0, max });
  /** Orders whose amounts add up by construction, kept well inside the safe range. */
  const consistentOrder = fc
    .record({
      products: fc.array(
        fc.record({ quantity: fc.integer({ min: 1, max: 1000 }), unit_price: amount(10 ** 9) }),
        {
          minLength: 1,
          maxLength: 10,
        },
      ),
      taxes: fc.array(fc.record({ amount: amount(10 ** 9) }), { maxLength: 5 }),
      shipping_amount: amount(10 ** 9),
      discountShares: fc.array(fc.double({ min: 0, max: 0.2, noNaN: true }), { maxLength: 5 }),
    })
    .map(({ products, taxes, shipping_amount, discountShares }): OrderAmounts => {
      const subtotal = products.reduce((sum, p) => sum + p.quantity * p.unit_price, 0);
      const discounts = discountShares.map((share) => ({ amount: Math.floor(subtotal * share) }));
      const total =
        subtotal -
        discounts.reduce((sum, d) => sum + d.amount, 0) +
        taxes.reduce((sum, t) => sum + t.amount, 0) +
        shipping_amount;
      return { subtotal_amount: subtotal, discounts, taxes, shipping_amount, total_amount: total, products };
    })
    .filter((order) => order.total_amount > 0);

  it('accepts every order that adds up', () => {
    fc.assert(
      fc.property(consistentOrder, (order) => {
        expect(checkOrderTotals(order)).toEqual([]);
      }),
    );
  });

  it('refuses any change of total_amount, pointing at it and naming the expected value', () => {
    fc.assert(
      fc.property(
        consistentOrder,
        fc.integer({ min: -(10 ** 6), max: 10 ** 6 }).filter((delta) => delta !== 0),
        (order, delta) => {
          const wrong = order.total_amount + delta;
          fc.pre(wrong >= 0);
          const errors = checkOrderTotals({ ...order, total_amount: wrong });
          expect(errors).toHaveLength(1);
          expect(errors[0]?.pointer).toBe('/order/total_amount');
          expect(errors[0]?.message).toMatch(
            new RegExp(`^must be ${order.total_amount} \\(.*\\); got ${wrong}$`),
          );
        },
      ),
    );
  });

  it('refuses any change of one unit price, pointing at the subtotal', () => {
    fc.assert(
      fc.property(consistentOrder, fc.nat(), fc.integer({ min: 1, max: 1000 }), (order, pick, bump) => {
        const products = [...(order.products ?? [])];
        const index = pick % products.length;
        const line = products[index]!;
        products[index] = { ...line, unit_price: line.unit_price + bump };
        const errors = checkOrderTotals({ ...order, products });
        expect(errors.map((e) => e.pointer)).toEqual(['/order/subtotal_amount']);
      }),
    );
  });
});
