import { z } from 'zod';
import { notFoundError, invalidStateError } from '../../../lib/errors.ts';
import {
  checkoutServiceDeps,
  closeCheckout,
  createCheckout,
  getCheckoutWithOrder,
  listCheckoutsWithOrders,
  replaceCheckoutOrder,
} from '../../../modules/checkouts/checkout.service.ts';
import { presentCheckout, withClientToken } from '../../../modules/checkouts/checkout.presenter.ts';
import {
  ZCheckout,
  ZCreateCheckout,
  ZReplaceCheckoutOrder,
} from '../../../modules/checkouts/checkout.schemas.ts';
import { CHECKOUT_STATUSES } from '../../../modules/checkouts/checkout.states.ts';
import {
  DEVICES,
  detectDevice,
  HIDING_RULES,
  PAYMENT_METHOD_TYPES,
} from '../../../modules/payment-methods/eligibility.ts';
import {
  ACCEPTABLE_CARD_BRANDS,
  evaluatePaymentMethodsOfCheckout,
} from '../../../modules/payment-methods/payment-method-settings.service.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { idempotencyHeader, respondIdempotently } from '../../idempotency.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';
import { expansions } from '../../expansions.ts';

/**
 * Checkout sessions (docs/state-machines.md) and the methods a session may offer (docs/checkouts.md). Every query is scoped to the
 * caller's merchant and mode: another merchant's (or mode's) checkout answers exactly like a missing one.
 */

const ZCheckoutParams = z.object({ id: z.string().max(100).describe('The checkout id (chk_…)') });

const ZCheckoutListQuery = ZListQuery.extend({
  status: z.enum(CHECKOUT_STATUSES).optional(),
  merchant_order_id: z.string().max(255).optional(),
  customer_id: z.string().max(100).optional(),
});

const ZPaymentMethodsQuery = z.object({
  device: z.enum(DEVICES).optional().describe("The shopper's device; default: detected from the User-Agent"),
  explain: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: also list every hidden method and the rule that hid it'),
});

// An evaluation of the checkout's rules at the moment of asking, not a list and not a stored object: no id or
// creation time of its own (docs/api-conventions.md §2).
const ZEligiblePaymentMethods = z
  .object({
    object: z.literal('payment_method_eligibility'),
    checkout_id: z.string(),
    livemode: z.boolean(),
    device: z.enum(DEVICES),
    payment_methods: z
      .array(
        z.object({
          type: z.enum(PAYMENT_METHOD_TYPES),
          display_order: z.number().int(),
          brands: z.array(z.string()).optional().describe('Card only: the accepted brands'),
        }),
      )
      .describe('In display order'),
    hidden: z
      .array(
        z.object({ type: z.enum(PAYMENT_METHOD_TYPES), rule: z.enum(HIDING_RULES), message: z.string() }),
      )
      .optional()
      .describe('Only with explain=true'),
  })
  .meta({ id: 'PaymentMethodEligibility' });

const IDEMPOTENCY_HEADER = idempotencyHeader();

