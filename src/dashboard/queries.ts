import type { Queryable } from '../db/client.ts';
import { ORDER_STATUSES, type OrderStatus } from '../modules/orders/order.states.ts';
import { selectOrderFrom, toOrder, type OrderRow } from '../modules/orders/order.repository.ts';
import type { Order } from '../modules/orders/order.types.ts';

/**
 * The dashboard's read-only queries: the orders list with search and filters, and the home page's figures.
 * Every query is scoped by merchant and mode, like the API's.
 */

type Scope = { merchantId: string; livemode: boolean };

export const PAGE_SIZE = 25;
const METHODS = ['card', 'invoice', 'wallet'] as const;

export type OrderFilters = {
  /** Merchant order id, order id, customer e-mail, last 4 of the card, payment id, or an amount (12.50). */
  q?: string;
  status?: OrderStatus;
  method?: (typeof METHODS)[number];
  /** `YYYY-MM-DD`, inclusive, in UTC. */
  from?: string;
  to?: string;
  page: number;
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Reads the filters from the query string, dropping anything not valid (so a bad link shows everything). */
export function parseOrderFilters(query: Record<string, unknown>): OrderFilters {
  const text = (name: string) => {
    const value = query[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 200) : undefined;
  };
  const status = text('status');
  const method = text('method');
  const from = text('from');
  const to = text('to');
  const page = Number(text('page') ?? '1');
  return {
    q: text('q'),
    status:
      status && (ORDER_STATUSES as readonly string[]).includes(status) ? (status as OrderStatus) : undefined,
    method:
      method && (METHODS as readonly string[]).includes(method)
        ? (method as OrderFilters['method'])
        : undefined,
    from: from && DATE.test(from) && !Number.isNaN(Date.parse(from)) ? from : undefined,
    to: to && DATE.test(to) && !Number.isNaN(Date.parse(to)) ? to : undefined,
    page: Number.isInteger(page) && page >= 1 && page <= 10_000 ? page : 1,
  };
}

/** An amount as typed (`12`, `12.5`, `12.50`, `12,50`) in minor units of a two-decimal currency. */
export function amountFromSearch(q: string): number | null {
  const match = /^(\d{1,12})(?:[.,](\d{1,2}))?$/.exec(q);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
}

/**
 * The orders matching `filters`, newest first: a page (`offset`) for the list, or the rows after `afterId`
 * (keyset on its stored (created_at, id), full precision, so a long export never skips or
 * repeats a row while new orders arrive) for the CSV export.
 */
async function queryOrders(
  db: Queryable,
  scope: Scope,
  filters: OrderFilters,
  window: { limit: number; offset?: number; afterId?: string },
): Promise<Order[]> {
  const q = filters.q ?? null;
  const { rows } = await db.query<OrderRow>(
    `${selectOrderFrom('orders')}
      WHERE orders.merchant_id = $1 AND orders.livemode = $2
        AND ($3::text IS NULL OR orders.status = $3)
        AND ($4::date IS NULL OR orders.created_at >= $4::date)
        AND ($5::date IS NULL OR orders.created_at < $5::date + 1)
        AND ($6::text IS NULL OR orders.merchant_order_id = $6 OR orders.id = $6
             OR customers.email_normalized = lower($6)
             OR orders.total_amount = $7::bigint
             OR EXISTS (SELECT 1 FROM payments p WHERE p.order_id = orders.id
                          AND (p.id = $6 OR p.card_last4 = $6)))
        AND ($8::text IS NULL OR EXISTS (SELECT 1 FROM payments p WHERE p.order_id = orders.id AND p.method = $8))
        AND ($11::text IS NULL OR (orders.created_at, orders.id) <
             (SELECT cursor.created_at, cursor.id FROM orders cursor WHERE cursor.id = $11))
      ORDER BY orders.created_at DESC, orders.id DESC
      LIMIT $9 OFFSET $10`,
    [
      scope.merchantId,
      scope.livemode,
      filters.status ?? null,
      filters.from ?? null,
      filters.to ?? null,
      q,
      q === null ? null : amountFromSearch(q),
      filters.method ?? null,
      window.limit,
      window.offset ?? 0,
      window.afterId ?? null,
    ],
  );
  return rows.map(toOrder);
}

export async function searchOrders(
  db: Queryable,
  scope: Scope,
  filters: OrderFilters,
): Promise<{ orders: Order[]; hasMore: boolean }> {
  const rows = await queryOrders(db, scope, filters, {
    limit: PAGE_SIZE + 1,
    offset: (filters.page - 1) * PAGE_SIZE,
  });
  return { orders: rows.slice(0, PAGE_SIZE), hasMore: rows.length > PAGE_SIZE };
}

/**
 * Every order the list shows for `filters` (all its pages), in batches, newest first, at most `maxRows`; then
 * whether there were more. Each batch is one query, so an export holds no transaction or cursor open.
 */
export async function* exportOrders(
  db: Queryable,
  scope: Scope,
  filters: OrderFilters,
  options: { maxRows: number; batchSize?: number },
): AsyncGenerator<Order[], { truncated: boolean }> {
  const batchSize = options.batchSize ?? 1000;
  let afterId: string | undefined;
  let sent = 0;
  for (;;) {
    const want = Math.min(batchSize, options.maxRows - sent);
    // One row more than allowed tells a full export from a cut one.
    const rows = await queryOrders(db, scope, filters, { limit: want + 1, ...(afterId ? { afterId } : {}) });
    const batch = rows.slice(0, want);
    if (batch.length > 0) yield batch;
    sent += batch.length;
    if (rows.length <= want) return { truncated: false };
    if (sent >= options.maxRows) return { truncated: true };
    afterId = batch.at(-1)!.id;
  }
}

export type StatusFigure = { status: OrderStatus; currency: string; count: number; volume: number };
export type DayFigure = { day: string; count: number; paid: number };

export type HomeFigures = {
  today: StatusFigure[];
  last30: StatusFigure[];
  days: DayFigure[];
  attention: {
    stuckPayments: number;
    pendingRefunds: number;
    failingEndpoints: number;
    failedDeliveries: number;
  };
};

const PAID_STATUSES = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'];

export async function homeFigures(db: Queryable, scope: Scope, now: Date): Promise<HomeFigures> {
  const startOfToday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const start30 = new Date(startOfToday.getTime() - 29 * 86_400_000);
  const byStatus = async (since: Date) =>
    (
      await db.query<{ status: OrderStatus; currency: string; count: number; volume: string }>(
        `SELECT status, currency, count(*)::int AS count, sum(total_amount)::text AS volume
           FROM orders WHERE merchant_id = $1 AND livemode = $2 AND created_at >= $3
          GROUP BY status, currency ORDER BY currency, status`,
        [scope.merchantId, scope.livemode, since],
      )
    ).rows.map((row) => ({ ...row, volume: Number(row.volume) }));
  const [today, last30] = [await byStatus(startOfToday), await byStatus(start30)];
  const { rows: dayRows } = await db.query<{ day: string; count: number; paid: number }>(
    `SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
            count(o.id)::int AS count,
            count(o.id) FILTER (WHERE o.status = ANY($4))::int AS paid
       FROM generate_series($3::timestamptz, $3::timestamptz + interval '29 days', interval '1 day') AS d(day)
       LEFT JOIN orders o ON o.merchant_id = $1 AND o.livemode = $2
             AND o.created_at >= d.day AND o.created_at < d.day + interval '1 day'
      GROUP BY d.day ORDER BY d.day`,
    [scope.merchantId, scope.livemode, start30, PAID_STATUSES],
  );
  const { rows: attention } = await db.query<HomeFigures['attention']>(
    `SELECT
       (SELECT count(*)::int FROM payments WHERE merchant_id = $1 AND livemode = $2
           AND processing_since < $3::timestamptz - interval '5 minutes') AS "stuckPayments",
       (SELECT count(*)::int FROM refunds WHERE merchant_id = $1 AND livemode = $2 AND status = 'PENDING')
         AS "pendingRefunds",
       (SELECT count(*)::int FROM webhook_endpoints WHERE merchant_id = $1 AND livemode = $2
           AND deleted_at IS NULL AND status = 'disabled') AS "failingEndpoints",
       (SELECT count(*)::int FROM webhook_deliveries WHERE merchant_id = $1 AND livemode = $2
           AND status = 'failed' AND created_at >= $3::timestamptz - interval '30 days') AS "failedDeliveries"`,
    [scope.merchantId, scope.livemode, now],
  );
  return { today, last30, days: dayRows, attention: attention[0]! };
}
