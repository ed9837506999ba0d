import { zMetadata, zMetadataPatch } from '../../../lib/metadata.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { API_VERSIONS } from '../../api-version.ts';
import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../../../modules/events/event.types.ts';
import {
  ALL_EVENTS,
  API_WEBHOOK_ENDPOINT_STATUSES,
  DEFAULT_SECRET_OVERLAP_SECONDS,
  MAX_SECRET_OVERLAP_SECONDS,
  SUBSCRIBABLE_EVENT_TYPES,
  webhookEndpointStatusOf,
} from '../../../modules/webhooks/webhook-endpoint.types.ts';
import type { TestEventExample } from '../../../modules/webhooks/webhook-endpoint.service.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { markDeprecated } from '../../deprecation.ts';
import { respondIdempotently } from '../../idempotency.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';
import { presentEvent, ZEvent } from './events.routes.ts';
import { presentWebhookEndpoint, ZWebhookEndpoint } from './webhook-endpoint.schemas.ts';

export { presentWebhookEndpoint, ZWebhookEndpoint };

const ZEnabledEvents = z
  .array(z.enum([ALL_EVENTS, ...SUBSCRIBABLE_EVENT_TYPES]))
  .min(1)
  .max(64)
  .describe('Event types to receive, or ["*"] for every type (including types added later)');

const ZWebhookEndpointWithSecret = ZWebhookEndpoint.extend({
  secret: z.string().describe('The signing secret (whsec_…). Shown only in this response; store it now.'),
}).meta({ id: 'WebhookEndpointWithSecret' });

const ZDeletedWebhookEndpoint = z
  .object({ id: z.string(), object: z.literal('webhook_endpoint'), deleted: z.literal(true) })
  .meta({ id: 'DeletedWebhookEndpoint' });

const ZParams = z.object({ id: z.string().max(100) });

const ZStatusInput = z
  .enum(API_WEBHOOK_ENDPOINT_STATUSES)
  .describe('`DISABLED` pauses deliveries (and cancels those not yet sent); `ENABLED` resumes them');

const ZCreateBody = z.strictObject({
  url: z.string().max(2048),
  enabled_events: ZEnabledEvents,
  description: z.string().max(500).nullable().optional(),
  status: ZStatusInput.optional(),
  api_version: z
    .enum(API_VERSIONS)
    .optional()
    .describe("The Kassa-Version to render deliveries in; default: the merchant's"),
  metadata: zMetadata.optional(),
});

const ZUpdateBody = z.strictObject({
  url: z.string().max(2048).optional(),
  enabled_events: ZEnabledEvents.optional(),
  description: z.string().max(500).nullable().optional(),
  status: ZStatusInput.optional(),
  metadata: zMetadataPatch.optional(),
});

const ZRollSecretBody = z.strictObject({
  expire_previous_in_seconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_SECRET_OVERLAP_SECONDS)
    .default(DEFAULT_SECRET_OVERLAP_SECONDS),
});

const ZTestBody = z.strictObject({
  type: z
    .enum(EVENT_TYPES)
    .default('ping')
    .describe(
      "The event type whose example to send (the example in this document's `webhooks` section); default `ping`",
    ),
});

type WebhookExample = {
  object_id: string | null;
  object_version: number | null;
  order_id: string | null;
  checkout_id: string | null;
  payment_id: string | null;
  data: Record<string, unknown>;
};

/**
 * The example of `type` from the `webhooks` section of /openapi.json (src/http/openapi/event-examples.ts): the
 * one registry of examples, so what a test sends is what the document shows. Also the dashboard's test.
 */
