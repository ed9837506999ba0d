import type { QueryResult } from 'pg';
import type { Load, Queryable, UnitOfWork } from '../../db/client.ts';
import { fetchPage, type PageRequest, type Sql } from '../../db/pagination.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import { toCustomer, type CustomerRow } from '../customers/customer.mapping.ts';
import type { OrderStatus } from './order.states.ts';
import type { Customer, Order, OrderInput } from './order.types.ts';

/** The order's columns carry its content under the request's names (`OrderInput`). */
export type OrderRow = Omit<OrderInput, 'customer'> & {
  id: string;
  merchant_id: string;
  livemode: boolean;
  checkout_id: string;
  status: OrderStatus;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  created_at: Date;
  updated_at: Date;
  version: number;
  customer_verified: boolean;
  checkout_expires_at: Date;
  checkout_locale: string;
  customer: CustomerRow | null;
};

/**
 * An order is always read with its session's deadline and locale and its customer. `relation` holds order
 * rows: the table, or a CTE of `UPDATE orders … RETURNING *`, so a change answers with the order it made in
 * the same statement (read it with `toOrder`).
 */
export function selectOrderFrom(relation: string): string {
  return `
  SELECT ${orderColumns(relation)}
    FROM ${orderJoins(relation)}`;
}

function orderColumns(relation: string): string {
  return `${relation}.*, checkouts.expires_at AS checkout_expires_at, checkouts.locale AS checkout_locale,
         CASE WHEN customers.id IS NULL THEN NULL ELSE to_jsonb(customers) END AS customer`;
}

function orderJoins(relation: string): string {
  return `${relation}
    JOIN checkouts ON checkouts.id = ${relation}.checkout_id
    LEFT JOIN customers ON customers.id = ${relation}.customer_id`;
}

// By id or session, the scope is a filter (`IS NOT DISTINCT FROM`), never an index condition: the lookup uses the
// primary key or orders_checkout_id_key, not the merchant's index (checkout.repository.ts).
const SELECT_ORDER = selectOrderFrom('orders');

export function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    checkoutId: row.checkout_id,
    status: row.status,
    merchantOrderId: row.merchant_order_id,
    currency: row.currency,
    countryCode: row.country_code,
    subtotalAmount: row.subtotal_amount,
    discounts: row.discounts,
    taxes: row.taxes,
    shippingAmount: row.shipping_amount,
    totalAmount: row.total_amount,
    products: row.products,
    customer: row.customer ? toCustomer(row.customer) : null,
    customerVerified: row.customer !== null && row.customer_verified,
    metadata: row.metadata,
    authorizedAmount: row.authorized_amount,
    capturedAmount: row.captured_amount,
    refundedAmount: row.refunded_amount,
    expiresAt: row.checkout_expires_at,
    locale: row.checkout_locale,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

function contentValues(input: OrderInput, customerId: string | null): unknown[] {
  return [
    input.merchant_order_id,
    input.currency,
    input.country_code,
    input.subtotal_amount,
    JSON.stringify(input.discounts),
    JSON.stringify(input.taxes),
    input.shipping_amount,
    input.total_amount,
    JSON.stringify(input.products),
    customerId,
    JSON.stringify(input.metadata),
    customerId !== null && input.customer?.verified === true,
  ];
}

export type NewOrder = {
  id: string;
  checkoutId: string;
  input: OrderInput;
  customer: Customer | null;
  now: Date;
};

/**
 * The INSERT of a new order, for the statement that creates its checkout session in the same round trip
 * (`insertCheckoutWithOrder`); its parameters are numbered from `firstParameter`.
 */
