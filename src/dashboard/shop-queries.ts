import type { Queryable } from '../db/client.ts';
import { CHECKOUT_STATUSES, type CheckoutStatus } from '../modules/checkouts/checkout.states.ts';

/** The checkouts page's read query: sessions with their order, scoped by merchant and mode like the API's. */

export const CHECKOUTS_PAGE_SIZE = 25;

export type CheckoutListItem = {
  id: string;
  status: CheckoutStatus;
  createdAt: Date;
  expiresAt: Date;
  paymentLinkId: string | null;
  orderId: string;
  merchantOrderId: string;
  totalAmount: number;
  currency: string;
};

export type CheckoutFilters = { status?: CheckoutStatus; page: number };

export function parseCheckoutFilters(query: Record<string, unknown>): CheckoutFilters {
  const status = typeof query.status === 'string' ? query.status : undefined;
  const page = Number(typeof query.page === 'string' ? query.page : '1');
  return {
    status:
      status && (CHECKOUT_STATUSES as readonly string[]).includes(status)
        ? (status as CheckoutStatus)
        : undefined,
    page: Number.isInteger(page) && page >= 1 && page <= 10_000 ? page : 1,
  };
}

export async function listCheckoutsWithOrders(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  filters: CheckoutFilters,
): Promise<{ checkouts: CheckoutListItem[]; hasMore: boolean }> {
  const { rows } = await db.query<{
    id: string;
    status: CheckoutStatus;
    created_at: Date;
    expires_at: Date;
    payment_link_id: string | null;
    order_id: string;
    merchant_order_id: string;
    total_amount: string;
    currency: string;
  }>(
    `SELECT c.id, c.status, c.created_at, c.expires_at, c.payment_link_id,
            o.id AS order_id, o.merchant_order_id, o.total_amount::text AS total_amount, o.currency
       FROM checkouts c JOIN orders o ON o.checkout_id = c.id
      WHERE c.merchant_id = $1 AND c.livemode = $2 AND ($3::text IS NULL OR c.status = $3)
      ORDER BY c.created_at DESC, c.id DESC
      LIMIT $4 OFFSET $5`,
    [
      scope.merchantId,
      scope.livemode,
      filters.status ?? null,
      CHECKOUTS_PAGE_SIZE + 1,
      (filters.page - 1) * CHECKOUTS_PAGE_SIZE,
    ],
  );
  return {
    checkouts: rows.slice(0, CHECKOUTS_PAGE_SIZE).map((row) => ({
      id: row.id,
      status: row.status,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      paymentLinkId: row.payment_link_id,
      orderId: row.order_id,
      merchantOrderId: row.merchant_order_id,
      totalAmount: Number(row.total_amount),
      currency: row.currency,
    })),
    hasMore: rows.length > CHECKOUTS_PAGE_SIZE,
  };
}
