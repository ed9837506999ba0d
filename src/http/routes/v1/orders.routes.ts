import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import { CALLBACK_KINDS } from '../../../modules/callbacks/callback.types.ts';
import { buildOrderTimeline, type TimelineEntry } from '../../../modules/events/order-timeline.service.ts';
import { presentOrder } from '../../../modules/orders/order.presenter.ts';
import { findOrder, listOrders } from '../../../modules/orders/order.repository.ts';
import { ZOrder } from '../../../modules/orders/order.schemas.ts';
import { ORDER_STATUSES } from '../../../modules/orders/order.states.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';
import { expansions } from '../../expansions.ts';
import { presentAttempt, presentEvent, ZEvent, ZWebhookDeliveryAttempt } from './events.routes.ts';

/**
 * Orders (docs/checkouts.md) and each order's timeline (docs/events.md), scoped to the caller's merchant and
 * mode; a foreign id answers like a missing one.
 */

const ZOrderListQuery = ZListQuery.extend({
  merchant_order_id: z.string().max(255).optional().describe("The merchant's own order reference"),
  status: z.enum(ORDER_STATUSES).optional(),
});

const ZCallbackAttempt = z
  .object({
    kind: z.enum(CALLBACK_KINDS).describe('Which callback URL of the checkout was called'),
    payment_id: z.string(),
    checkout_id: z.string(),
    attempt_number: z.number().int().describe('For notifications: 1 for the first try, then each retry'),
    webhook_id: z.string().describe('The `webhook-id` header sent (the same on every retry)'),
    url: z.string(),
    status_code: z.number().int().nullable().describe('The HTTP status, or null when no answer arrived'),
    latency_ms: z.number().int(),
    result: z
      .enum(['html', 'redirect', 'error', 'accepted', 'refused', 'delivered', 'failed'])
      .describe(
        'ok / fail / open: html (page shown), redirect (shopper sent on) or error (Kassa error page); ' +
          'verify_order: accepted or refused; notification: delivered or failed',
      ),
    error: z.string().nullable(),
    response_excerpt: z.string().nullable().describe('The first 4 KiB of the response body'),
    response_truncated: z.boolean(),
    next_attempt_at: z
      .string()
      .nullable()
      .describe('For a failed notification: when it is tried again, if it is'),
  })
  .meta({ id: 'CallbackAttempt' });

const timelineEntryBase = {
  id: z
    .string()
    .describe(
      'The entry id, a cursor for this timeline: the event id, `<delivery id>.<attempt number>` or `cba_<n>`',
    ),
  at: z.string(),
};

const ZEventEntry = z.object({ kind: z.literal('event'), ...timelineEntryBase, event: ZEvent });
const ZWebhookAttemptEntry = z.object({
  kind: z.literal('webhook_attempt'),
  ...timelineEntryBase,
  event_id: z.string(),
  event_type: z.string(),
  delivery_id: z.string(),
  webhook_endpoint_id: z.string(),
  attempt: ZWebhookDeliveryAttempt,
});
const ZCallbackAttemptEntry = z.object({
  kind: z.literal('callback_attempt'),
  ...timelineEntryBase,
  attempt: ZCallbackAttempt,
});

