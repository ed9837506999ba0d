import { z } from 'zod';
import { zMetadataOut } from '../../../lib/metadata.ts';
import {
  API_WEBHOOK_ENDPOINT_STATUS,
  API_WEBHOOK_ENDPOINT_STATUSES,
  WEBHOOK_ENDPOINT_DISABLED_REASONS,
  type WebhookEndpoint,
} from '../../../modules/webhooks/webhook-endpoint.types.ts';

/** The webhook endpoint object, apart from its routes so that expansions (src/http/expansions.ts) can show it. */
export const ZWebhookEndpoint = z
  .object({
    id: z.string(),
    object: z.literal('webhook_endpoint'),
    livemode: z.boolean(),
    url: z.string(),
    description: z.string().nullable(),
    enabled_events: z.array(z.string()),
    status: z.enum(API_WEBHOOK_ENDPOINT_STATUSES),
    disabled_reason: z
      .enum(WEBHOOK_ENDPOINT_DISABLED_REASONS)
      .nullable()
      .describe(
        'Why the endpoint is DISABLED: `disabled_by_merchant`, or `endpoint_gone` (it answered 410 Gone). More codes may be added',
      ),
    disabled_message: z.string().nullable().describe('`disabled_reason` in a sentence, for people'),
    disabled_at: z.string().nullable(),
    previous_secret_expires_at: z
      .string()
      .nullable()
      .describe('Until then, deliveries carry a second signature made with the previous secret'),
    api_version: z
      .string()
      .describe("The Kassa-Version deliveries are rendered in (default: the merchant's)"),
    metadata: zMetadataOut,
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });

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
    status: API_WEBHOOK_ENDPOINT_STATUS[endpoint.status],
    disabled_reason: endpoint.disabledReason,
    disabled_message: endpoint.disabledMessage,
    disabled_at: endpoint.disabledAt?.toISOString() ?? null,
    previous_secret_expires_at: overlapOpen ? endpoint.previousSecretExpiresAt!.toISOString() : null,
    api_version: endpoint.apiVersion,
    metadata: endpoint.metadata,
    version: endpoint.version,
    created_at: endpoint.createdAt.toISOString(),
    updated_at: endpoint.updatedAt.toISOString(),
  };
}
