import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import { redeliverEvent } from '../../../modules/events/event-redelivery.service.ts';
import {
  findEvent,
  findEventWithDeliveryCounts,
  listEvents,
} from '../../../modules/events/event.repository.ts';
import { EVENT_TYPES } from '../../../modules/events/event.types.ts';
import {
  API_DELIVERY_STATUS,
  API_DELIVERY_STATUSES,
  listEventDeliveries,
  type WebhookDelivery,
} from '../../../outbox/webhook-delivery-history.repository.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { respondIdempotently } from '../../idempotency.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';
import { presentEvent, ZEvent, ZEventActor } from './event.schemas.ts';
import { expansions } from '../../expansions.ts';

export { presentEvent, ZEvent, ZEventActor };

export const ZWebhookDeliveryAttempt = z
  .object({
    attempt_number: z.number().int(),
    attempted_at: z.string(),
    url: z.string(),
    status_code: z.number().int().nullable().describe('The HTTP status, or null when no answer arrived'),
    latency_ms: z.number().int(),
    result: z.enum(['succeeded', 'failed']),
    error: z.string().nullable(),
    response_excerpt: z.string().nullable().describe('The first 4 KiB of the response body'),
    response_truncated: z.boolean(),
    next_attempt_at: z.string().nullable().describe('When the failed delivery is tried again, if it is'),
  })
  .meta({ id: 'WebhookDeliveryAttempt' });

export const ZWebhookDelivery = z
  .object({
    id: z.string(),
    object: z.literal('webhook_delivery'),
    livemode: z.boolean(),
    event_id: z.string(),
    webhook_endpoint_id: z.string(),
    origin: z.enum(['event', 'redelivery']),
    status: z.enum(API_DELIVERY_STATUSES),
    attempt_count: z.number().int(),
    next_attempt_at: z.string().nullable(),
    last_error: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    attempts: z.array(ZWebhookDeliveryAttempt),
  })
  .meta({ id: 'WebhookDelivery' });

export function presentAttempt(
  attempt: WebhookDelivery['attempts'][number],
): z.infer<typeof ZWebhookDeliveryAttempt> {
  return {
    attempt_number: attempt.number,
    attempted_at: attempt.attemptedAt.toISOString(),
    url: attempt.url,
    status_code: attempt.statusCode,
    latency_ms: attempt.latencyMs,
    result: attempt.result,
    error: attempt.error,
    response_excerpt: attempt.responseExcerpt,
    response_truncated: attempt.responseTruncated,
    next_attempt_at: attempt.nextAttemptAt?.toISOString() ?? null,
  };
}

export function presentDelivery(delivery: WebhookDelivery): z.infer<typeof ZWebhookDelivery> {
  return {
    id: delivery.id,
    object: 'webhook_delivery',
    livemode: delivery.livemode,
    event_id: delivery.eventId,
    webhook_endpoint_id: delivery.endpointId,
    origin: delivery.origin,
    status: API_DELIVERY_STATUS[delivery.status],
    attempt_count: delivery.attemptCount,
    next_attempt_at: delivery.nextAttemptAt?.toISOString() ?? null,
    last_error: delivery.lastError,
    created_at: delivery.createdAt.toISOString(),
    completed_at: delivery.completedAt?.toISOString() ?? null,
    attempts: delivery.attempts.map(presentAttempt),
  };
}

const ZParams = z.object({ id: z.string().max(100) });

