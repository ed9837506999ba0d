import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import { findCustomer } from '../../../modules/customers/customer.service.ts';
import {
  listCustomerSavedCards,
  presentSavedCard,
  removeCustomerSavedCard,
} from '../../../modules/payments/saved-payment-method.service.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';
import { expansions } from '../../expansions.ts';

/**
 * Cards a customer saved on the hosted page (`allow_save_payment_methods`). Merchants can list and remove
 * them; removing wipes the encrypted card data at once. Card numbers never leave Kassa: only brand, last 4
 * and expiry are shown.
 */

const ZSavedPaymentMethod = z
  .object({
    object: z.literal('payment_method'),
    id: z.string(),
    livemode: z.boolean(),
    type: z.literal('card'),
    customer_id: z.string(),
    card: z.object({
      brand: z.string(),
      last4: z.string(),
      exp_month: z.number().int(),
      exp_year: z.number().int(),
    }),
    created_at: z.string(),
  })
  .meta({ id: 'SavedPaymentMethod' });

const ZCustomerParams = z.object({ id: z.string().max(100).describe('The customer id (cus_…)') });
const ZPaymentMethodParams = ZCustomerParams.extend({
  pm_id: z.string().max(100).describe('The saved payment method id (pm_…)'),
});

export function registerCustomerPaymentMethodRoutes(app: KassaApp, services: Services) {
  // expand[]=data.customer (docs/api-conventions.md §6).
  const expand = expansions(services, ZSavedPaymentMethod, ['customer']);
  app.get(
    '/v1/customers/:id/payment-methods',
    {
      config: { auth: 'merchant', scope: 'customers' },
      schema: {
        tags: ['Customers'],
        summary: "A customer's saved cards (not removed), newest first",
        params: ZCustomerParams,
        querystring: ZListQuery.extend(expand.listQuery),
        response: { 200: ZPage(ZSavedPaymentMethod.extend(expand.properties)) },
      },
    },
    async (request) => {
      const scope = requireMerchant(request);
      const customer = await findCustomer(services.db, scope, request.params.id);
      if (!customer) throw notFoundError('customer', request.params.id);
      const page = toPageRequest(request.query);
      const cards = await listCustomerSavedCards(services.db, scope, customer.id, page);
      return expand.page(
        request,
        toPage(cards, page, presentSavedCard, (card) => card.id),
      );
    },
  );

  app.delete(
    '/v1/customers/:id/payment-methods/:pm_id',
    {
      config: { auth: 'merchant', scope: 'customers' },
      schema: {
        tags: ['Customers'],
        summary: 'Remove a saved card: its encrypted card data is wiped and it is no longer offered',
        params: ZPaymentMethodParams,
        response: {
          200: z.object({ object: z.literal('payment_method'), id: z.string(), deleted: z.literal(true) }),
        },
      },
    },
    async (request) => {
      const scope = requireMerchant(request);
      const { id, pm_id: paymentMethodId } = request.params;
      const customer = await findCustomer(services.db, scope, id);
      if (!customer) throw notFoundError('customer', id);
      const removed = await removeCustomerSavedCard(
        services.db,
        services,
        scope,
        customer.id,
        paymentMethodId,
      );
      if (!removed) throw notFoundError('payment method', paymentMethodId);
      return { object: 'payment_method' as const, id: paymentMethodId, deleted: true as const };
    },
  );
}
