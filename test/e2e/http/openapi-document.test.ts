import { createConfig, lintFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../../src/modules/events/event.types.ts';
import { OPERATION_IDS } from '../../../src/http/openapi/operation-ids.ts';
import { dedupeSchemas } from '../../../src/http/openapi/document.ts';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';

type Parameter = { in: string; name: string; required?: boolean };
type Schema = {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
};
type Operation = {
  operationId?: string;
  security?: { bearer: string[] }[];
  parameters?: Parameter[];
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
};
type OpenApi = {
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
  components: { schemas: Record<string, unknown> };
};

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];
/** Lists whose presence the envelope check below must find, so that it cannot pass by finding none. */
const KNOWN_LISTS = [
  'GET /v1/checkouts',
  'GET /v1/orders',
  'GET /v1/orders/{id}/payments',
  'GET /v1/orders/{id}/timeline',
  'GET /v1/payments/{id}/captures',
  'GET /v1/payments/{id}/refunds',
  'GET /v1/captures',
  'GET /v1/refunds',
  'GET /v1/events',
  'GET /v1/events/{id}/deliveries',
  'GET /v1/payment-links',
  'GET /v1/webhook-endpoints',
  'GET /v1/customers/{id}/payment-methods',
  'GET /v1/payment-method-settings',
  'GET /v1/processor-accounts',
  'GET /v1/api-keys',
  'GET /v1/audit-log',
];
/** The settings keyed by name: the list envelope, never paginated (docs/api-conventions.md §7). */
const UNPAGINATED_LISTS = new Set(['GET /v1/payment-method-settings']);
const PAGE_PARAMETERS = [
  'limit',
  'starting_after',
  'ending_before',
  'created_gte',
  'created_gt',
  'created_lte',
  'created_lt',
];
/** Public by design (docs/api-conventions.md §12): no security requirement. */
const PUBLIC = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /.well-known/jwks.json',
  'POST /v1/oauth/tokens',
]);

