import type { ApiOrder } from './kassa-client.ts';
import type { ReceiptModel } from './pages/receipt-pages.ts';

/** What the shop's receipts show, whether the shopper comes back by callback or by signed return URL. */

/** What a receipt shows of the order, whichever way the shopper came back. */
export function receiptAmounts(order: ApiOrder) {
  return {
    merchantOrderId: order.merchant_order_id,
    placedAt: order.placed_at,
    lines: order.products.map((product) => ({
      name: product.name,
      quantity: product.quantity,
      unitPrice: product.unit_price,
      lineTotal: product.quantity * product.unit_price,
    })),
    currency: order.currency,
    subtotal: order.subtotal_amount,
    shipping: order.shipping_amount,
    total: order.total_amount,
  } satisfies Partial<ReceiptModel>;
}

export function receiptStatus(status: string): ReceiptModel['status'] | undefined {
  switch (status) {
    case 'PAID':
    case 'SUCCEEDED':
    case 'PARTIALLY_REFUNDED':
      return 'PAID';
    case 'AUTHORIZED':
      return 'AUTHORIZED';
    case 'PENDING':
      return 'PENDING';
    default:
      return undefined;
  }
}
