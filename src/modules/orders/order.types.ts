import type { OrderStatus } from './order.states.ts';

/** An amount line that is not a product: a discount or a tax, in minor units of the order's currency. */
export type OrderAdjustment = { amount: number; description?: string };

export type OrderProduct = { id: string; name: string; quantity: number; unit_price: number };

export type Customer = {
  id: string;
  merchantId: string;
  livemode: boolean;
  email: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  /** The merchant's own data (docs/api-conventions.md, Metadata); never holds null values. */
  metadata: Record<string, string | number | boolean>;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  /** Set by `DELETE /v1/customers/{id}`; past orders keep showing the customer (docs/customers.md). */
  deletedAt: Date | null;
};

export type CustomerInput = {
  email: string;
  first_name?: string;
  last_name?: string;
  phone?: string;
  /** The merchant vouches that the shopper signed in as this customer (saved cards are offered only then). */
  verified?: boolean;
};

/**
 * The order's content as a merchant sends it (request names). Amounts are validated safe integers of minor
 * units and add up (`checkOrderTotals`) before they reach a repository.
 */
export type OrderInput = {
  merchant_order_id: string;
  currency: string;
  country_code: string;
  subtotal_amount: number;
  discounts: OrderAdjustment[];
  taxes: OrderAdjustment[];
  shipping_amount: number;
  total_amount: number;
  products: OrderProduct[];
  customer?: CustomerInput | undefined;
  metadata: Metadata;
};

/** Stored metadata never holds null values (src/lib/metadata.ts); rows written before that rule may. */
export type Metadata = Record<string, string | number | boolean>;

export type Order = {
  id: string;
  merchantId: string;
  livemode: boolean;
  checkoutId: string;
  status: OrderStatus;
  merchantOrderId: string;
  currency: string;
  countryCode: string;
  subtotalAmount: number;
  discounts: OrderAdjustment[];
  taxes: OrderAdjustment[];
  shippingAmount: number;
  totalAmount: number;
  products: OrderProduct[];
  customer: Customer | null;
  /** The merchant vouched for the customer on this order (`customer.verified: true`); false without one. */
  customerVerified: boolean;
  metadata: Metadata;
  authorizedAmount: number;
  capturedAmount: number;
  refundedAmount: number;
  /** The checkout session's deadline and locale (the order is read together with its session). */
  expiresAt: Date;
  locale: string;
  createdAt: Date;
  updatedAt: Date;
  version: number;
};
