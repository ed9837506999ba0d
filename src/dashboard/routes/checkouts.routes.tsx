import { CheckoutsPage } from '../pages/checkouts.tsx';
import { listCheckoutsWithOrders, parseCheckoutFilters } from '../shop-queries.ts';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';

/** Checkouts: every session of this mode with its status, amount and order. */
export function registerCheckoutRoutes(scope: KassaApp, kit: DashboardKit) {
  kit.readPage(scope, '/dashboard/checkouts', 'checkouts', async (request, reply, context) => {
    const filters = parseCheckoutFilters((request.query ?? {}) as Record<string, unknown>);
    const { checkouts, hasMore } = await listCheckoutsWithOrders(kit.db, context.scope, filters);
    return kit.sendPage(reply, 200, (nonce) => (
      <CheckoutsPage
        nonce={nonce}
        viewer={context.viewer}
        filters={filters}
        checkouts={checkouts}
        hasMore={hasMore}
      />
    ));
  });
}
