import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.ts';
import { pooledRandomHex } from '../../lib/random.ts';
import { redeliverEvent } from '../../modules/events/event-redelivery.service.ts';
import { EVENT_TYPES, type EventType } from '../../modules/events/event.types.ts';
import { testEventExample } from '../../http/routes/v1/webhook-endpoints.routes.ts';
import { findWebhookEndpoint } from '../../modules/webhooks/webhook-endpoint.repository.ts';
import {
  ALL_EVENTS,
  DEFAULT_SECRET_OVERLAP_SECONDS,
  SUBSCRIBABLE_EVENT_TYPES,
  type WebhookEndpoint,
} from '../../modules/webhooks/webhook-endpoint.types.ts';
import { roleAllows } from '../../modules/users/permissions.ts';
import { findDeliveryTarget, listEndpointDeliveries } from '../developer-queries.ts';
import { formFailureQuery, isRepeatedForm, recordFormOnce } from '../form-once.ts';
import {
  DashboardRefusal,
  formKeyOf,
  formText,
  NATURAL_POST,
  TRANSACTIONAL_POST,
  type Context,
  pageFeedback,
  formStrings,
  areaAudit,
  refusalMessage,
} from '../kit.tsx';
import { OVERLAP_CHOICES, WebhookEndpointPage } from '../pages/webhook-endpoint.tsx';
import { WebhooksPage, type RevealedSecret } from '../pages/webhooks.tsx';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';

const NOTICES: Record<string, string> = {
  already_created: 'This form was already sent: its endpoint was created then, and its secret shown once.',
  already_rotated: 'This form was already sent: the secret was rotated then, and the new one shown once.',
  already_sent: 'This form was already sent; its event is below.',
  enabled: 'The endpoint is enabled: new events are delivered to it.',
  disabled: 'The endpoint is disabled: nothing is sent to it, and deliveries not yet sent were canceled.',
  events_saved: 'The events were saved.',
  test_sent: 'The test event is on its way; its delivery shows below.',
  redelivered: 'The event is being delivered again; the new delivery shows below.',
};

const KNOWN_EVENTS: ReadonlySet<string> = new Set([ALL_EVENTS, ...SUBSCRIBABLE_EVENT_TYPES]);

/** The ticked event types; an error message when none, or one the API would refuse, was sent. */
function eventsOf(request: FastifyRequest): { events: string[]; error?: string } {
  const events = formStrings(request, 'enabled_events');
  if (events.length === 0) return { events, error: 'Choose at least one event type.' };
  if (events.length > 64 || events.some((event) => !KNOWN_EVENTS.has(event)))
    return { events: [], error: 'Choose event types from the list.' };
  return { events };
}

