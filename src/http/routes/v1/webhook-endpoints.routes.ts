import { API_VERSIONS } from '../../api-version.ts';
import { z } from 'zod';
import type { WebhookEndpoint } from '../../../modules/webhooks/webhook-endpoint.types.ts';
import {
  ALL_EVENTS,
  DEFAULT_SECRET_OVERLAP_SECONDS,
  MAX_SECRET_OVERLAP_SECONDS,
  SUBSCRIBABLE_EVENT_TYPES,
  WEBHOOK_ENDPOINT_STATUSES,
} from '../../../modules/webhooks/webhook-endpoint.types.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { respondIdempotently } from '../../idempotency.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';
import { presentEvent, ZEvent } from './events.routes.ts';

const ZEnabledEvents = z
  .array(z.enum([ALL_EVENTS, ...SUBSCRIBABLE_EVENT_TYPES]))
  .min(1)
  .max(64)
  .describe('Event types to receive, or ["*"] for every type (including types added later)');

export const ZWebhookEndpoint = z
  .object({
    id: z.string(),
    object: z.literal('webhook_endpoint'),
    livemode: z.boolean(),
    url: z.string(),
    description: z.string().nullable(),
    enabled_events: z.array(z.string()),
    status: z.enum(WEBHOOK_ENDPOINT_STATUSES),
    disabled_reason: z
      .string()
      .nullable()
      .describe('Why the endpoint is disabled (by the merchant, or 410 Gone)'),
    disabled_at: z.string().nullable(),
    previous_secret_expires_at: z
      .string()
      .nullable()
      .describe('Until then, deliveries carry a second signature made with the previous secret'),
    api_version: z
      .string()
      .describe("The Kassa-Version deliveries are rendered in (default: the merchant's)"),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });

const ZWebhookEndpointWithSecret = ZWebhookEndpoint.extend({
  secret: z.string().describe('The signing secret (whsec_…). Shown only in this response; store it now.'),
}).meta({ id: 'WebhookEndpointWithSecret' });

const ZDeletedWebhookEndpoint = z
  .object({ id: z.string(), object: z.literal('webhook_endpoint'), deleted: z.literal(true) })
  .meta({ id: 'DeletedWebhookEndpoint' });

const ZParams = z.object({ id: z.string().max(100) });

export function presentWebhookEndpoint(endpoint: WebhookEndpoint): z.infer<typeof ZWebhookEndpoint> {
  const overlapOpen =
    endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > new Date();
  return {
    id: endpoint.id,
    object: 'webhook_endpoint',
    livemode: endpoint.livemode,
    url: endpoint.url,
    description: endpoint.description,
    enabled_events: endpoint.enabledEvents,
    status: endpoint.status,
    disabled_reason: endpoint.disabledReason,
    disabled_at: endpoint.disabledAt?.toISOString() ?? null,
    previous_secret_expires_at: overlapOpen ? endpoint.previousSecretExpiresAt!.toISOString() : null,
    api_version: endpoint.apiVersion,
    version: endpoint.version,
    created_at: endpoint.createdAt.toISOString(),
    updated_at: endpoint.updatedAt.toISOString(),
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
        body: z.object({
          url: z.string().max(2048),
          enabled_events: ZEnabledEvents,
          description: z.string().max(500).nullable().optional(),
          status: z.enum(WEBHOOK_ENDPOINT_STATUSES).optional(),
          api_version: z
            .enum(API_VERSIONS)
            .optional()
            .describe("The Kassa-Version to render deliveries in; default: the merchant's"),
        }),
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
          status: body.status,
          apiVersion: body.api_version,
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
          'Change the URL, the event filter or the description, or pause (`disabled`) and resume (`enabled`) ' +
          'deliveries. Disabling cancels the deliveries not yet sent.',
        params: ZParams,
        body: z.object({
          url: z.string().max(2048).optional(),
          enabled_events: ZEnabledEvents.optional(),
          description: z.string().max(500).nullable().optional(),
          status: z.enum(WEBHOOK_ENDPOINT_STATUSES).optional(),
        }),
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
          status: body.status,
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

  app.post(
    '/v1/webhook-endpoints/:id/rotate-secret',
    {
      config: { auth: 'merchant', scope: 'webhooks', idempotency: 'transactional' },
      schema: {
        tags,
        summary: "Rotate a webhook endpoint's signing secret",
        description:
          'Issues a new secret (shown only in this response). Until `expire_previous_in_seconds` have passed ' +
          '(default 24 h, 0 = at once) every delivery is signed with both secrets: two `v1,` signatures in ' +
          '`webhook-signature`, so receivers can switch without missing a webhook.',
        params: ZParams,
        body: z
          .object({
            expire_previous_in_seconds: z
              .number()
              .int()
              .min(0)
              .max(MAX_SECRET_OVERLAP_SECONDS)
              .default(DEFAULT_SECRET_OVERLAP_SECONDS),
          })
          .nullish(),
        response: { 200: ZWebhookEndpointWithSecret },
      },
    },
    async (request, reply) => {
      const scope = requireMerchant(request);
      const overlap = request.body?.expire_previous_in_seconds ?? DEFAULT_SECRET_OVERLAP_SECONDS;
      return respondIdempotently(request, reply, services.db, 200, async (tx) => {
        const { endpoint, secret } = await endpoints.rotateSecret(tx, scope, request.params.id, overlap);
        return { ...presentWebhookEndpoint(endpoint), secret };
      });
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
          'Emits a `ping` event that is delivered to this endpoint only, signed and retried like any other. ' +
          'Follow it with GET /v1/events/{id}/deliveries.',
        params: ZParams,
        response: { 202: ZEvent },
      },
    },
    async (request, reply) => {
      const scope = requireMerchant(request);
      await respondIdempotently(request, reply, services.db, 202, async (tx) =>
        presentEvent({ ...(await endpoints.sendTest(tx, scope, request.params.id)), pendingWebhooks: 0 }),
      );
      services.outbox.notify(); // committed: deliver now rather than at the next poll
      return reply;
    },
  );
}
