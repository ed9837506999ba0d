import type { PageRequest } from '../../db/pagination.ts';
import type { Queryable, UnitOfWork } from '../../db/client.ts';
import { checkOutboundUrl, type CompiledEgressPolicy } from '../../egress/index.ts';
import {
  AppError,
  invalidStateError,
  notFoundError,
  validationError,
  type FieldError,
} from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { Keyring } from '../../lib/keyring.ts';
import {
  mergeMetadata,
  metadataKeyCountError,
  sameMetadata,
  type Metadata,
  type MetadataPatch,
} from '../../lib/metadata.ts';
import { checkCallbackUrl } from '../../lib/merchant-urls.ts';
import { cancelPendingDeliveries } from '../../outbox/webhook-delivery.repository.ts';
import { generateWebhookSecret } from '../../outbox/webhook-signer.ts';
import { findEvent } from '../events/event.service.ts';
import type { EventType, StoredEvent } from '../events/event.types.ts';
import {
  countWebhookEndpoints,
  findWebhookEndpoint,
  insertWebhookEndpoint,
  listWebhookEndpoints,
  replaceWebhookEndpointSecret,
  softDeleteWebhookEndpoint,
  updateWebhookEndpoint,
} from './webhook-endpoint.repository.ts';
import {
  ALL_EVENTS,
  API_WEBHOOK_ENDPOINT_STATUS,
  MAX_WEBHOOK_ENDPOINTS_PER_MODE,
  WEBHOOK_ENDPOINT_TRANSITIONS,
  type MerchantScope,
  type WebhookEndpoint,
  type WebhookEndpointStatus,
} from './webhook-endpoint.types.ts';

/**
 * Webhook endpoints: registration (URL checked twice — as a merchant URL and against the egress policy;
 * names are checked again after DNS on every send), event filters, the secret (generated here, returned
 * once, stored only encrypted), rotation with an overlap, pausing, soft deletion and test pings.
 * Every function takes the caller's transaction: the change, its events and the idempotency record commit together.
 */

// Other modules read an endpoint through this file, never the repository (eslint.config.js).
export { findWebhookEndpoint } from './webhook-endpoint.repository.ts';

export type NewWebhookEndpoint = {
  url: string;
  description?: string | null;
  enabledEvents: string[];
  status?: WebhookEndpointStatus;
  /** The Kassa-Version to render deliveries in; default: the merchant's. */
  apiVersion?: string;
  metadata?: Metadata | undefined;
};

export type WebhookEndpointUpdate = {
  url?: string;
  description?: string | null;
  enabledEvents?: string[];
  status?: WebhookEndpointStatus;
  /** Merged onto the stored metadata: a key set to null is removed; null removes every key. */
  metadata?: MetadataPatch | null | undefined;
};

export type WebhookEndpointService = ReturnType<typeof createWebhookEndpointService>;

/**
 * The example a typed test event carries (the `webhooks` section of /openapi.json holds one per type): its
 * data and the ids the event object names.
 */
export type TestEventExample = Pick<
  StoredEvent,
  'objectId' | 'objectVersion' | 'orderId' | 'checkoutId' | 'paymentId' | 'data'
> & { type: Exclude<EventType, 'ping'> };

export const SECRET_PURPOSE = 'webhook-secret-encryption';