export function registerEventRoutes(app: KassaApp, services: Services) {
  const tags = ['Events'];
  // expand[] (docs/api-conventions.md §6): what an event is about; a delivery's event and endpoint.
  const expand = expansions(services, ZEvent, ['order', 'checkout', 'payment']);
  const deliveryExpand = expansions(services, ZWebhookDelivery, ['event', 'webhook_endpoint']);

  app.get(
    '/v1/events',
    {
      config: { auth: 'merchant', scope: 'webhooks' },
      schema: {
        tags,
        summary: 'List events',
        description: 'Newest first (events written together: in the order they were written).',
        querystring: ZListQuery.extend({
          type: z.enum(EVENT_TYPES).optional(),
          order_id: z.string().max(100).optional().describe('Only events of this order (ord_…)'),
          checkout_id: z
            .string()
            .max(100)
            .optional()
            .describe('Only events of this checkout session (chk_…)'),
          ...expand.listQuery,
        }),
        response: { 200: ZPage(ZEvent.extend(expand.properties)) },
      },
    },
    async (request) => {
      const scope = requireMerchant(request);
      const query = request.query;
      const page = toPageRequest(query);
      const rows = await listEvents(
        services.db,
        scope,
        { type: query.type, orderId: query.order_id, checkoutId: query.checkout_id },
        page,
      );
      return expand.page(
        request,
        toPage(
          rows,
          page,
          (event) => presentEvent(event, request.apiVersion),
          (event) => event.id,
        ),
      );
    },
  );

  app.get(
    '/v1/events/:id',
    {
      config: { auth: 'merchant', scope: 'webhooks' },
      schema: {
        tags,
        summary: 'Retrieve an event',
        params: ZParams,
        querystring: z.object(expand.query),
        response: { 200: ZEvent.extend(expand.properties) },
      },
    },
    async (request) => {
      const scope = requireMerchant(request);
      const event = await findEventWithDeliveryCounts(services.db, scope, request.params.id);
      if (!event) throw notFoundError('event', request.params.id);
      return expand.one(request, presentEvent(event, request.apiVersion));
    },
  );

  app.get(
    '/v1/events/:id/deliveries',
    {
      config: { auth: 'merchant', scope: 'webhooks' },
      schema: {
        tags,
        summary: "List an event's webhook deliveries",
        description:
          'Newest delivery first; each carries every attempt (time, URL, status, latency, response excerpt, error). ' +
          'Retention: an attempt of a finished delivery keeps its response_excerpt for 30 days ' +
          '(KASSA_RETENTION_WEBHOOK_BODY_DAYS), then it is null; finished deliveries are deleted after 365 days ' +
          '(KASSA_RETENTION_WEBHOOK_HISTORY_DAYS), and are then missing from this list.',
        params: ZParams,
        querystring: ZListQuery.extend(deliveryExpand.listQuery),
        response: { 200: ZPage(ZWebhookDelivery.extend(deliveryExpand.properties)) },
      },
    },
    async (request) => {
      const scope = requireMerchant(request);
      const { id } = request.params;
      if (!(await findEvent(services.db, scope, id))) throw notFoundError('event', id);
      const page = toPageRequest(request.query);
      const rows = await listEventDeliveries(services.db, scope, id, page);
      return deliveryExpand.page(
        request,
        toPage(rows, page, presentDelivery, (delivery) => delivery.id),
      );
    },
  );

  const ZRedeliverBody = z.strictObject({
    webhook_endpoint_id: z
      .string()
      .max(100)
      .optional()
      .describe('Send to this endpoint only; default: every enabled endpoint subscribed to the type'),
  });

  app.post(
    '/v1/events/:id/redeliver',
    {
      config: { auth: 'merchant', scope: 'webhooks', idempotency: 'transactional' },
      schema: {
        tags,
        summary: 'Redeliver an event',
        description:
          'New deliveries of the event — to every enabled endpoint subscribed to its type, or only to ' +
          '`webhook_endpoint_id`. They carry the same `webhook-id` as the original delivery. The answer lists ' +
          'the new deliveries.',
        params: ZParams,
        body: ZRedeliverBody.nullish(),
        response: {
          202: z
            .object({
              object: z.literal('list'),
              data: z.array(ZWebhookDelivery),
              has_more: z.literal(false),
              next_cursor: z.null(),
            })
            .describe('The new deliveries (every one: the list is never paginated)')
            .meta({ id: 'WebhookDeliveryList' }),
        },
      },
    },
    async (request, reply) => {
      const scope = requireMerchant(request);
      const { id } = request.params;
      await respondIdempotently(request, reply, services.db, 202, async (tx) => {
        const deliveries = await redeliverEvent(tx, scope, id, request.body?.webhook_endpoint_id);
        return {
          object: 'list' as const,
          data: deliveries.map(presentDelivery),
          has_more: false as const,
          next_cursor: null,
        };
      });
      services.outbox.notify();
      return reply;
    },
  );
}
