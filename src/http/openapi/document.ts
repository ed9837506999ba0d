import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { FIELD_ERROR_CODES } from '../../lib/errors.ts';
import { SCHEMA_REF, type JsonObject } from './json-schema.ts';
import { OPERATION_IDS, operationKey } from './operation-ids.ts';
import { webhooksSection } from './webhooks-section.ts';

/**
 * What `/openapi.json` adds to the route schemas, in one place so that every route — including ones added
 * later — gets it without repeating it (docs/api-conventions.md):
 *
 * - per route (`transformRoute`): its `operationId` from OPERATION_IDS, and the `Idempotency-Key` header on
 *   every POST whose idempotency is stored (`config.idempotency` `transactional` or `pipeline`);
 * - over the whole document (`transformDocument`): the problem+json error responses of every operation, the
 *   `webhooks` section (one entry per event type), and each component schema once (see `dedupeSchemas`).
 */

type Operation = {
  operationId?: string;
  security?: unknown[];
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses?: Record<string, unknown>;
};
type Document = {
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonObject>; responses?: Record<string, unknown> } & JsonObject;
  webhooks?: Record<string, unknown>;
} & JsonObject;

const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

export const IDEMPOTENCY_KEY_DESCRIPTION =
  'Makes the request safe to retry: the same key with the same request within 24 h answers the stored response ' +
  '(Idempotent-Replayed: true); with another request, 422 idempotency_key_reused (docs/api-conventions.md §11)';

/** Per route: operationId and the Idempotency-Key header, on top of the zod → JSON Schema conversion. */
export const transformRoute: SwaggerTransform = (input) => {
  const result = jsonSchemaTransform(input as never) as { schema: JsonObject; url: string };
  const { route } = input as unknown as {
    route: { method: string | string[]; url: string; config?: { idempotency?: string } };
  };
  const schema = result.schema as JsonObject | undefined;
  if (!schema || schema.hide) return result;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const method = methods.find((m) => m !== 'HEAD') ?? methods[0]!;
  const operationId = OPERATION_IDS[operationKey(method, route.url)];
  const out: JsonObject = { ...schema };
  if (operationId && out.operationId === undefined) out.operationId = operationId;
  if (acceptsNoBody(input)) out[OPTIONAL_BODY] = true;
  const stored = route.config?.idempotency === 'transactional' || route.config?.idempotency === 'pipeline';
  if (method === 'POST' && stored)
    out.headers = withIdempotencyKeyHeader(out.headers as JsonObject | undefined);
  return { ...result, schema: out };
};

/**
 * @fastify/swagger marks every request body `required: true`. A route whose body schema accepts no body at all
 * (every field optional and the schema `.nullish()`: a capture, a refund, a roll — a request without a body
 * reaches the schema as null or undefined, depending on its headers) is marked here, and `transformDocument` makes its request body `required: false`, so a generated client lets the
 * caller leave the body out. (An `x-` key: @fastify/swagger copies it onto the operation.)
 */
const OPTIONAL_BODY = 'x-kassa-optional-body';

function acceptsNoBody(input: unknown): boolean {
  const body = (input as { schema?: { body?: { safeParse?: (value: unknown) => { success: boolean } } } })
    .schema?.body;
  if (typeof body?.safeParse !== 'function') return false;
  return body.safeParse(undefined).success && body.safeParse(null).success;
}

function withOptionalBody(operation: Operation): Operation {
  const { [OPTIONAL_BODY]: optional, ...rest } = operation as Operation & { [OPTIONAL_BODY]?: boolean };
  if (!optional || rest.requestBody === undefined) return rest;
  return { ...rest, requestBody: { ...(rest.requestBody as JsonObject), required: false } };
}

function withIdempotencyKeyHeader(headers: JsonObject | undefined): JsonObject {
  const properties = { ...((headers?.properties as JsonObject | undefined) ?? {}) };
  if (properties['idempotency-key'] !== undefined) return headers!;
  properties['idempotency-key'] = {
    type: 'string',
    minLength: 1,
    maxLength: 255,
    pattern: '^[\\x21-\\x7e]+$',
    description: IDEMPOTENCY_KEY_DESCRIPTION,
  };
  return { type: 'object', ...(headers ?? {}), properties };
}

/** The RFC 9457 problem document every error answers (src/http/plugins/error-handler.ts). */
export const PROBLEM_SCHEMA = {
  type: 'object',
  description:
    'An RFC 9457 problem document; `code` is one of the catalogue in docs/errors.md. Extension members ' +
    '(`current_status`, `required_scope`, …) are documented per code.',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    request_id: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['pointer', 'code', 'message'],
        properties: {
          pointer: {
            type: 'string',
            description:
              'An RFC 6901 JSON pointer into the body, or /query/<name>, /params/<name>, /headers/<name>',
          },
          code: {
            type: 'string',
            enum: [...FIELD_ERROR_CODES],
            description: 'One of the field error codes in docs/errors.md',
          },
          message: {
            type: 'string',
            description:
              'What is expected and what was sent, about the field at `pointer` (`must be at most 100; got 101`)',
          },
        },
      },
    },
  },
} as const;

const PROBLEM_CONTENT = { 'application/problem+json': { schema: { $ref: `${SCHEMA_REF}Problem` } } };

