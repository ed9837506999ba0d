import { countryName } from '../../lib/countries.ts';
import { intlLocaleOf } from '../checkouts/checkout.locale.ts';
import type { CustomerResource, OrderResource } from './order.schemas.ts';
import type { Customer, Order } from './order.types.ts';

/** The API (and event payload) form of an order: snake_case, minor units, RFC 3339 UTC timestamps. */
export function presentOrder(order: Order): OrderResource {
  return {
    object: 'order',
    order_id: order.id,
    livemode: order.livemode,
    checkout_id: order.checkoutId,
    status: order.status,
    merchant_order_id: order.merchantOrderId,
    country: countryName(order.countryCode, intlLocaleOf(order.locale)),
    country_code: order.countryCode,
    currency: order.currency,
    subtotal_amount: order.subtotalAmount,
    discounts: order.discounts.map(presentAdjustment),
    taxes: order.taxes.map(presentAdjustment),
    shipping_amount: order.shippingAmount,
    total_amount: order.totalAmount,
    products: order.products.map((product) => ({
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
    object: 'customer',
    customer_id: customer.id,
    first_name: customer.firstName,
    last_name: customer.lastName,
    email: customer.email,
    phone: customer.phone,
    verified,
    created_at: customer.createdAt.toISOString(),
    updated_at: customer.updatedAt.toISOString(),
  };
}