describe('/openapi.json generates clients', () => {
  let t: TestApp;
  let raw: string;
  let doc: OpenApi;
  const operations: [string, Operation][] = [];

  beforeAll(async () => {
    t = await createTestApp();
    raw = (await t.app.inject({ url: '/openapi.json' })).body;
    doc = JSON.parse(raw) as OpenApi;
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        if (METHODS.includes(method)) operations.push([`${method.toUpperCase()} ${path}`, op]);
  });
  afterAll(() => t.close());

  it('gives every operation a unique operationId from src/http/openapi/operation-ids.ts', () => {
    expect(operations.length).toBeGreaterThan(50);
    const missing = operations.filter(([, op]) => !op.operationId).map(([key]) => key);
    expect(
      missing,
      `add these to OPERATION_IDS in src/http/openapi/operation-ids.ts: ${missing.map((k) => `'${k}'`).join(', ')}`,
    ).toEqual([]);
    const seen = new Map<string, string>();
    for (const [key, op] of operations) {
      const other = seen.get(op.operationId!);
      expect(other, `${key} and ${other} share the operationId ${op.operationId}`).toBeUndefined();
      seen.set(op.operationId!, key);
      expect(op.operationId).toMatch(/^[a-z][A-Za-z0-9]+$/);
    }
    const ids = Object.values(OPERATION_IDS);
    expect(new Set(ids).size, 'OPERATION_IDS has an id twice').toBe(ids.length);
    const documented = new Set(operations.map(([key]) => key));
    const stale = Object.keys(OPERATION_IDS).filter((key) => !documented.has(key));
    expect(stale, 'OPERATION_IDS names operations the API does not have').toEqual([]);
  });

  it('applies the bearer scheme to every authenticated operation and to no public one', () => {
    for (const [key, op] of operations) {
      if (PUBLIC.has(key)) expect(op.security, key).toEqual([]);
      else expect(op.security?.[0]?.bearer?.length, key).toBe(1);
    }
  });

  it('documents problem+json errors on every operation', () => {
    for (const [key, op] of operations) {
      const errors = Object.entries(op.responses).filter(([status]) => /^[45]/.test(status));
      const problem = errors.filter(([, r]) => r.content?.['application/problem+json']);
      expect(problem.length, `${key} documents no problem+json error`).toBeGreaterThan(0);
      expect(Object.keys(op.responses), key).toContain('5XX');
      if (!PUBLIC.has(key))
        expect(Object.keys(op.responses), key).toEqual(expect.arrayContaining(['401', '403']));
    }
    expect(doc.components.schemas.Problem).toMatchObject({
      required: expect.arrayContaining(['code', 'status']),
    });
  });

  it('declares Idempotency-Key on every POST that stores its answer, and not on the token route', () => {
    for (const [key, op] of operations) {
      if (!key.startsWith('POST ')) continue;
      const header = (op.parameters ?? []).find((p) => p.in === 'header' && p.name === 'idempotency-key');
      if (key === 'POST /v1/oauth/tokens') expect(header, key).toBeUndefined();
      else expect(header, `${key} lacks the Idempotency-Key header`).toBeDefined();
    }
  });

  it('lists every event type under webhooks with its payload schema', () => {
    expect(Object.keys(doc.webhooks).sort()).toEqual([...EVENT_TYPES].sort());
    const paymentSucceeded = doc.webhooks['payment.succeeded']!.post.requestBody.content['application/json']!
      .schema as { properties: { data: { $ref: string }; type: { const: string } } };
    expect(paymentSucceeded.properties.type.const).toBe('payment.succeeded');
    expect(paymentSucceeded.properties.data.$ref).toBe('#/components/schemas/Payment');
  });

  it('holds each schema once: no Input twins, nothing unreferenced', () => {
    const names = Object.keys(doc.components.schemas);
    expect(names.filter((name) => name.endsWith('Input'))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['Checkout', 'CreateCheckout', 'Payment', 'Problem']));
    for (const name of names)
      expect(raw, `${name} is never referenced`).toContain(`"#/components/schemas/${name}"`);
  });

  it('keeps both twins where a schema is read and written in different shapes', () => {
    const deduped = dedupeSchemas({
      paths: {
        '/a': {
          get: { responses: { 200: { $ref: '#/components/schemas/A' } } },
          post: { requestBody: { $ref: '#/components/schemas/AInput' }, responses: {} },
        },
        '/b': { post: { requestBody: { $ref: '#/components/schemas/BInput' }, responses: {} } },
      },
      components: {
        schemas: {
          A: { type: 'object', required: ['x'] },
          AInput: { type: 'object' },
          B: { type: 'object' },
          BInput: { type: 'object', properties: { c: { $ref: '#/components/schemas/CInput' } } },
          C: { type: 'string' },
          CInput: { type: 'string' },
          Unused: { type: 'string' },
        },
      },
    });
    expect(Object.keys(deduped.components!.schemas!)).toEqual(['A', 'AInput', 'B', 'C']);
    expect(JSON.stringify(deduped.paths)).toContain('"#/components/schemas/B"');
    expect(deduped.components!.schemas!.B).toEqual({
      type: 'object',
      properties: { c: { $ref: '#/components/schemas/C' } },
    });
  });

  it('gives every object id, object and created_at, and aliases equal to nothing else (docs/api-conventions.md#2-objects)', () => {
    type Schema = { properties?: Record<string, { const?: unknown; enum?: unknown[] }>; required?: string[] };
    const objects: { name: unknown; where: string; schema: Schema }[] = [];
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) return node.forEach((item) => walk(item, where));
      if (node === null || typeof node !== 'object') return;
      const schema = node as Schema;
      const object = schema.properties?.object;
      if (object) objects.push({ name: object.const ?? object.enum?.join('|'), where, schema });
      for (const child of Object.values(node)) walk(child, where);
    };
    for (const [name, schema] of Object.entries(doc.components.schemas)) walk(schema, `#/${name}`);
    for (const [where, op] of operations) walk(op.responses, where);
    // Lists are envelopes, not objects; a deletion answers the stub {id, object, deleted}. The other two are
    // answers that become list envelopes (the deviations table's D16 and D22). An eligibility is computed at
    // the moment of asking, never stored: it has no id or creation time of its own (docs/api-conventions.md §2).
    const notObjects = new Set(['list', 'event_redelivery', 'order_timeline', 'payment_method_eligibility']);
    const checked = objects.filter(
      ({ name, schema }) => !notObjects.has(String(name)) && !schema.properties?.deleted,
    );
    expect(checked.map(({ name }) => name)).toEqual(
      expect.arrayContaining([
        'checkout',
        'order',
        'customer',
        'payment_link',
        'payment',
        'capture',
        'refund',
      ]),
    );
    const missing = checked.flatMap(({ name, where, schema }) =>
      ['id', 'object', 'created_at']
        .filter((field) => !schema.required?.includes(field))
        .map((field) => `${String(name)} (${where}) lacks a required ${field}`),
    );
    expect(missing).toEqual([]);
    // One name per concept: capture_mode / default_capture_mode, nowhere the names they replace.
    expect(raw).not.toMatch(/"(capture|default_capture)":\{/);
  });

  it('answers every list in the one envelope, with the cursor and date parameters (docs/api-conventions.md §7, §8)', () => {
    const resolve = (schema: Schema | undefined): Schema | undefined => {
      const name = schema?.$ref?.replace('#/components/schemas/', '');
      return name ? resolve(doc.components.schemas[name] as Schema) : schema;
    };
    const lists: string[] = [];
    for (const [key, op] of operations) {
      if (!key.startsWith('GET ')) continue;
      const body = resolve(op.responses['200']?.content?.['application/json']?.schema);
      if (body?.properties?.data?.type !== 'array') continue;
      lists.push(key);
      expect(Object.keys(body.properties).sort(), key).toEqual(['data', 'has_more', 'next_cursor', 'object']);
      expect(body.required?.sort(), key).toEqual(['data', 'has_more', 'next_cursor', 'object']);
      const object = body.properties.object!;
      expect(object.const ?? object.enum, key).toEqual(object.const === undefined ? ['list'] : 'list');
      expect(body.properties.has_more, key).toMatchObject({ type: 'boolean' });
      const cursor = body.properties.next_cursor!;
      const cursorTypes = cursor.anyOf?.map((s) => s.type) ?? [cursor.type].flat();
      expect(cursorTypes.sort(), key).toEqual(['null', 'string']);
      const names = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      if (UNPAGINATED_LISTS.has(key)) expect(names, key).toEqual([]);
      else expect(names, `${key} lacks list parameters`).toEqual(expect.arrayContaining(PAGE_PARAMETERS));
      for (const old of ['created[gte]', 'created[lte]', 'created_after', 'created_before'])
        expect(names, key).not.toContain(old);
    }
    expect(lists, 'a known list is not answered in the list envelope').toEqual(
      expect.arrayContaining(KNOWN_LISTS),
    );
  });

  it('declares expand[] wherever an answer names an object with its own GET route (docs/api-conventions.md §6)', () => {
    type Node = Schema & { oneOf?: Schema[]; allOf?: Schema[] };
    const resolve = (schema: Node | undefined): Node | undefined => {
      const name = schema?.$ref?.replace('#/components/schemas/', '');
      return name ? resolve(doc.components.schemas[name] as Node) : schema;
    };
    // Each variant of a union (an order's timeline holds several kinds of entries) is an object of its own.
    const variants = (schema: Node | undefined): Node[] => {
      const resolved = resolve(schema);
      if (!resolved) return [];
      const parts = [...(resolved.anyOf ?? []), ...(resolved.oneOf ?? []), ...(resolved.allOf ?? [])];
      return parts.length > 0 ? parts.flatMap(variants) : [resolved];
    };
    // `payment_link` → GET /v1/payment-links/{id}: an `<x>_id` field is expandable when that route exists.
    const routeOf = (name: string) => `/v1/${name.replace(/_/g, '-')}s/{id}`;
    const checked: string[] = [];
    const missing: string[] = [];
    for (const [key, op] of operations) {
      const [method, path] = key.split(' ') as [string, string];
      if (method !== 'GET' || !path.startsWith('/v1/')) continue;
      const body = resolve(op.responses['200']?.content?.['application/json']?.schema);
      const isList = body?.properties?.has_more !== undefined;
      const items = variants(isList ? body?.properties?.data?.items : body);
      const expand = (op.parameters ?? []).find((p) => p.in === 'query' && p.name === 'expand[]') as
        (Parameter & { description?: string }) | undefined;
      for (const item of items) {
        const own = item.properties?.object?.const ?? item.properties?.object?.enum?.[0];
        for (const field of Object.keys(item.properties ?? {})) {
          const name = field.replace(/_id$/, '');
          if (name === field || name === own || doc.paths[routeOf(name)]?.get === undefined) continue;
          // A view of the object in the path (the browser SDK's routes under /v1/checkouts/{id}/…) names
          // that object's id: there is nothing to add that the caller did not ask for by its own route.
          if (path.startsWith(`${routeOf(name)}/`)) continue;
          checked.push(`${key} ${field}`);
          const pathName = isList ? `data.${name}` : name;
          if (!expand?.description?.includes(pathName) || !item.properties?.[name])
            missing.push(`${key}: ${field} without expand[]=${pathName} and its optional property`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toEqual(
      expect.arrayContaining([
        'GET /v1/payments/{id} order_id',
        'GET /v1/orders checkout_id',
        'GET /v1/checkouts/{id} payment_link_id',
        'GET /v1/events/{id} payment_id',
        'GET /v1/events/{id}/deliveries webhook_endpoint_id',
        'GET /v1/orders/{id}/timeline event_id',
        'GET /v1/refunds payment_id',
      ]),
    );
  });

  it("passes Redocly's recommended ruleset", async () => {
    const config = await createConfig({
      extends: ['recommended'],
      rules: {
        // Kassa's routes have no tags yet, and the servers URL is this test's loopback address.
        'operation-tag-defined': 'off',
        'tags-alphabetical': 'off',
        'no-server-example.com': 'off',
        'info-license': 'off',
        'info-license-url': 'off',
      },
    });
    const problems = await lintFromString({ source: raw, absoluteRef: '/openapi.json', config });
    const serious = problems
      .filter((problem) => problem.severity === 'error' || problem.severity === 'warn')
      .map(
        (problem) =>
          `${problem.severity} ${problem.ruleId}: ${problem.message} @ ${problem.location[0]?.pointer}`,
      );
    expect(serious).toEqual([]);
  });
});