/** Error responses each operation documents, by when they can happen. */
const ERROR_RESPONSES: Record<string, string> = {
  '400': 'The request cannot be understood (malformed JSON, a bad header or cursor)',
  '401': 'No valid credentials',
  '403': 'The credentials lack the scope or permission this operation needs',
  '404': 'No such object for this merchant and mode',
  '406': 'The request does not accept the media type this operation answers in (see its 200 response)',
  '409': 'The object is not in a state that allows this, or the same Idempotency-Key is in progress',
  '415': 'The body is not JSON (send Content-Type: application/json)',
  '422': 'Invalid fields or unknown query parameters: `errors[]` points at each',
  '429': 'Too many requests (see Retry-After)',
  '5XX': 'A failure on Kassa’s side or the processor’s',
};

/** Every `$ref` name reachable from `roots` through the component schemas. */
function referencedSchemas(roots: unknown, schemas: Record<string, JsonObject>): Set<string> {
  const seen = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF)) {
        const name = child.slice(SCHEMA_REF.length);
        if (!seen.has(name)) {
          seen.add(name);
          visit(schemas[name]);
        }
      } else visit(child);
    }
  };
  visit(roots);
  return seen;
}

function rewriteRefs(value: unknown, rename: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((child) => rewriteRefs(child, rename));
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF)) {
      const name = child.slice(SCHEMA_REF.length);
      out.$ref = `${SCHEMA_REF}${rename.get(name) ?? name}`;
    } else if (key === '$id' && typeof child === 'string' && child.startsWith(SCHEMA_REF)) {
      // Dropped: a component is named by its place in the document, and an `$id` makes validators resolve
      // the `$ref`s inside it against itself — which fails the check of the webhook examples against them.
      continue;
    } else out[key] = rewriteRefs(child, rename);
  }
  return out;
}

const sameJson = (a: unknown, b: unknown, rename: Map<string, string>) =>
  JSON.stringify(rewriteRefs(a, rename)) === JSON.stringify(rewriteRefs(b, rename));

/**
 * The zod provider emits every registered schema twice — as read (`Checkout`) and as written
 * (`CheckoutInput`) — whether or not an operation uses both. Kept: the schemas some operation, webhook or
 * other kept schema reaches; a `…Input` whose read twin is unused, or identical to it, takes the plain name.
 * Both stay only where a schema is really read and written in different shapes.
 */
export function dedupeSchemas(document: Document): Document {
  const schemas = document.components?.schemas ?? {};
  const roots = {
    paths: document.paths,
    webhooks: document.webhooks,
    responses: document.components?.responses,
  };
  const used = referencedSchemas(roots, schemas);
  const rename = new Map<string, string>();
  for (const name of used) {
    if (!name.endsWith('Input')) continue;
    const plain = name.slice(0, -'Input'.length);
    if (
      !used.has(plain) ||
      (schemas[plain] && sameJson(schemas[name], schemas[plain], new Map([[name, plain]])))
    )
      rename.set(name, plain);
  }
  const kept: Record<string, JsonObject> = {};
  for (const name of Object.keys(schemas).sort()) {
    if (!used.has(name)) continue;
    const target = rename.get(name) ?? name;
    if (kept[target] && rename.has(name)) continue; // identical twin already kept
    kept[target] = rewriteRefs(schemas[name], rename) as JsonObject;
  }
  return {
    ...document,
    paths: rewriteRefs(document.paths, rename) as Document['paths'],
    webhooks: rewriteRefs(document.webhooks, rename) as Document['webhooks'],
    components: { ...document.components, schemas: kept },
  };
}

/** Over the whole document: error responses, webhooks, schemas once. */
export const transformDocument: SwaggerTransformObject = (input) => {
  const document = jsonSchemaTransformObject(input as never) as unknown as Document;
  const paths: Document['paths'] = {};
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    const next: Record<string, Operation> = {};
    for (const [method, operation] of Object.entries(operations)) {
      if (!(HTTP_METHODS as readonly string[]).includes(method)) {
        next[method] = operation;
        continue;
      }
      next[method] = withErrorResponses(method, path, withOptionalBody(operation));
    }
    paths[path] = next;
  }
  const withAll: Document = {
    ...document,
    paths,
    webhooks: webhooksSection(document.components?.schemas ?? {}),
    components: {
      ...document.components,
      schemas: { ...document.components?.schemas, Problem: PROBLEM_SCHEMA as unknown as JsonObject },
    },
  };
  return dedupeSchemas(withAll) as never;
};

function withErrorResponses(method: string, path: string, operation: Operation): Operation {
  const responses = { ...(operation.responses ?? {}) };
  const authenticated = (operation.security?.length ?? 0) > 0; // set per route by the authentication plugin
  const statuses = ['400'];
  if (authenticated) statuses.push('401', '403');
  if (path.includes('{')) statuses.push('404');
  // A stream answers only a client that asks for one (Accept: text/event-stream): 406 otherwise.
  const ok = operation.responses?.['200'] as { content?: Record<string, unknown> } | undefined;
  if (ok?.content?.['text/event-stream'] !== undefined) statuses.push('406');
  statuses.push('422'); // invalid fields, or an unknown query parameter (src/http/plugins/unknown-query.ts)
  if (method !== 'get' && path !== '/v1/oauth/tokens') statuses.push('409');
  // A form or text body sent to a JSON route (src/http/plugins/json-body.ts); the token route takes forms.
  const takesBody = (operation as { requestBody?: unknown }).requestBody !== undefined;
  if (takesBody && path !== '/v1/oauth/tokens') statuses.push('415');
  statuses.push('429', '5XX');
  for (const status of statuses.sort()) {
    if (responses[status] !== undefined) continue;
    responses[status] = { description: ERROR_RESPONSES[status], content: PROBLEM_CONTENT };
  }
  // Public operations say so (an empty requirement), rather than leaving generators to guess.
  return { ...operation, security: operation.security ?? [], responses };
}
