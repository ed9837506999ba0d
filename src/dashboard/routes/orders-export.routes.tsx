import { Readable } from 'node:stream';
import { ordersCsv } from '../orders-csv.ts';
import { parseOrderFilters } from '../queries.ts';
import { PAGE, userActor } from '../kit.tsx';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';

/** `GET /dashboard/orders.csv?<the list's filters>`: the orders list as a streamed CSV file. */
export function registerOrderExportRoutes(scope: KassaApp, kit: DashboardKit) {
  scope.get('/dashboard/orders.csv', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const context = await kit.pageContext(request, reply);
    if (!context) return reply;
    kit.requirePermission(context, 'orders', 'read');
    const filters = parseOrderFilters((request.query ?? {}) as Record<string, unknown>);
    // Customer data leaves the gateway in this file: the export is an act worth recording.
    await kit.audit(request, {
      merchantId: context.scope.merchantId,
      actor: userActor(context.session),
      action: 'orders.exported',
      details: { livemode: context.scope.livemode, filters: { ...filters, page: undefined } },
    });
    const day = kit.clock.now().toISOString().slice(0, 10);
    const mode = context.scope.livemode ? 'live' : 'test';
    return reply
      .code(200)
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="orders-${mode}-${day}.csv"`)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(Readable.from(ordersCsv(kit.db, context.scope, filters)));
  });
}
