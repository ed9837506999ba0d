import { EVENT_TYPES, type EventType } from '../../modules/events/event.types.ts';
import { exampleEventData } from './event-examples.ts';
import { SCHEMA_REF, type JsonObject } from './json-schema.ts';

/**
 * The `webhooks` section of `/openapi.json` (document.ts adds it over the whole document): one entry per event
 * type, with the body a receiver gets (the event object, its `data` the object's component schema) and an
 * example made by event-examples.ts.
 */

/** The `data` of each event type: the object after the change, as its GET returns it (docs/events.md). */
function eventDataSchema(type: EventType): JsonObject {
  const family = type.split('.')[0];
  const ref = (name: string) => ({ $ref: `${SCHEMA_REF}${name}` });
  switch (family) {
    case 'checkout':
      return ref('Checkout');
    case 'order':
      return ref('Order');
    case 'payment':
      return ref('Payment');
    case 'refund':
      return ref('RefundResult');
    case 'payment_link':
      return ref('PaymentLink');
    case 'merchant':
      return ref('Merchant');
    case 'payment_method_settings':
      return ref('PaymentMethodSetting');
    case 'api_key':
      return ref('ApiKey');
    case 'oauth_client':
      return ref('OAuthClient');
    case 'processor_account':
      return ref('ProcessorAccount');
    case 'signing_secret':
      return {
        type: 'object',
        description: 'The return-URL signing secret after the roll (never the secret itself)',
        required: ['object', 'livemode', 'created_at', 'previous_secret_expires_at'],
        properties: {
          object: { const: 'signing_secret' },
          livemode: { type: 'boolean' },
          created_at: { type: 'string', format: 'date-time' },
          previous_secret_expires_at: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
        },
      };
    default:
      return {
        type: 'object',
        required: ['object', 'webhook_endpoint_id', 'url', 'message'],
        properties: {
          object: { const: 'ping' },
          webhook_endpoint_id: { type: 'string' },
          url: { type: 'string' },
          message: { type: 'string' },
        },
      };
  }
}

/**
 * The body of a delivery: the event object (GET /v1/events/{id}, rendered in the endpoint's version) without
 * `pending_webhooks` (a count that moves while the event is delivered), plus the Standard Webhooks member
 * `timestamp` (docs/webhooks.md).
 */
function webhookBodySchema(type: EventType): JsonObject {
  const nullableString = { anyOf: [{ type: 'string' }, { type: 'null' }] };
  return {
    type: 'object',
    required: [
      'id',
      'object',
      'type',
      'api_version',
      'livemode',
      'created_at',
      'timestamp',
      'object_id',
      'object_version',
      'order_id',
      'checkout_id',
      'payment_id',
      'actor',
      'data',
    ],
    properties: {
      id: { type: 'string', description: 'The event id; also the webhook-id header' },
      object: { const: 'event' },
      type: { const: type },
      api_version: {
        type: 'string',
        description: 'The Kassa-Version the payload is rendered in (the endpoint’s)',
      },
      livemode: { type: 'boolean' },
      created_at: { type: 'string', format: 'date-time', description: 'When the event happened' },
      timestamp: {
        type: 'string',
        format: 'date-time',
        description: 'Standard Webhooks: equal to created_at',
      },
      object_id: nullableString,
      object_version: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
      order_id: nullableString,
      checkout_id: nullableString,
      payment_id: nullableString,
      actor: { anyOf: [{ $ref: `${SCHEMA_REF}EventActor` }, { type: 'null' }] },
      data: eventDataSchema(type),
    },
  };
}

/** An example body of each event type (the one registry of examples: event-examples.ts). */
function exampleWebhookBody(type: EventType, schemas: Record<string, JsonObject>): JsonObject {
  const data = exampleEventData(type, eventDataSchema(type), schemas);
  const at = '2026-03-01T12:00:00.000Z';
  const idOr = (key: string) => (typeof data[key] === 'string' ? data[key] : null);
  const family = type.split('.')[0];
  return {
    id: 'evt_5b0e6a8f8c0e4a51b1c6c1f8a39d0f21',
    object: 'event',
    type,
    api_version: at.slice(0, 10),
    livemode: false,
    created_at: at,
    timestamp: at,
    object_id: idOr('id') ?? idOr('webhook_endpoint_id'),
    object_version: typeof data.version === 'number' ? data.version : null,
    order_id: family === 'order' ? idOr('id') : idOr('order_id'),
    checkout_id: family === 'checkout' ? idOr('id') : idOr('checkout_id'),
    payment_id: family === 'payment' ? idOr('id') : idOr('payment_id'),
    actor: { type: 'credential', id: 'key_5b0e6a8f8c0e4a51b1c6c1f8a39d0f21' },
    data,
  };
}

/** One `webhooks` entry per event type: what a receiver gets, signed per Standard Webhooks (docs/webhooks.md). */
export function webhooksSection(schemas: Record<string, JsonObject>): Record<string, unknown> {
  const entries: Record<string, unknown> = {};
  for (const type of EVENT_TYPES) {
    entries[type] = {
      post: {
        operationId: `webhook_${type.replace(/\./g, '_')}`,
        summary: `The ${type} event`,
        description:
          'Delivered to the webhook endpoints subscribed to this type, signed with the headers webhook-id, ' +
          'webhook-timestamp and webhook-signature (Standard Webhooks). Answer 2xx within 15 s. ' +
          'POST /v1/webhook-endpoints/{id}/test with {"type": "' +
          type +
          '"} sends this example to one endpoint.',
        parameters: ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => ({
          in: 'header',
          name,
          required: true,
          schema: { type: 'string' },
        })),
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: webhookBodySchema(type),
              examples: {
                [type]: { summary: `An example ${type} event`, value: exampleWebhookBody(type, schemas) },
              },
            },
          },
        },
        responses: { '2XX': { description: 'Received; any other answer is retried' } },
        security: [],
      },
    };
  }
  return entries;
}
