import type { EventType } from '../../modules/events/event.types.ts';

/**
 * An example of each event type, made from the payload schemas of the `webhooks` section of `/openapi.json`
 * (webhooks-section.ts): the one registry of event types and their shapes. The document shows each example; and
 * `POST /v1/webhook-endpoints/{id}/test {"type": …}` sends it (webhook-endpoints.routes.ts reads it back from
 * the document). Made from the schemas rather than written by hand, an example has every field the object
 * has today — when a schema changes, its example follows.
 *
 * Values are chosen by field name where a name says what it holds (ids with their registered prefix, amounts,
 * currency, timestamps, URLs), a `status` is the one the event type names (`payment.succeeded` →
 * `SUCCEEDED`), and a nullable field is null unless it holds an object (so the example shows its shape).
 */

type Schema = Record<string, unknown>;
type Schemas = Record<string, Schema>;

const EXAMPLE_TIME = '2026-03-01T12:00:00.000Z';
const HEX = '5b0e6a8f8c0e4a51b1c6c1f8a39d0f21';

/** Id prefixes (src/lib/ids.ts) by the object an id names. */
const PREFIXES: Record<string, string> = {
  checkout: 'chk',
  order: 'ord',
  payment: 'pay',
  capture: 'cap',
  refund: 'ref',
  customer: 'cus',
  payment_link: 'pl',
  merchant: 'mer',
  event: 'evt',
  webhook_endpoint: 'whe',
  api_key: 'key',
  oauth_client: 'cli',
  processor_account: 'pa',
  saved_payment_method: 'pm',
  payment_method: 'pm',
  delivery: 'del',
  signing_secret: 'rss',
};

/** The status an event type names, when its object has such a status. */
function statusOfType(type: EventType): string {
  const change = type.split('.')[1] ?? '';
  return change.toUpperCase();
}

function idOf(object: string | undefined): string {
  const prefix = (object && PREFIXES[object]) ?? 'obj';
  return `${prefix}_${HEX}`;
}

function stringFor(key: string, schema: Schema, object: string | undefined): string {
  if (schema.format === 'date-time' || key.endsWith('_at')) return EXAMPLE_TIME;
  if (key === 'id') return idOf(object);
  if (key.endsWith('_id')) return idOf(key.slice(0, -'_id'.length));
  if (key === 'currency') return 'EUR';
  if (key === 'country_code' || key === 'country') return key === 'country' ? 'Germany' : 'DE';
  if (key === 'email') return 'shopper@example.com';
  if (key === 'url' || key.endsWith('_url')) return `https://shop.example/${key.replace(/_/g, '-')}`;
  if (key === 'locale' || key.endsWith('_locale')) return 'en';
  if (key === 'api_version') return EXAMPLE_TIME.slice(0, 10);
  if (schema.format === 'email') return 'shopper@example.com';
  if (schema.format === 'uri') return 'https://shop.example/';
  return `example ${key.replace(/_/g, ' ')}`.trim();
}

function numberFor(key: string, schema: Schema): number {
  if (key === 'version') return 1;
  if (key.includes('amount')) return 1000;
  if (key === 'exp_month') return 12;
  if (key === 'exp_year') return 2030;
  if (key === 'quantity') return 1;
  const minimum = typeof schema.minimum === 'number' ? schema.minimum : 0;
  return minimum;
}

export function exampleFromSchema(
  schema: unknown,
  schemas: Schemas,
  context: { type: EventType; key: string; object?: string; depth: number },
): unknown {
  if (schema === null || typeof schema !== 'object' || context.depth > 8) return null;
  const node = schema as Schema;
  if (typeof node.$ref === 'string') {
    const name = node.$ref.split('/').pop()!;
    return exampleFromSchema(schemas[name], schemas, context);
  }
  if ('const' in node) return node.const;
  if ('default' in node && node.default !== null && typeof node.default !== 'object') return node.default;
  const branches = (node.anyOf ?? node.oneOf) as Schema[] | undefined;
  if (branches) {
    const nonNull = branches.filter((branch) => branch.type !== 'null');
    const nullable = nonNull.length < branches.length;
    const first = nonNull[0];
    if (first === undefined) return null;
    const holdsObject = first.$ref !== undefined || first.type === 'object';
    if (nullable && !holdsObject && !context.key.endsWith('_id')) return null;
    return exampleFromSchema(first, schemas, context);
  }
  if (Array.isArray(node.allOf)) {
    const merged = Object.assign({}, ...(node.allOf as Schema[]).map((part) => resolve(part, schemas)));
    return exampleFromSchema(merged, schemas, context);
  }
  if (Array.isArray(node.enum)) {
    const values = node.enum as unknown[];
    if (context.key === 'status') {
      const named = statusOfType(context.type);
      if (values.includes(named)) return named;
    }
    return values[0] ?? null;
  }
  const type = Array.isArray(node.type) ? (node.type as string[]).find((t) => t !== 'null') : node.type;
  switch (type) {
    case 'object': {
      const properties = (node.properties ?? {}) as Record<string, Schema>;
      const objectName = (properties.object as Schema | undefined)?.const as string | undefined;
      const out: Record<string, unknown> = {};
      for (const [key, property] of Object.entries(properties)) {
        out[key] = exampleFromSchema(property, schemas, {
          type: context.type,
          key,
          object: objectName ?? context.object,
          depth: context.depth + 1,
        });
      }
      return out;
    }
    case 'array':
      return node.items === undefined
        ? []
        : [exampleFromSchema(node.items, schemas, { ...context, depth: context.depth + 1 })];
    case 'string':
      return stringFor(context.key, node, context.object);
    case 'integer':
    case 'number':
      return numberFor(context.key, node);
    case 'boolean':
      return false;
    default:
      return null;
  }
}

function resolve(schema: Schema, schemas: Schemas): Schema {
  return typeof schema.$ref === 'string' ? (schemas[schema.$ref.split('/').pop()!] ?? {}) : schema;
}

/** The `data` of an event of this type: an example of the object its payload schema describes. */
export function exampleEventData(
  type: EventType,
  dataSchema: unknown,
  schemas: Schemas,
): Record<string, unknown> {
  const object = type.split('.')[0];
  const value = exampleFromSchema(dataSchema, schemas, { type, key: '', object, depth: 0 });
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