export function createWebhookEndpointService(deps: {
  keyring: Pick<Keyring, 'encrypt'>;
  egressPolicy: CompiledEgressPolicy;
}) {
  function checkUrl(url: string, scope: MerchantScope): FieldError | null {
    const reason = checkCallbackUrl(url, { livemode: scope.livemode });
    if (reason) return { pointer: '/url', code: 'invalid_url', message: reason };
    const refusal = checkOutboundUrl(url, deps.egressPolicy);
    if (refusal) {
      // The egress policy's refusal kinds are one catalogue code each (docs/errors.md, field error codes).
      const code = refusal.code === 'address_not_allowed' ? 'url_not_allowed' : 'invalid_url';
      return { pointer: '/url', code, message: `is not an allowed destination: ${refusal.message}` };
    }
    return null;
  }

  /** `*` stands alone; duplicates are dropped, order kept. */
  function checkEnabledEvents(events: string[]): { events: string[]; error: FieldError | null } {
    const unique = [...new Set(events)];
    if (unique.includes(ALL_EVENTS) && unique.length > 1) {
      return {
        events: unique,
        error: {
          pointer: '/enabled_events',
          code: 'wildcard_not_alone',
          message: 'must be either ["*"] or a list of event types, not both',
        },
      };
    }
    return { events: unique, error: null };
  }

  async function requireEndpoint(tx: Queryable, scope: MerchantScope, id: string, forUpdate = false) {
    const endpoint = await findWebhookEndpoint(tx, scope, id, { forUpdate });
    if (!endpoint) throw notFoundError('webhook endpoint', id);
    return endpoint;
  }

  return {
    get: (db: Queryable, scope: MerchantScope, id: string) => requireEndpoint(db, scope, id),

    list: (db: Queryable, scope: MerchantScope, page: PageRequest) => listWebhookEndpoints(db, scope, page),

    async create(tx: UnitOfWork, scope: MerchantScope, input: NewWebhookEndpoint) {
      const { events, error } = checkEnabledEvents(input.enabledEvents);
      const errors = [checkUrl(input.url, scope), error].filter((e): e is FieldError => e !== null);
      if (errors.length > 0) throw validationError(errors);
      if ((await countWebhookEndpoints(tx, scope)) >= MAX_WEBHOOK_ENDPOINTS_PER_MODE) {
        throw new AppError(
          'conflict',
          `A merchant can have at most ${MAX_WEBHOOK_ENDPOINTS_PER_MODE} webhook endpoints per mode; delete one first`,
        );
      }
      const secret = generateWebhookSecret();
      const endpoint = await insertWebhookEndpoint(tx, {
        id: newId('whe'),
        scope,
        url: input.url,
        description: input.description ?? null,
        enabledEvents: events,
        status: input.status ?? 'enabled',
        secretEncrypted: deps.keyring.encrypt(SECRET_PURPOSE, secret),
        apiVersion: input.apiVersion,
        metadata: input.metadata ?? {},
      });
      return { endpoint, secret };
    },

    async update(tx: UnitOfWork, scope: MerchantScope, id: string, patch: WebhookEndpointUpdate) {
      const checkedEvents = patch.enabledEvents ? checkEnabledEvents(patch.enabledEvents) : undefined;
      const errors = [
        patch.url === undefined ? null : checkUrl(patch.url, scope),
        checkedEvents?.error ?? null,
      ].filter((e): e is FieldError => e !== null);
      if (errors.length > 0) throw validationError(errors);
      const current = await requireEndpoint(tx, scope, id, true);
      if (
        patch.status !== undefined &&
        patch.status !== current.status &&
        !WEBHOOK_ENDPOINT_TRANSITIONS[current.status].includes(patch.status)
      ) {
        throw invalidStateError(
          'webhook endpoint',
          API_WEBHOOK_ENDPOINT_STATUS[current.status],
          WEBHOOK_ENDPOINT_TRANSITIONS[current.status].map((status) => API_WEBHOOK_ENDPOINT_STATUS[status]),
          `set to ${API_WEBHOOK_ENDPOINT_STATUS[patch.status]}`,
        );
      }
      const events = checkedEvents?.events;
      const metadata =
        patch.metadata === undefined ? undefined : mergeMetadata(current.metadata, patch.metadata);
      const metadataError = metadata ? metadataKeyCountError(metadata) : null;
      if (metadataError) throw validationError([metadataError]);
      const changes =
        (metadata !== undefined && !sameMetadata(metadata, current.metadata)) ||
        (patch.url !== undefined && patch.url !== current.url) ||
        (patch.description !== undefined && patch.description !== current.description) ||
        (events !== undefined && events.join('\n') !== current.enabledEvents.join('\n')) ||
        (patch.status !== undefined && patch.status !== current.status);
      // A patch that changes nothing answers the endpoint as it is: no new version (docs/api-conventions.md §15).
      if (!changes) return current;
      const updated = await updateWebhookEndpoint(tx, id, {
        url: patch.url,
        description: patch.description,
        enabledEvents: events,
        status: patch.status,
        disabledReason: patch.status === 'disabled' ? 'disabled_by_merchant' : undefined,
        metadata,
      });
      if (updated.status === 'disabled' && current.status === 'enabled') {
        await cancelPendingDeliveries(tx, [id], 'The endpoint was disabled by the merchant');
      }
      return updated;
    },

    async remove(tx: UnitOfWork, scope: MerchantScope, id: string): Promise<void> {
      await requireEndpoint(tx, scope, id, true);
      await softDeleteWebhookEndpoint(tx, id);
      await cancelPendingDeliveries(tx, [id], 'The endpoint was deleted');
    },

    /** A new secret; the current one keeps signing for `overlapSeconds` (0: stops at once). */
    async rollSecret(tx: UnitOfWork, scope: MerchantScope, id: string, overlapSeconds: number) {
      await requireEndpoint(tx, scope, id, true);
      const secret = generateWebhookSecret();
      const endpoint = await replaceWebhookEndpointSecret(
        tx,
        id,
        deps.keyring.encrypt(SECRET_PURPOSE, secret),
        overlapSeconds,
      );
      return { endpoint, secret };
    },

    /**
     * Emits a test event that the fan-out sends to this endpoint only (`targetEndpointId`): a `ping`, or the
     * example of another event type (the caller reads it from the one registry of examples). The example's
     * `livemode` follows the endpoint's mode, like the event's.
     */
    async sendTest(
      tx: UnitOfWork,
      scope: MerchantScope,
      id: string,
      example?: TestEventExample,
    ): Promise<StoredEvent> {
      const endpoint = await requireEndpoint(tx, scope, id);
      if (endpoint.status !== 'enabled') {
        throw invalidStateError(
          'webhook endpoint',
          API_WEBHOOK_ENDPOINT_STATUS[endpoint.status],
          [API_WEBHOOK_ENDPOINT_STATUS.enabled],
          'send a test event to',
        );
      }
      const target = {
        merchantId: scope.merchantId,
        livemode: scope.livemode,
        targetEndpointId: endpoint.id,
      };
      const { id: eventId } = example
        ? tx.emit({
            ...target,
            type: example.type,
            objectId: example.objectId ?? undefined,
            objectVersion: example.objectVersion ?? undefined,
            orderId: example.orderId ?? undefined,
            checkoutId: example.checkoutId ?? undefined,
            paymentId: example.paymentId ?? undefined,
            data: 'livemode' in example.data ? { ...example.data, livemode: scope.livemode } : example.data,
          })
        : tx.emit({
            ...target,
            type: 'ping',
            objectId: endpoint.id,
            objectVersion: endpoint.version,
            data: {
              object: 'ping',
              webhook_endpoint_id: endpoint.id,
              url: endpoint.url,
              message: 'A test event from Kassa. Answer 2xx to acknowledge it.',
            },
          });
      await tx.flush(); // read back as stored (its created_at)
      return (await findEvent(tx, scope, eventId))!;
    },
  };
}

export type { WebhookEndpoint };
