import { countryName } from '../../lib/countries.ts';
import type { CustomerResource, OrderResource } from './order.schemas.ts';
import type { Customer, Order } from './order.types.ts';

/** The API (and event payload) form of an order: snake_case, minor units, RFC 3339 UTC timestamps. */
export function presentOrder(order: Order): OrderResource {
  return {
    id: order.id,
    object: 'order',
    order_id: order.id,
    livemode: order.livemode,
    checkout_id: order.checkoutId,
    status: order.status,
    merchant_order_id: order.merchantOrderId,
    // Data never depends on the display language (docs/api-conventions.md#4): always the English name.
    country: countryName(order.countryCode, 'en'),
    country_code: order.countryCode,
    currency: order.currency,
    subtotal_amount: order.subtotalAmount,
    discounts: order.discounts.map(presentAdjustment),
    taxes: order.taxes.map(presentAdjustment),
    shipping_amount: order.shippingAmount,
    total_amount: order.totalAmount,
    products: order.products.map((product) => ({
      id: product.id,
      product_id: product.id,
      name: product.name,
      quantity: product.quantity,
      unit_price: product.unit_price,
    })),
    customer: order.customer ? presentCustomer(order.customer, order.customerVerified) : null,
    authorized_amount: order.authorizedAmount,
    captured_amount: order.capturedAmount,
    refunded_amount: order.refundedAmount,
    metadata: order.metadata,
    created_at: order.createdAt.toISOString(),
    placed_at: order.createdAt.toISOString(),
    expires_at: order.expiresAt.toISOString(),
    updated_at: order.updatedAt.toISOString(),
    version: order.version,
  };
}

function presentAdjustment(line: { amount: number; description?: string }) {
  return line.description === undefined
    ? { amount: line.amount }
    : { amount: line.amount, description: line.description };
}

export function presentCustomer(customer: Customer, verified: boolean): CustomerResource {
  return {
    id: customer.id,
    object: 'customer',
    customer_id: customer.id,
    livemode: customer.livemode,
    first_name: customer.firstName,
    last_name: customer.lastName,
    email: customer.email,
    phone: customer.phone,
    verified,
    created_at: customer.createdAt.toISOString(),
    updated_at: customer.updatedAt.toISOString(),
  };
}
