/**
 * Checks that an order's amounts add up exactly (docs/checkouts.md):
 *   subtotal_amount = Σ quantity × unit_price            (when products are listed)
 *   total_amount    = subtotal − Σ discounts + Σ taxes + shipping
 * and that the total is a positive amount we can charge.
 *
 * Every input is a safe integer of minor units, already validated by the request schema; the arithmetic is
 * done in BigInt so that no intermediate sum can silently lose precision, and a result above
 * Number.MAX_SAFE_INTEGER is reported as an error rather than stored.
 */
import type { FieldError } from '../../lib/errors.ts';

export type OrderAmounts = {
  subtotal_amount: number;
  discounts?: readonly { amount: number }[] | null;
  taxes?: readonly { amount: number }[] | null;
  shipping_amount?: number | null;
  total_amount: number;
  products?: readonly { quantity: number; unit_price: number }[] | null;
};

const MAX_AMOUNT = BigInt(Number.MAX_SAFE_INTEGER);

/** How many product lines a subtotal message spells out before summarising the rest. */
const MAX_LINES_IN_MESSAGE = 5;

/** The input is validated upstream; a non-integer here is a bug in the caller, not a client error. */
function toBigInt(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value))
    throw new TypeError(`${what} must be a safe integer, got ${String(value)}`);
  return BigInt(value);
}

function sumAmounts(lines: readonly { amount: number }[] | null | undefined, what: string): bigint {
  return (lines ?? []).reduce(
    (sum, line, index) => sum + toBigInt(line.amount, `${what}[${index}].amount`),
    0n,
  );
}

/**
 * Returns one field error per broken rule (empty when the order adds up), with pointers under `basePointer`
 * (`/order/subtotal_amount`, `/order/total_amount`, …) and messages that show the expected value and how it
 * was computed. An empty `products` list is treated as "not itemised": only the total rule applies.
 */
export function checkOrderTotals(order: OrderAmounts, basePointer = '/order'): FieldError[] {
  const errors: FieldError[] = [];
  const subtotal = toBigInt(order.subtotal_amount, 'subtotal_amount');
  const total = toBigInt(order.total_amount, 'total_amount');

  const products = order.products ?? [];
  if (products.length > 0) {
    let expectedSubtotal = 0n;
    let lineTooLarge = false;
    for (const [index, product] of products.entries()) {
      const quantity = toBigInt(product.quantity, `products[${index}].quantity`);
      const unitPrice = toBigInt(product.unit_price, `products[${index}].unit_price`);
      const line = quantity * unitPrice;
      if (line > MAX_AMOUNT) {
        lineTooLarge = true;
        errors.push({
          pointer: `${basePointer}/products/${index}`,
          code: 'amount_too_large',
          message: `must come to at most ${MAX_AMOUNT} (the largest supported amount); got quantity × unit_price = ${quantity} × ${unitPrice} = ${line}`,
        });
      }
      expectedSubtotal += line;
    }
    if (!lineTooLarge && expectedSubtotal > MAX_AMOUNT) {
      errors.push({
        pointer: `${basePointer}/products`,
        code: 'amount_too_large',
        message: `must add up to at most ${MAX_AMOUNT} (the largest supported amount); got ${expectedSubtotal}`,
      });
    } else if (!lineTooLarge && expectedSubtotal !== subtotal) {
      errors.push({
        pointer: `${basePointer}/subtotal_amount`,
        code: 'subtotal_mismatch',
        message: `must be ${expectedSubtotal} (Σ quantity × unit_price: ${describeLines(products)}); got ${subtotal}`,
      });
    }
  }

  const discounts = sumAmounts(order.discounts, 'discounts');
  const taxes = sumAmounts(order.taxes, 'taxes');
  const shipping = toBigInt(order.shipping_amount ?? 0, 'shipping_amount');
  const expectedTotal = subtotal - discounts + taxes + shipping;
  const formula = `subtotal ${subtotal} − discounts ${discounts} + taxes ${taxes} + shipping ${shipping}`;

  if (discounts > MAX_AMOUNT) {
    errors.push(tooLarge(`${basePointer}/discounts`, 'the discounts add up to', discounts));
  }
  if (taxes > MAX_AMOUNT) {
    errors.push(tooLarge(`${basePointer}/taxes`, 'the taxes add up to', taxes));
  }
  if (expectedTotal > MAX_AMOUNT) {
    errors.push(tooLarge(`${basePointer}/total_amount`, `the total (${formula}) would be`, expectedTotal));
  } else if (expectedTotal < 0n) {
    errors.push({
      pointer: `${basePointer}/discounts`,
      code: 'total_negative',
      message: `must add up to at most subtotal + taxes + shipping (${subtotal + taxes + shipping}); got ${discounts}, which makes the total ${expectedTotal}`,
    });
  } else if (expectedTotal === 0n) {
    errors.push({
      pointer: `${basePointer}/total_amount`,
      code: 'total_zero',
      message: `must be more than 0: the total is 0 (${formula}), there is nothing to pay`,
    });
  } else if (expectedTotal !== total) {
    errors.push({
      pointer: `${basePointer}/total_amount`,
      code: 'total_mismatch',
      message: `must be ${expectedTotal} (${formula}); got ${total}`,
    });
  }
  return errors;
}

function tooLarge(pointer: string, what: string, value: bigint): FieldError {
  return {
    pointer,
    code: 'amount_too_large',
    message: `must come to at most ${MAX_AMOUNT} (the largest supported amount); ${what} ${value}`,
  };
}

function describeLines(products: readonly { quantity: number; unit_price: number }[]): string {
  const shown = products.slice(0, MAX_LINES_IN_MESSAGE).map((p) => `${p.quantity} × ${p.unit_price}`);
  const hidden = products.length - shown.length;
  return hidden > 0 ? `${shown.join(' + ')} + ${hidden} more lines` : shown.join(' + ');
}
