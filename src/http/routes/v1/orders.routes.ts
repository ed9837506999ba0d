import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import { presentOrder } from '../../../modules/orders/order.presenter.ts';
import { findOrder, listOrders } from '../../../modules/orders/order.repository.ts';
import { ZOrder } from '../../../modules/orders/order.schemas.ts';
import { ORDER_STATUSES } from '../../../modules/orders/order.states.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { ZListQuery, ZPage } from '../../pagination.ts';

/** Orders (SPEC §3), scoped to the caller's merchant and mode; a foreign id answers like a missing one. */

const zTimestampFilter = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp');

const ZOrderListQuery = ZListQuery.extend({
  merchant_order_id: z.string().max(255).optional().describe("The merchant's own order reference"),
  status: z.enum(ORDER_STATUSES).optional(),
  created_gte: zTimestampFilter.optional().describe('Only orders placed at or after this time'),
  created_lte: zTimestampFilter.optional().describe('Only orders placed at or before this time'),
});

export function registerOrderRoutes(app: KassaApp, services: Pick<Services, 'db'>) {
  app.get(
    '/v1/orders/:id',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['Orders'],
        summary: 'Retrieve an order',
        params: z.object({ id: z.string().max(100).describe('The order id (ord_…)') }),
        response: { 200: ZOrder },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const order = await findOrder(services.db, principal, request.params.id);
      if (!order) throw notFoundError('order', request.params.id);
      return presentOrder(order);
    },
  );

  app.get(
    '/v1/orders',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['Orders'],
        summary: 'List orders, newest first',
        querystring: ZOrderListQuery,
        response: { 200: ZPage(ZOrder) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const query = request.query;
      const orders = await listOrders(services.db, principal, {
        limit: query.limit,
        startingAfter: query.starting_after,
        merchantOrderId: query.merchant_order_id,
        status: query.status,
        createdGte: query.created_gte === undefined ? undefined : new Date(query.created_gte),
        createdLte: query.created_lte === undefined ? undefined : new Date(query.created_lte),
      });
      // toPage() wants items with an `id`; orders are identified by `order_id` (seed 004's name).
      const data = orders.slice(0, query.limit).map(presentOrder);
      const hasMore = orders.length > query.limit;
      return { data, has_more: hasMore, next_cursor: hasMore ? (data.at(-1)?.order_id ?? null) : null };
    },
  );
}
