import { createCspNonce } from '../../http/pages/page-security.ts';
import { PAGE } from '../kit.tsx';
import { CheckoutsPage } from '../pages/checkouts.tsx';
import { listCheckoutsWithOrders, parseCheckoutFilters } from '../shop-queries.ts';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';

/** Checkouts: every session of this mode with its status, amount and order. */
export function registerCheckoutRoutes(scope: KassaApp, kit: DashboardKit) {
  scope.get('/dashboard/checkouts', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const context = await kit.pageContext(request, reply);
    if (!context) return reply;
    kit.requirePermission(context, 'checkouts', 'read');
    const filters = parseCheckoutFilters((request.query ?? {}) as Record<string, unknown>);
    const { checkouts, hasMore } = await listCheckoutsWithOrders(kit.db, context.scope, filters);
    const nonce = createCspNonce();
    return kit.send(
      reply,
      200,
      nonce,
      <CheckoutsPage
        nonce={nonce}
        viewer={context.viewer}
        filters={filters}
        checkouts={checkouts}
        hasMore={hasMore}
      />,
    );
  });
}