export function orderInsertSql(firstParameter: number) {
  const p = (offset: number) => `$${firstParameter + offset}`;
  return {
    sql: `INSERT INTO orders (merchant_order_id, currency, country_code, subtotal_amount, discounts, taxes,
       shipping_amount, total_amount, products, customer_id, metadata, customer_verified,
       id, merchant_id, livemode, checkout_id, status, created_at, updated_at)
     VALUES (${Array.from({ length: 16 }, (_, index) => p(index)).join(', ')}, 'CREATED', ${p(16)}, ${p(16)})`,
    values: (scope: Scope, order: NewOrder): unknown[] => [
      ...contentValues(order.input, order.customer?.id ?? null),
      order.id,
      scope.merchantId,
      scope.livemode,
      order.checkoutId,
      order.now,
    ],
  };
}

/** The row `orderInsertSql` writes, as `findOrder` would read it (the column defaults included). */
export function newOrderRecord(
  scope: Scope,
  order: NewOrder,
  session: { expiresAt: Date; locale: string },
): Order {
  const { input } = order;
  return {
    id: order.id,
    merchantId: scope.merchantId,
    livemode: scope.livemode,
    checkoutId: order.checkoutId,
    status: 'CREATED',
    merchantOrderId: input.merchant_order_id,
    currency: input.currency,
    countryCode: input.country_code,
    subtotalAmount: input.subtotal_amount,
    discounts: input.discounts,
    taxes: input.taxes,
    shippingAmount: input.shipping_amount,
    totalAmount: input.total_amount,
    products: input.products,
    customer: order.customer,
    customerVerified: order.customer !== null && input.customer?.verified === true,
    metadata: input.metadata,
    authorizedAmount: 0,
    capturedAmount: 0,
    refundedAmount: 0,
    expiresAt: session.expiresAt,
    locale: session.locale,
    createdAt: order.now,
    updatedAt: order.now,
    version: 1,
  };
}

/** Replaces the content (lines, amounts, customer, metadata) of an order; status and money moved stay. */
export async function replaceOrderContent(
  tx: Queryable,
  scope: Scope,
  orderId: string,
  input: OrderInput,
  customerId: string | null,
  now: Date,
): Promise<Order | undefined> {
  const { rowCount } = await tx.query(
    `UPDATE orders SET merchant_order_id = $1, currency = $2, country_code = $3, subtotal_amount = $4,
       discounts = $5, taxes = $6, shipping_amount = $7, total_amount = $8, products = $9, customer_id = $10,
       metadata = $11, customer_verified = $12, updated_at = $13, version = version + 1
     WHERE id = $14 AND (merchant_id, livemode) IS NOT DISTINCT FROM ($15, $16)`,
    [...contentValues(input, customerId), now, orderId, scope.merchantId, scope.livemode],
  );
  return rowCount ? findOrder(tx, scope, orderId) : undefined;
}

/** Writes an order's new metadata (the caller holds its row lock), raising its version as `next` says. */
export function writeOrderMetadata(uow: UnitOfWork, next: Order): void {
  uow.write('UPDATE orders SET metadata = $1, updated_at = $2, version = $3 WHERE id = $4', [
    JSON.stringify(next.metadata),
    next.updatedAt,
    next.version,
    next.id,
  ]);
}