export function registerOrderRoutes(app: KassaApp, services: Services) {
  // expand[] (docs/api-conventions.md §6); the customer is always embedded. A timeline's webhook attempts
  // name their event and endpoint (its event entries embed the event already).
  const expand = expansions(services, ZOrder, ['checkout']);
  const timelineExpand = expansions(services, ZWebhookAttemptEntry, ['event', 'webhook_endpoint']);
  app.get(
    '/v1/orders/:id',
    {
      config: { auth: 'merchant', scope: 'orders' },
      schema: {
        tags: ['Orders'],
        summary: 'Retrieve an order',
        params: z.object({ id: z.string().max(100).describe('The order id (ord_…)') }),
        querystring: z.object(expand.query),
        response: { 200: ZOrder.extend(expand.properties) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const order = await findOrder(services.db, principal, request.params.id);
      if (!order) throw notFoundError('order', request.params.id);
      return expand.one(request, presentOrder(order));
    },
  );

  app.get(
    '/v1/orders',
    {
      config: { auth: 'merchant', scope: 'orders' },
      schema: {
        tags: ['Orders'],
        summary: 'List orders, newest first',
        querystring: ZOrderListQuery.extend(expand.listQuery),
        response: { 200: ZPage(ZOrder.extend(expand.properties)) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const query = request.query;
      const page = toPageRequest(query);
      const orders = await listOrders(services.db, principal, {
        ...page,
        merchantOrderId: query.merchant_order_id,
        status: query.status,
      });
      return expand.page(
        request,
        toPage(orders, page, presentOrder, (order) => order.order_id),
      );
    },
  );

  app.get(
    '/v1/orders/:id/timeline',
    {
      config: { auth: 'merchant', scope: 'orders' },
      schema: {
        tags: ['Orders'],
        summary: "List an order's timeline, newest first",
        description:
          "The order's state changes (events), every webhook attempt about them and every request to the merchant's " +
          'callback URLs, newest first (at the same instant, the notifications before the state change they are ' +
          'about) — one place to see what happened and what the merchant was told.',
        params: z.object({ id: z.string().max(100) }),
        querystring: ZListQuery.extend(timelineExpand.listQuery),
        response: {
          200: ZPage(
            z
              .discriminatedUnion('kind', [
                ZEventEntry,
                ZWebhookAttemptEntry.extend(timelineExpand.properties),
                ZCallbackAttemptEntry,
              ])
              .meta({ id: 'OrderTimelineEntry' }),
          ),
        },
      },
    },
    async (request) => {
      const scope = requireMerchant(request);
      const page = toPageRequest(request.query);
      const { entries, hasMore, nextCursor } = await buildOrderTimeline(
        services.db,
        scope,
        request.params.id,
        page,
      );
      return timelineExpand.page(request, {
        object: 'list' as const,
        data: entries.map(presentTimelineEntry),
        has_more: hasMore,
        next_cursor: nextCursor,
      });
    },
  );
}

function presentTimelineEntry(
  entry: TimelineEntry,
): z.infer<typeof ZEventEntry | typeof ZWebhookAttemptEntry | typeof ZCallbackAttemptEntry> {
  switch (entry.kind) {
    case 'event':
      return { kind: 'event', id: entry.id, at: entry.at.toISOString(), event: presentEvent(entry.event) };
    case 'webhook_attempt':
      return {
        kind: 'webhook_attempt',
        id: entry.id,
        at: entry.at.toISOString(),
        event_id: entry.attempt.eventId,
        event_type: entry.attempt.eventType,
        delivery_id: entry.attempt.deliveryId,
        webhook_endpoint_id: entry.attempt.endpointId,
        attempt: presentAttempt(entry.attempt),
      };
    case 'callback_attempt':
      return {
        kind: 'callback_attempt',
        id: entry.id,
        at: entry.at.toISOString(),
        attempt: {
          kind: entry.attempt.kind,
          payment_id: entry.attempt.paymentId,
          checkout_id: entry.attempt.checkoutId,
          attempt_number: entry.attempt.attemptNumber,
          webhook_id: entry.attempt.webhookId,
          url: entry.attempt.url,
          status_code: entry.attempt.statusCode,
          latency_ms: entry.attempt.durationMs,
          result: entry.attempt.result,
          error: entry.attempt.error,
          response_excerpt: entry.attempt.responseExcerpt,
          response_truncated: entry.attempt.responseTruncated,
          next_attempt_at: entry.attempt.nextAttemptAt?.toISOString() ?? null,
        },
      };
    default: {
      const unknown: never = entry;
      throw new Error(`unhandled timeline entry ${JSON.stringify(unknown)}`);
    }
  }
}
