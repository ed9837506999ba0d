import { z } from 'zod';
import {
  createCustomer,
  deleteCustomer,
  getCustomer,
  listCustomerPage,
  patchCustomer,
  presentCustomerObject,
} from '../../../modules/customers/customer.service.ts';
import {
  zCustomerCreate,
  ZCustomerObject,
  zCustomerListQuery,
  zCustomerUpdate,
  ZDeletedCustomer,
} from '../../../modules/customers/customer.schemas.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { respondIdempotently } from '../../idempotency.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';

/**
 * Customers (docs/customers.md): create, read, list, update, delete. Every query is scoped to the caller's
 * merchant and mode: another merchant's (or mode's) customer answers exactly like a missing one. Saved cards
 * live under a customer (customer-payment-methods.routes.ts).
 */

const ZCustomerParams = z.object({ id: z.string().max(100).describe('The customer id (cus_…)') });

export function registerCustomerRoutes(app: KassaApp, services: Pick<Services, 'db' | 'clock'>) {
  const tags = ['Customers'];
  const scopeOf = (request: Parameters<typeof requireMerchant>[0]) => {
    const principal = requireMerchant(request);
    return { merchantId: principal.merchantId, livemode: principal.livemode };
  };

  app.post(
    '/v1/customers',
    {
      config: { auth: 'merchant', scope: 'customers', idempotency: 'transactional' },
      schema: {
        tags,
        summary: 'Create a customer',
        description:
          'One customer per e-mail address (compared case-insensitively) in each mode: an address another ' +
          'customer already has is a 409 `conflict` naming that customer (`customer_id`). A checkout whose ' +
          'order carries this address uses this customer.',
        body: zCustomerCreate,
        response: { 201: ZCustomerObject },
      },
    },
    async (request, reply) => {
      const scope = scopeOf(request);
      const body = request.body;
      return respondIdempotently(request, reply, services.db, 201, async (tx) =>
        presentCustomerObject(await createCustomer(tx, services, scope, body)),
      );
    },
  );

  app.get(
    '/v1/customers',
    {
      config: { auth: 'merchant', scope: 'customers' },
      schema: {
        tags,
        summary: 'List customers (not deleted), newest first',
        querystring: ZListQuery.extend(zCustomerListQuery.shape),
        response: { 200: ZPage(ZCustomerObject) },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const page = toPageRequest(request.query);
      const customers = await listCustomerPage(services.db, scope, page, { email: request.query.email });
      return toPage(customers, page, presentCustomerObject, (customer) => customer.id);
    },
  );

  app.get(
    '/v1/customers/:id',
    {
      config: { auth: 'merchant', scope: 'customers' },
      schema: {
        tags,
        summary: 'Retrieve a customer',
        description: 'A deleted customer answers 404, like one that never existed.',
        params: ZCustomerParams,
        response: { 200: ZCustomerObject },
      },
    },
    async (request) =>
      presentCustomerObject(await getCustomer(services.db, scopeOf(request), request.params.id)),
  );

  app.patch(
    '/v1/customers/:id',
    {
      config: { auth: 'merchant', scope: 'customers' },
      schema: {
        tags,
        summary: 'Update a customer',
        description:
          'A JSON merge patch: omitted fields are kept, `null` clears `first_name`, `last_name` or `phone`; ' +
          '`metadata` merges key by key (a key set to null is removed; `null` removes every key). A patch that ' +
          'changes nothing keeps `version`.',
        params: ZCustomerParams,
        body: zCustomerUpdate,
        response: { 200: ZCustomerObject },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const customer = await services.db.transaction((tx) =>
        patchCustomer(tx, services, scope, request.params.id, request.body),
      );
      return presentCustomerObject(customer);
    },
  );

  app.delete(
    '/v1/customers/:id',
    {
      config: { auth: 'merchant', scope: 'customers' },
      schema: {
        tags,
        summary: 'Delete a customer',
        description:
          'Its saved cards are removed at once (the encrypted card data is wiped) and its e-mail address is ' +
          'free: the next checkout with it makes a new customer. Its past orders and payments keep working ' +
          '(captures, refunds) and keep showing the customer. Afterwards the customer answers 404.',
        params: ZCustomerParams,
        response: { 200: ZDeletedCustomer },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const { id } = request.params;
      await services.db.transaction((tx) => deleteCustomer(tx, services, scope, id));
      return { id, object: 'customer' as const, deleted: true as const };
    },
  );
}