export async function findOrder(
  db: Queryable,
  scope: Scope,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Order | undefined> {
  const { rows } = await db.query<OrderRow>(
    `${SELECT_ORDER} WHERE orders.id = $1 AND (orders.merchant_id, orders.livemode) IS NOT DISTINCT FROM ($2, $3)
     ${options.forUpdate ? 'FOR UPDATE OF orders' : ''}`,
    [id, scope.merchantId, scope.livemode],
  );
  return rows[0] ? toOrder(rows[0]) : undefined;
}

/** Several orders at once (the expansions of a list page: src/http/expansions.ts); missing ids are left out. */
export async function findOrders(db: Queryable, scope: Scope, ids: string[]): Promise<Order[]> {
  const { rows } = await db.query<OrderRow>(
    `${SELECT_ORDER} WHERE orders.id = ANY($1) AND orders.merchant_id = $2 AND orders.livemode = $3`,
    [ids, scope.merchantId, scope.livemode],
  );
  return rows.map(toOrder);
}

/** A load (`uow.load`) that reads the order of a session. */
export function readOrderOfCheckout(scope: Scope, checkoutId: string): Load<Order | undefined> {
  return {
    text: `${SELECT_ORDER} WHERE orders.checkout_id = $1
      AND (orders.merchant_id, orders.livemode) IS NOT DISTINCT FROM ($2, $3)`,
    values: [checkoutId, scope.merchantId, scope.livemode],
    read: readOrder,
  };
}

/** A load that locks the order of a payment and reads it. */
export function lockOrderOfPayment(paymentId: string): Load<Order | undefined> {
  return {
    text: `${SELECT_ORDER} WHERE orders.id = (SELECT order_id FROM payments WHERE id = $1) FOR UPDATE OF orders`,
    values: [paymentId],
    read: readOrder,
  };
}

function readOrder(result: QueryResult): Order | undefined {
  const row = result.rows[0] as OrderRow | undefined;
  return row && toOrder(row);
}

export async function findOrderByCheckoutId(
  db: Queryable,
  scope: Scope,
  checkoutId: string,
  options: { forUpdate?: boolean } = {},
): Promise<Order | undefined> {
  const { rows } = await db.query<OrderRow>(
    `${SELECT_ORDER} WHERE orders.checkout_id = $1 AND (orders.merchant_id, orders.livemode) IS NOT DISTINCT FROM ($2, $3)
     ${options.forUpdate ? 'FOR UPDATE OF orders' : ''}`,
    [checkoutId, scope.merchantId, scope.livemode],
  );
  return rows[0] ? toOrder(rows[0]) : undefined;
}

/** Orders of several checkouts at once (list pages), keyed by checkout id. */
export async function findOrdersByCheckoutIds(
  db: Queryable,
  scope: Scope,
  checkoutIds: string[],
): Promise<Map<string, Order>> {
  if (checkoutIds.length === 0) return new Map();
  const { rows } = await db.query<OrderRow>(
    `${SELECT_ORDER} WHERE orders.checkout_id = ANY($1) AND orders.merchant_id = $2 AND orders.livemode = $3`,
    [checkoutIds, scope.merchantId, scope.livemode],
  );
  return new Map(rows.map((row) => [row.checkout_id, toOrder(row)]));
}

export type OrderListFilters = PageRequest & {
  merchantOrderId?: string | undefined;
  status?: OrderStatus | undefined;
};

/** A page of orders, newest first (`limit + 1` rows: src/db/pagination.ts). */
export async function listOrders(db: Queryable, scope: Scope, filters: OrderListFilters): Promise<Order[]> {
  const conditions: Sql[] = [];
  if (filters.merchantOrderId !== undefined)
    conditions.push((p) => `orders.merchant_order_id = ${p(filters.merchantOrderId)}`);
  if (filters.status !== undefined) conditions.push((p) => `orders.status = ${p(filters.status)}`);
  const rows = await fetchPage<OrderRow>(
    db,
    {
      alias: 'orders',
      from: orderJoins('orders'),
      columns: orderColumns('orders'),
      scope: [
        (p) => `orders.merchant_id = ${p(scope.merchantId)}`,
        (p) => `orders.livemode = ${p(scope.livemode)}`,
      ],
      filters: conditions,
    },
    filters,
  );
  return rows.map(toOrder);
}

/**
 * Writes an order's move (`transitionOrder`): its status and money as decided, guarded by the version it
 * was decided on (the caller holds the row lock, so the guard cannot miss).
 */
export function writeOrderMove(uow: UnitOfWork, before: Order, after: Order): void {
  uow.write(
    `UPDATE orders SET status = $1, authorized_amount = $2, captured_amount = $3, refunded_amount = $4,
       updated_at = $5, version = $6
     WHERE id = $7 AND version = $8`,
    [
      after.status,
      after.authorizedAmount,
      after.capturedAmount,
      after.refundedAmount,
      after.updatedAt,
      after.version,
      before.id,
      before.version,
    ],
  );
}