export function registerCheckoutRoutes(app: KassaApp, services: Services) {
  const deps = checkoutServiceDeps(services);
  const present = (checkout: Parameters<typeof presentCheckout>[0], clientToken?: string) =>
    presentCheckout(checkout, deps, clientToken);
  // expand[] (docs/api-conventions.md §6); the order (and its customer) is always embedded.
  const expand = expansions(services, ZCheckout, ['payment_link']);

  app.post(
    '/v1/checkouts',
    {
      config: { auth: 'merchant', scope: 'checkouts', idempotency: 'transactional' },
      schema: {
        tags: ['Checkouts'],
        summary: 'Create a checkout session for an order',
        headers: IDEMPOTENCY_HEADER,
        body: ZCreateCheckout,
        response: { 201: ZCheckout },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      const scope = { merchantId: principal.merchantId, livemode: principal.livemode };
      return respondIdempotently(request, reply, services.db, 201, async (tx) => {
        const { resource, clientToken } = await createCheckout(tx, deps, scope, request.body);
        return withClientToken(resource, clientToken);
      });
    },
  );

  app.get(
    '/v1/checkouts',
    {
      config: { auth: 'merchant', scope: 'checkouts' },
      schema: {
        tags: ['Checkouts'],
        summary: 'List checkout sessions, newest first',
        querystring: ZCheckoutListQuery.extend(expand.listQuery),
        response: { 200: ZPage(ZCheckout.extend(expand.properties)) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const query = request.query;
      const page = toPageRequest(query);
      const rows = await listCheckoutsWithOrders(services.db, principal, {
        ...page,
        status: query.status,
        merchantOrderId: query.merchant_order_id,
        customerId: query.customer_id,
      });
      return expand.page(
        request,
        toPage(
          rows,
          page,
          (row) => present(row),
          (checkout) => checkout.checkout_id,
        ),
      );
    },
  );

  app.get(
    '/v1/checkouts/:id',
    {
      config: { auth: 'merchant', scope: 'checkouts' },
      schema: {
        tags: ['Checkouts'],
        summary: 'Retrieve a checkout session',
        params: ZCheckoutParams,
        querystring: z.object(expand.query),
        response: { 200: ZCheckout.extend(expand.properties) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      return expand.one(
        request,
        present(await getCheckoutWithOrder(services.db, principal, request.params.id)),
      );
    },
  );

  app.put(
    '/v1/checkouts/:id',
    {
      config: { auth: 'merchant', scope: 'checkouts' },
      schema: {
        tags: ['Checkouts'],
        summary: 'Replace the order of an open checkout before any payment has started',
        description:
          'Same order id; the order and session versions increase. 409 once a payment has started.',
        params: ZCheckoutParams,
        body: ZReplaceCheckoutOrder,
        response: { 200: ZCheckout },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const updated = await services.db.transaction((tx) =>
        replaceCheckoutOrder(tx, deps, principal, request.params.id, request.body.order),
      );
      return present(updated);
    },
  );

  app.post(
    '/v1/checkouts/:id/expire',
    {
      config: { auth: 'merchant', scope: 'checkouts', idempotency: 'transactional' },
      schema: {
        tags: ['Checkouts'],
        summary: 'Expire an open checkout now',
        description:
          'OPEN → EXPIRED; the order, if nothing was paid, becomes EXPIRED too. 409 from any other status.',
        headers: IDEMPOTENCY_HEADER,
        params: ZCheckoutParams,
        response: { 200: ZCheckout },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      return respondIdempotently(request, reply, services.db, 200, async (tx) =>
        present(await closeCheckout(tx, deps, principal, request.params.id, 'EXPIRED', { action: 'expire' })),
      );
    },
  );

  app.get(
    '/v1/checkouts/:id/payment-methods',
    {
      config: { auth: 'merchant_or_client_token', scope: 'checkouts' },
      schema: {
        tags: ['Checkouts'],
        summary: 'The payment methods this checkout may offer',
        description:
          "Merchant credentials, or the checkout's own client_token (ct_…). The device comes from `device` or " +
          'the User-Agent. With explain=true every hidden method is listed with the rule that hid it.',
        params: ZCheckoutParams,
        querystring: ZPaymentMethodsQuery,
        response: { 200: ZEligiblePaymentMethods },
      },
    },
    async (request) => {
      const { id } = request.params;
      const token = request.clientToken;
      // A client token opens its own checkout only; any other id answers like a missing one.
      if (token && token.checkoutId !== id) throw notFoundError('checkout', id);
      const scope = token ?? requireMerchant(request);
      const device = request.query.device ?? detectDevice(request.headers['user-agent']);
      const evaluated = await evaluatePaymentMethodsOfCheckout(
        services.db,
        services,
        { merchantId: scope.merchantId, livemode: scope.livemode },
        id,
        device,
      );
      if (!evaluated) throw notFoundError('checkout', id);
      if (evaluated.status !== 'OPEN') {
        throw invalidStateError('checkout', evaluated.status, ['OPEN'], 'list the payment methods of');
      }
      const { result } = evaluated;
      return {
        object: 'payment_method_eligibility' as const,
        checkout_id: id,
        livemode: scope.livemode,
        device,
        payment_methods: result.eligible.map((setting) =>
          setting.method === 'card'
            ? {
                type: setting.method,
                display_order: setting.display_order,
                brands: setting.card_brands ?? [...ACCEPTABLE_CARD_BRANDS],
              }
            : { type: setting.method, display_order: setting.display_order },
        ),
        ...(request.query.explain === 'true'
          ? {
              hidden: result.hidden.map((hidden) => ({
                type: hidden.method,
                rule: hidden.rule,
                message: hidden.message,
              })),
            }
          : {}),
      };
    },
  );
}