export function testEventExample(app: KassaApp, type: Exclude<EventType, 'ping'>): TestEventExample {
  const document = app.swagger() as {
    webhooks?: Record<
      string,
      {
        post?: {
          requestBody?: { content?: Record<string, { examples?: Record<string, { value?: unknown }> }> };
        };
      }
    >;
  };
  const value = document.webhooks?.[type]?.post?.requestBody?.content?.['application/json']?.examples?.[type]
    ?.value as WebhookExample | undefined;
  if (!value) throw new Error(`/openapi.json has no example of ${type}`);
  return {
    type,
    objectId: value.object_id,
    objectVersion: value.object_version,
    orderId: value.order_id,
    checkoutId: value.checkout_id,
    paymentId: value.payment_id,
    data: value.data,
  };
}

export function registerWebhookEndpointRoutes(app: KassaApp, services: Services) {
  const endpoints = services.webhookEndpoints;
  const tags = ['Webhook endpoints'];

  app.post(
    '/v1/webhook-endpoints',
    {
      config: { auth: 'merchant', scope: 'webhooks', idempotency: 'transactional' },
      schema: {
        tags,
        summary: 'Register a webhook endpoint',
        description:
          'The URL must be https:// in live mode (http:// is accepted in test mode) and reachable under the egress ' +
          'policy. The response carries the signing secret — the only time it is shown.',
        body: ZCreateBody,
        response: { 201: ZWebhookEndpointWithSecret },
      },
    },
    async (request, reply) => {
      const scope = requireMerchant(request);
      const body = request.body;
      return respondIdempotently(request, reply, services.db, 201, async (tx) => {
        const { endpoint, secret } = await endpoints.create(tx, scope, {
          url: body.url,
          enabledEvents: body.enabled_events,
          description: body.description,
          status: body.status && webhookEndpointStatusOf(body.status),
          apiVersion: body.api_version,
          metadata: body.metadata,
        });
        return { ...presentWebhookEndpoint(endpoint), secret };
      });
    },
  );

  app.get(
    '/v1/webhook-endpoints',
    {
      config: { auth: 'merchant', scope: 'webhooks' },
      schema: {
        tags,
        summary: 'List webhook endpoints',
        querystring: ZListQuery,
        response: { 200: ZPage(ZWebhookEndpoint) },
      },
    },
    async (request) => {
      const scope = requireMerchant(request);
      const page = toPageRequest(request.query);
      const rows = await endpoints.list(services.db, scope, page);
      return toPage(rows, page, presentWebhookEndpoint, (endpoint) => endpoint.id);
    },
  );

  app.get(
    '/v1/webhook-endpoints/:id',
    {
      config: { auth: 'merchant', scope: 'webhooks' },
      schema: {
        tags,
        summary: 'Retrieve a webhook endpoint',
        params: ZParams,
        response: { 200: ZWebhookEndpoint },
      },
    },
    async (request) => {
      const scope = requireMerchant(request);
      return presentWebhookEndpoint(await endpoints.get(services.db, scope, request.params.id));
    },
  );

  app.patch(
    '/v1/webhook-endpoints/:id',
    {
      config: { auth: 'merchant', scope: 'webhooks' },
      schema: {
        tags,
        summary: 'Update a webhook endpoint',
        description:
          'Change the URL, the event filter, the description or the `metadata` (merged key by key: a key set to ' +
          'null is removed, null removes every key), or pause (`DISABLED`) and resume (`ENABLED`) ' +
          'deliveries. Disabling cancels the deliveries not yet sent. A patch that changes nothing answers the ' +
          'endpoint as it is, without a new `version`.',
        params: ZParams,
        body: ZUpdateBody,
        response: { 200: ZWebhookEndpoint },
      },
    },
    async (request) => {
      const scope = requireMerchant(request);
      const body = request.body;
      const endpoint = await services.db.transaction((tx) =>
        endpoints.update(tx, scope, request.params.id, {
          url: body.url,
          enabledEvents: body.enabled_events,
          description: body.description,
          status: body.status && webhookEndpointStatusOf(body.status),
          metadata: body.metadata,
        }),
      );
      return presentWebhookEndpoint(endpoint);
    },
  );

  app.delete(
    '/v1/webhook-endpoints/:id',
    {
      config: { auth: 'merchant', scope: 'webhooks' },
      schema: {
        tags,
        summary: 'Delete a webhook endpoint',
        description:
          'Deliveries not yet sent are canceled; the delivery history of past events stays readable.',
        params: ZParams,
        response: { 200: ZDeletedWebhookEndpoint },
      },
    },
    async (request) => {
      const scope = requireMerchant(request);
      const { id } = request.params;
      await services.db.transaction((tx) => endpoints.remove(tx, scope, id));
      return { id, object: 'webhook_endpoint' as const, deleted: true as const };
    },
  );

  const rollSecret = async (
    request: FastifyRequest<{
      Params: { id: string };
      Body: z.infer<typeof ZRollSecretBody> | null | undefined;
    }>,
    reply: FastifyReply,
  ) => {
    const scope = requireMerchant(request);
    const overlap = request.body?.expire_previous_in_seconds ?? DEFAULT_SECRET_OVERLAP_SECONDS;
    return respondIdempotently(request, reply, services.db, 200, async (tx) => {
      const { endpoint, secret } = await endpoints.rollSecret(tx, scope, request.params.id, overlap);
      return { ...presentWebhookEndpoint(endpoint), secret };
    });
  };
  const rollDescription =
    'Issues a new secret (shown only in this response). Until `expire_previous_in_seconds` have passed ' +
    '(default 24 h, 0 = at once) every delivery is signed with both secrets: two `v1,` signatures in ' +
    '`webhook-signature`, so receivers can switch without missing a webhook.';

  app.post(
    '/v1/webhook-endpoints/:id/roll-secret',
    {
      config: { auth: 'merchant', scope: 'webhooks', idempotency: 'transactional' },
      schema: {
        tags,
        summary: "Roll a webhook endpoint's signing secret",
        description: rollDescription,
        params: ZParams,
        body: ZRollSecretBody.nullish(),
        response: { 200: ZWebhookEndpointWithSecret },
      },
    },
    rollSecret,
  );

  app.post(
    '/v1/webhook-endpoints/:id/rotate-secret',
    {
      config: { auth: 'merchant', scope: 'webhooks', idempotency: 'transactional' },
      schema: {
        tags,
        summary: "Roll a webhook endpoint's signing secret (deprecated: use roll-secret)",
        description: `Deprecated alias of POST /v1/webhook-endpoints/{id}/roll-secret, answered with a \`Deprecation\` header. ${rollDescription}`,
        deprecated: true,
        params: ZParams,
        body: ZRollSecretBody.nullish(),
        response: { 200: ZWebhookEndpointWithSecret },
      },
    },
    async (request, reply) => {
      markDeprecated(reply);
      return rollSecret(request, reply);
    },
  );

  app.post(
    '/v1/webhook-endpoints/:id/test',
    {
      config: { auth: 'merchant', scope: 'webhooks', idempotency: 'transactional' },
      schema: {
        tags,
        summary: 'Send a test webhook',
        description:
          'Emits a test event that is delivered to this endpoint only, signed and retried like any other: a ' +
          '`ping`, or with `{"type": …}` the example of that event type shown in the `webhooks` section of ' +
          'this document (its ids are examples, not objects of yours). Follow it with ' +
          'GET /v1/events/{id}/deliveries.',
        params: ZParams,
        body: ZTestBody.nullish(),
        response: { 202: ZEvent },
      },
    },
    async (request, reply) => {
      const scope = requireMerchant(request);
      const type = request.body?.type ?? 'ping';
      const example = type === 'ping' ? undefined : testEventExample(app, type);
      await respondIdempotently(request, reply, services.db, 202, async (tx) =>
        presentEvent({
          ...(await endpoints.sendTest(tx, scope, request.params.id, example)),
          pendingWebhooks: 0,
        }),
      );
      services.outbox.notify(); // committed: deliver now rather than at the next poll
      return reply;
    },
  );
}
