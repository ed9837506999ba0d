import type { z } from 'zod';
import { LATEST_API_VERSION } from '../lib/api-versions.ts';
import type { ResourceScope } from '../modules/auth/scopes.ts';
import { presentCheckout } from '../modules/checkouts/checkout.presenter.ts';
import { findCheckouts } from '../modules/checkouts/checkout.repository.ts';
import { ZCheckout } from '../modules/checkouts/checkout.schemas.ts';
import { checkoutServiceDeps } from '../modules/checkouts/checkout.service.ts';
import { findCustomers } from '../modules/customers/customer.repository.ts';
import { ZCustomerObject } from '../modules/customers/customer.schemas.ts';
import { presentCustomerObject } from '../modules/customers/customer.service.ts';
import { findEventsWithDeliveryCounts } from '../modules/events/event.repository.ts';
import { presentOrder } from '../modules/orders/order.presenter.ts';
import { findOrders, findOrdersByCheckoutIds } from '../modules/orders/order.repository.ts';
import { ZOrder } from '../modules/orders/order.schemas.ts';
import { presentPaymentLink } from '../modules/payment-links/payment-link.presenter.ts';
import { findPaymentLinks } from '../modules/payment-links/payment-link.repository.ts';
import { ZPaymentLink } from '../modules/payment-links/payment-link.schemas.ts';
import { presentPayment } from '../modules/payments/payment.presenter.ts';
import { findPayments } from '../modules/payments/payment.repository.ts';
import { ZPayment } from '../modules/payments/payment.schemas.ts';
import { findWebhookEndpoints } from '../modules/webhooks/webhook-endpoint.repository.ts';
import type { Services } from '../services.ts';
import { readExpand, zExpandParameter } from './expand.ts';
import { requireMerchant } from './http.types.ts';
import { presentEvent, ZEvent } from './routes/v1/event.schemas.ts';
import { presentWebhookEndpoint, ZWebhookEndpoint } from './routes/v1/webhook-endpoint.schemas.ts';

/**
 * The objects `expand[]` can add (docs/api-conventions.md §6), one entry per object with its own `GET` route:
 * the read scope it needs, its schema and a loader that reads every id a page asks for in one query, scoped
 * to the caller's merchant and mode (another merchant's id is simply not found). Each is presented exactly
 * as its own `GET` answers it — a payment link as in its list, without the `qr_code` image.
 *
 * A route declares which `<object>_id` fields of its object it expands with `expansions(…)`; on a list the
 * paths are `data.<object>`. An object asked for is always present in the answer: the object, or `null`
 * when its id is `null` or names an object since deleted (customers, webhook endpoints).
 */

type Reader = { services: Services; scope: { merchantId: string; livemode: boolean }; apiVersion: string };
type Target = {
  scope: ResourceScope;
  /** Can the object be gone while ids still name it (soft-deleted: its own GET answers 404)? */
  deletable?: true;
  schema: z.ZodType;
  load(reader: Reader, ids: string[]): Promise<[string, unknown][]>;
};

const TARGETS = {
  order: {
    scope: 'orders',
    schema: ZOrder,
    load: async ({ services, scope }, ids) =>
      (await findOrders(services.db, scope, ids)).map((order) => [order.id, presentOrder(order)]),
  },
  checkout: {
    scope: 'checkouts',
    schema: ZCheckout,
    load: async ({ services, scope }, ids) => {
      const checkouts = await findCheckouts(services.db, scope, ids);
      const orders = await findOrdersByCheckoutIds(
        services.db,
        scope,
        checkouts.map((checkout) => checkout.id),
      );
      const deps = checkoutServiceDeps(services);
      return checkouts.map((checkout) => [
        checkout.id,
        presentCheckout({ checkout, order: orders.get(checkout.id)! }, deps),
      ]);
    },
  },
  payment: {
    scope: 'payments',
    schema: ZPayment,
    load: async ({ services, scope }, ids) =>
      (await findPayments(services.db, scope, ids)).map((payment) => [payment.id, presentPayment(payment)]),
  },
  payment_link: {
    scope: 'payment_links',
    schema: ZPaymentLink,
    load: async ({ services, scope }, ids) => {
      const deps = checkoutServiceDeps(services);
      return (await findPaymentLinks(services.db, scope, ids)).map((link) => [
        link.id,
        presentPaymentLink(link, deps),
      ]);
    },
  },
  customer: {
    scope: 'customers',
    deletable: true,
    schema: ZCustomerObject,
    load: async ({ services, scope }, ids) =>
      (await findCustomers(services.db, scope, ids)).map((customer) => [
        customer.id,
        presentCustomerObject(customer),
      ]),
  },
  event: {
    scope: 'webhooks',
    schema: ZEvent,
    load: async ({ services, scope, apiVersion }, ids) =>
      (await findEventsWithDeliveryCounts(services.db, scope, ids)).map((event) => [
        event.id,
        presentEvent(event, apiVersion),
      ]),
  },
  webhook_endpoint: {
    scope: 'webhooks',
    deletable: true,
    schema: ZWebhookEndpoint,
    load: async ({ services, scope }, ids) =>
      (await findWebhookEndpoints(services.db, scope, ids)).map((endpoint) => [
        endpoint.id,
        presentWebhookEndpoint(endpoint),
      ]),
  },
} satisfies Record<string, Target>;