/** Webhook endpoints: list, create (secret shown once), enable/disable, events, rotate, test, redeliver. */
export function registerWebhookRoutes(scope: KassaApp, kit: DashboardKit) {
  const { services, db, sendPage, seeOther, readPage, writeActionContext } = kit;
  const endpoints = services.webhookEndpoints;

  const canWrite = (context: Context) => roleAllows(context.session.user.role, 'webhooks', 'write');

  /** This area's changes in the audit log; the object type says which kind of row changed. */
  const auditTx = areaAudit((action) =>
    action.startsWith('webhook_delivery') ? 'webhook_delivery' : 'webhook_endpoint',
  );

  async function listPage(
    request: FastifyRequest,
    reply: FastifyReply,
    context: Context,
    extra: {
      statusCode?: number;
      revealed?: RevealedSecret;
      error?: string;
      draft?: { url: string; description: string; events: string[] };
    } = {},
  ) {
    const list = await endpoints.list(db, context.scope, { limit: 100 });
    return sendPage(reply, extra.statusCode ?? 200, (nonce) => (
      <WebhooksPage
        nonce={nonce}
        viewer={context.viewer}
        endpoints={list.slice(0, 100)}
        canWrite={canWrite(context)}
        formKey={pooledRandomHex(16)}
        revealed={extra.revealed}
        {...pageFeedback(request, NOTICES, extra.error)}
        draft={extra.draft}
      />
    ));
  }

  async function endpointOf(context: Context, id: string): Promise<WebhookEndpoint> {
    const endpoint = await findWebhookEndpoint(db, context.scope, id);
    if (!endpoint)
      throw new DashboardRefusal(404, 'Not found', `There is no webhook endpoint ${id} in this mode.`);
    return endpoint;
  }

  async function endpointPage(
    request: FastifyRequest,
    reply: FastifyReply,
    context: Context,
    id: string,
    extra: { statusCode?: number; revealed?: RevealedSecret; error?: string } = {},
  ) {
    const endpoint = await endpointOf(context, id);
    const deliveries = await listEndpointDeliveries(db, context.scope, endpoint.id);
    return sendPage(reply, extra.statusCode ?? 200, (nonce) => (
      <WebhookEndpointPage
        nonce={nonce}
        viewer={context.viewer}
        endpoint={endpoint}
        deliveries={deliveries.map((delivery) => ({
          delivery,
          event: delivery.event,
          endpoint,
          formKey: pooledRandomHex(16),
        }))}
        canWrite={canWrite(context)}
        formKeys={{ rotate: pooledRandomHex(16), test: pooledRandomHex(16) }}
        revealed={extra.revealed}
        {...pageFeedback(request, NOTICES, extra.error)}
      />
    ));
  }

  const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;
  const back = (reply: FastifyReply, id: string, query: string) =>
    seeOther(reply, `/dashboard/webhooks/${id}?${query}`);

  readPage(scope, '/dashboard/webhooks', 'webhooks', listPage);

  /** Creates an endpoint and shows its secret in this answer, once; the same form twice creates one. */
  scope.post(
    '/dashboard/webhooks',
    { config: TRANSACTIONAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'webhooks');
      const formKey = formKeyOf(request);
      const url = formText(request, 'url').trim();
      const description = formText(request, 'description').trim();
      const { events, error } = eventsOf(request);
      const draft = { url, description, events };
      if (error) return listPage(request, reply, context, { statusCode: 422, error, draft });
      if (url.length > 2048 || description.length > 500)
        return listPage(request, reply, context, {
          statusCode: 422,
          error: 'The URL or the description is too long.',
          draft,
        });
      try {
        const created = await db.transaction(async (tx) => {
          const made = await endpoints.create(tx, context.scope, {
            url,
            enabledEvents: events,
            description: description || null,
          });
          await auditTx(tx, request, context, 'webhook_endpoint.created', made.endpoint.id, {
            url,
            enabled_events: made.endpoint.enabledEvents,
          });
          await recordFormOnce(tx, request, context.scope, formKey, '/dashboard/webhooks', {
            id: made.endpoint.id,
          });
          return made;
        });
        return listPage(request, reply, context, {
          statusCode: 201,
          revealed: { endpointId: created.endpoint.id, secret: created.secret, previousExpiresAt: null },
        });
      } catch (caught) {
        if (isRepeatedForm(caught)) return seeOther(reply, '/dashboard/webhooks?notice=already_created');
        if (caught instanceof AppError)
          return listPage(request, reply, context, { statusCode: 422, error: refusalMessage(caught), draft });
        throw caught;
      }
    },
  );

  readPage(scope, '/dashboard/webhooks/:id', 'webhooks', async (request, reply, context) => {
    return endpointPage(request, reply, context, idOf(request));
  });

  /** Enable or disable: setting the status it has already is allowed, so sending the form twice is harmless. */
  scope.post(
    '/dashboard/webhooks/:id/status',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'webhooks');
      const id = idOf(request);
      const status = formText(request, 'status');
      if (status !== 'enabled' && status !== 'disabled')
        throw new DashboardRefusal(400, 'Form refused', 'The form is incomplete; reload the page.');
      try {
        await db.transaction(async (tx) => {
          const updated = await endpoints.update(tx, context.scope, id, { status });
          await auditTx(tx, request, context, `webhook_endpoint.${status}`, updated.id);
        });
      } catch (caught) {
        if (caught instanceof AppError) return back(reply, id, `error=${caught.code}`);
        throw caught;
      }
      return back(reply, id, `notice=${status}`);
    },
  );

  scope.post(
    '/dashboard/webhooks/:id/events',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'webhooks');
      const id = idOf(request);
      const { events, error } = eventsOf(request);
      if (error) return endpointPage(request, reply, context, id, { statusCode: 422, error });
      try {
        await db.transaction(async (tx) => {
          const updated = await endpoints.update(tx, context.scope, id, { enabledEvents: events });
          await auditTx(tx, request, context, 'webhook_endpoint.updated', updated.id, {
            enabled_events: updated.enabledEvents,
          });
        });
      } catch (caught) {
        if (caught instanceof AppError)
          return endpointPage(request, reply, context, id, {
            statusCode: 422,
            error: refusalMessage(caught),
          });
        throw caught;
      }
      return back(reply, id, 'notice=events_saved');
    },
  );

  /** A new secret, shown once in this answer; the current one keeps signing for the chosen overlap. */
  scope.post(
    '/dashboard/webhooks/:id/rotate-secret',
    { config: TRANSACTIONAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'webhooks');
      const id = idOf(request);
      const formKey = formKeyOf(request);
      const chosen = Number(formText(request, 'overlap') || DEFAULT_SECRET_OVERLAP_SECONDS);
      const overlap = OVERLAP_CHOICES.find((choice) => choice.seconds === chosen)?.seconds;
      if (overlap === undefined)
        throw new DashboardRefusal(400, 'Form refused', 'The form is incomplete; reload the page.');
      try {
        const rotated = await db.transaction(async (tx) => {
          const result = await endpoints.rollSecret(tx, context.scope, id, overlap);
          await auditTx(tx, request, context, 'webhook_endpoint.secret_rotated', id, {
            previous_secret_expires_in_seconds: overlap,
          });
          await recordFormOnce(tx, request, context.scope, formKey, request.url, { id });
          return result;
        });
        return endpointPage(request, reply, context, id, {
          statusCode: 201,
          revealed: {
            endpointId: id,
            secret: rotated.secret,
            previousExpiresAt: overlap > 0 ? rotated.endpoint.previousSecretExpiresAt : null,
          },
        });
      } catch (caught) {
        return back(reply, id, formFailureQuery(caught, 'already_rotated'));
      }
    },
  );

  /**
   * The API's test: a `ping`, or the example of the chosen event type (`type`, the same examples as
   * `POST /v1/webhook-endpoints/{id}/test`), for this endpoint only, signed and retried like any other.
   */
  scope.post(
    '/dashboard/webhooks/:id/test',
    { config: TRANSACTIONAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'webhooks');
      const id = idOf(request);
      const formKey = formKeyOf(request);
      const type = formText(request, 'type') || 'ping';
      if (!(EVENT_TYPES as readonly string[]).includes(type))
        return back(reply, id, 'error=validation_failed');
      const example =
        type === 'ping' ? undefined : testEventExample(scope, type as Exclude<EventType, 'ping'>);
      try {
        await db.transaction(async (tx) => {
          const event = await endpoints.sendTest(tx, context.scope, id, example);
          await auditTx(tx, request, context, 'webhook_endpoint.test_sent', id, { event_id: event.id });
          await recordFormOnce(tx, request, context.scope, formKey, request.url, { event_id: event.id });
        });
      } catch (caught) {
        return back(reply, id, formFailureQuery(caught, 'already_sent'));
      }
      services.outbox.notify(); // committed: deliver now rather than at the next poll
      return back(reply, id, 'notice=test_sent');
    },
  );

  /** The API's redelivery of the delivery's event to this endpoint: a new delivery, same `webhook-id`. */
  scope.post(
    '/dashboard/webhooks/:id/deliveries/:deliveryId/redeliver',
    { config: TRANSACTIONAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'webhooks');
      const { id, deliveryId } = request.params as { id: string; deliveryId: string };
      const formKey = formKeyOf(request);
      const target = await findDeliveryTarget(db, context.scope, deliveryId);
      if (!target || target.endpointId !== id)
        throw new DashboardRefusal(404, 'Not found', `There is no delivery ${deliveryId} in this mode.`);
      const returnTo =
        formText(request, 'return_to') === 'event'
          ? `/dashboard/events/${target.eventId}`
          : `/dashboard/webhooks/${id}`;
      const answer = (query: string) => seeOther(reply, `${returnTo}?${query}`);
      try {
        await db.transaction(async (tx) => {
          const [delivery] = await redeliverEvent(tx, context.scope, target.eventId, id);
          await auditTx(tx, request, context, 'webhook_delivery.redelivered', delivery!.id, {
            event_id: target.eventId,
            endpoint_id: id,
            redelivery_of: deliveryId,
          });
          await recordFormOnce(tx, request, context.scope, formKey, request.url, { id: delivery!.id });
        });
      } catch (caught) {
        return answer(formFailureQuery(caught, 'already_sent'));
      }
      services.outbox.notify();
      return answer('notice=redelivered');
    },
  );
}
