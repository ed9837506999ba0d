import { z } from 'zod';
import { zMetadataPatch } from '../../../lib/metadata.ts';
import { updateCheckout } from '../../../modules/checkouts/checkout-metadata.ts';
import { presentCheckout } from '../../../modules/checkouts/checkout.presenter.ts';
import { ZCheckout } from '../../../modules/checkouts/checkout.schemas.ts';
import { checkoutServiceDeps } from '../../../modules/checkouts/checkout.service.ts';
import { updateOrder } from '../../../modules/orders/order-metadata.ts';
import { presentOrder } from '../../../modules/orders/order.presenter.ts';
import { ZOrder } from '../../../modules/orders/order.schemas.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';

/**
 * The metadata `PATCH` of checkouts and orders (docs/api-conventions.md, Metadata): the one body and merge of
 * every metadata PATCH, in any status. Beside the other checkout and order routes, in a file of its own.
 */
export function registerCheckoutOrderMetadataRoutes(app: KassaApp, services: Services) {
  const deps = checkoutServiceDeps(services);
  const body = z.strictObject({ metadata: zMetadataPatch.optional() });
  const merge =
    '`metadata` only, merged key by key (a key set to null is removed; null removes every key), in any status. ' +
    'A change raises `version`; a patch that changes nothing writes nothing and keeps it.';

  app.patch(
    '/v1/checkouts/:id',
    {
      config: { auth: 'merchant', scope: 'checkouts' },
      schema: {
        tags: ['Checkouts'],
        summary: 'Update a checkout session',
        description: `${merge} The session's own metadata, not its order's (PATCH /v1/orders/{id}); a change writes checkout.updated.`,
        params: z.object({ id: z.string().max(100).describe('The checkout id (chk_…)') }),
        body,
        response: { 200: ZCheckout },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const updated = await services.db.transaction((tx) =>
        updateCheckout(tx, deps, principal, request.params.id, request.body, services.clock.now()),
      );
      return presentCheckout(updated, deps);
    },
  );

  app.patch(
    '/v1/orders/:id',
    {
      config: { auth: 'merchant', scope: 'orders' },
      schema: {
        tags: ['Orders'],
        summary: 'Update an order',
        description: `${merge} A change writes order.updated.`,
        params: z.object({ id: z.string().max(100).describe('The order id (ord_…)') }),
        body,
        response: { 200: ZOrder },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const order = await services.db.transaction((tx) =>
        updateOrder(tx, principal, request.params.id, request.body, services.clock.now()),
      );
      return presentOrder(order);
    },
  );
}