export type Expandable = keyof typeof TARGETS;

type ExpandRequest = Parameters<typeof requireMerchant>[0] & {
  query: { 'expand[]'?: string | string[] | undefined };
  apiVersion?: string | undefined;
};

/**
 * What a route needs to expand `names` on its object (`item`, whose `<name>_id` fields they are): the query
 * parameter for the object and for a list of them, the optional properties for its response schema, and the
 * functions that fill them in.
 */
export function expansions<Name extends Expandable>(
  services: Services,
  item: z.ZodObject,
  names: readonly Name[],
) {
  const nullable = (name: Name) =>
    'deletable' in TARGETS[name] || item.shape[`${name}_id`]?.safeParse(null).success === true;
  const properties = Object.fromEntries(
    names.map((name) => {
      const schema: z.ZodType = TARGETS[name].schema;
      return [
        name,
        (nullable(name) ? schema.nullable() : schema)
          .optional()
          .describe(`With expand[]=${name}${nullable(name) ? ' (null when there is none)' : ''}`),
      ];
    }),
  ) as Record<Name, z.ZodOptional<z.ZodType>>;
  const objectPaths = Object.fromEntries(names.map((name) => [name, TARGETS[name].scope])) as Record<
    string,
    ResourceScope
  >;
  const listPaths = Object.fromEntries(names.map((name) => [`data.${name}`, TARGETS[name].scope])) as Record<
    string,
    ResourceScope
  >;

  async function expand<Item extends object>(
    request: ExpandRequest,
    items: Item[],
    paths: Set<string>,
  ): Promise<Item[]> {
    const asked = names.filter((name) => paths.has(name));
    if (asked.length === 0) return items;
    const principal = requireMerchant(request);
    const reader = {
      services,
      scope: { merchantId: principal.merchantId, livemode: principal.livemode },
      apiVersion: request.apiVersion ?? LATEST_API_VERSION,
    };
    const idOf = (row: object, name: Name) => (row as Record<string, unknown>)[`${name}_id`];
    const loaded = await Promise.all(
      asked.map(async (name) => {
        const ids = [...new Set(items.map((row) => idOf(row, name)))].filter(
          (id): id is string => typeof id === 'string',
        );
        const target: Target = TARGETS[name];
        const found = ids.length === 0 ? [] : await target.load(reader, ids);
        return [name, new Map<string, unknown>(found)] as const;
      }),
    );
    return items.map((row) => {
      const added: Record<string, unknown> = {};
      for (const [name, objects] of loaded) {
        // Entries of a mixed list (an order's timeline) that have no such id get no such field.
        if (!(`${name}_id` in row)) continue;
        const object = objects.get(idOf(row, name) as string);
        if (object !== undefined) added[name] = object;
        else if (nullable(name)) added[name] = null;
      }
      return { ...row, ...added };
    });
  }

  return {
    /** For the route's querystring schema: `expand[]` on the object. */
    query: zExpandParameter(Object.keys(objectPaths)),
    /** For a list's querystring schema: `expand[]=data.<name>`. */
    listQuery: zExpandParameter(Object.keys(listPaths)),
    /** To `.extend()` the object's response schema with. */
    properties,
    /** The object with what `expand[]` asked for. */
    async one<Item extends object>(request: ExpandRequest, object: Item): Promise<Item> {
      const paths = readExpand(request.query, requireMerchant(request), objectPaths);
      return (await expand(request, [object], paths))[0]!;
    },
    /** A list page whose items have what `expand[]=data.…` asked for. */
    async page<Page extends { data: object[] }>(request: ExpandRequest, page: Page): Promise<Page> {
      const asked = readExpand(request.query, requireMerchant(request), listPaths);
      const paths = new Set([...asked].map((path) => path.slice('data.'.length)));
      return { ...page, data: await expand(request, page.data, paths) };
    },
  };
}
