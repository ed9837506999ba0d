import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import {
  checkProblemDocument,
  describeViolations,
  OAUTH_TOKEN_PATH,
  type OpenApiDocument,
  type OpenApiOperation,
} from '../fixtures/openapi-contract.ts';
import { checkoutRequest, simpleOrder } from '../e2e/checkouts/checkout-fixtures.ts';
import { linkRequest } from '../e2e/payment-links/payment-link-fixtures.ts';
import { cardMethod, TEST_CARDS } from '../e2e/payments/payment-fixtures.ts';
import { arbitraryFromSchema, loopbackUrl, type JsonSchema } from './schema-arbitrary.ts';

/**
 * Contract fuzzing (issue 7): for every operation of `/openapi.json`, fast-check sends schema-derived requests
 * (bodies, path and query parameters generated from the document itself, steered towards real ids so they reach
 * the handlers) and malformed ones — wrong types, huge strings, deep nesting, unknown fields, bad JSON, wrong
 * content types, missing or foreign credentials, unicode and NUL characters, negative / fractional / huge
 * amounts, junk path parameters, bad Idempotency-Keys, other methods.
 *
 * Every answer must be below 500; every error a valid RFC 9457 problem document (status = HTTP status, code from
 * the catalogue with that status) — except the OAuth token endpoint's RFC 6749 errors; every success must match
 * the document (checked by the contract hook `createTestApp` installs). Failures shrink to a minimal request.
 */

const RUNS_PER_OPERATION = Number(process.env.KASSA_FUZZ_RUNS ?? 300);

type FuzzRequest = {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  note: string;
};

type Fixtures = {
  checkoutIds: string[];
  orderIds: string[];
  customerIds: string[];
  paymentIds: string[];
  eventIds: string[];
  endpointIds: string[];
  linkIds: string[];
  clientTokens: string[];
};

let t: TestApp;
let merchant: TestMerchant;
let otherMerchant: TestMerchant;
let liveMerchant: TestMerchant;
let document: OpenApiDocument;
let sink: http.Server;
let sinkPort: number;
const fixtures: Fixtures = {
  checkoutIds: [],
  orderIds: [],
  customerIds: [],
  paymentIds: [],
  eventIds: [],
  endpointIds: [],
  linkIds: [],
  clientTokens: [],
};
const statusCounts = new Map<string, Map<number, number>>();
let requestsSent = 0;

beforeAll(async () => {
  // Callbacks (verify_order …) the fuzzer registers point here: a loopback receiver that says OKAY.
  sink = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'text/plain' }).end('OKAY'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  sinkPort = (sink.address() as AddressInfo).port;

  t = await createTestApp();
  merchant = await t.createMerchant();
  otherMerchant = await t.createMerchant({ name: 'Other Shop' });
  liveMerchant = await t.createMerchant({ livemode: true, name: 'Live Shop' });
  document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
  await createFixtures();
});

afterAll(async () => {
  const table = [...statusCounts].map(
    ([operation, counts]) => `${operation}: ${[...counts].map(([s, n]) => `${s}×${n}`).join(' ')}`,
  );
  console.log(`contract fuzzing: ${requestsSent} requests\n  ${table.join('\n  ')}`);
  await t?.close();
  await new Promise<void>((resolve) => sink?.close(() => resolve()));
});

async function api(method: string, url: string, payload?: unknown, who: TestMerchant = merchant) {
  const response = await t.app.inject({
    method: method as 'POST',
    url,
    headers: who.headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  if (response.statusCode >= 300)
    throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.json<Record<string, unknown> & { order: Record<string, unknown> }>();
}

/** Real objects of every kind, so generated ids and bodies reach the handlers' business logic. */
async function createFixtures() {
  for (let n = 0; n < 30; n += 1) {
    const order = {
      ...simpleOrder('EUR', 'DE', 1000 + n, `fuzz-${n}`),
      customer: { email: `shopper${n}@example.com`, first_name: 'Ada', last_name: 'Lovelace' },
    };
    const checkout = await api(
      'POST',
      '/v1/checkouts',
      checkoutRequest(order, { capture_mode: n % 2 ? 'automatic' : 'manual' }),
    );
    fixtures.checkoutIds.push(String(checkout.checkout_id));
    fixtures.orderIds.push(String(checkout.order.order_id));
    fixtures.customerIds.push(String((checkout.order.customer as { customer_id: string }).customer_id));
    fixtures.clientTokens.push(String(checkout.client_token));
    // Six of them paid (authorized or captured, one pending invoice); the rest stay OPEN for the fuzzer to pay.
    if (n < 5) {
      const payment = await api('POST', '/v1/payments', {
        checkout_id: checkout.checkout_id,
        payment_method: cardMethod(),
      });
      fixtures.paymentIds.push(String(payment.id));
    } else if (n === 5) {
      const payment = await api('POST', '/v1/payments', {
        checkout_id: checkout.checkout_id,
        payment_method: { type: 'invoice' },
      });
      fixtures.paymentIds.push(String(payment.id));
    }
  }
  for (let n = 0; n < 3; n += 1) {
    const link = await api('POST', '/v1/payment-links', linkRequest());
    fixtures.linkIds.push(String(link.payment_link_id));
  }
  for (let n = 0; n < 4; n += 1) {
    const endpoint = await api('POST', '/v1/webhook-endpoints', {
      url: `http://127.0.0.1:${sinkPort}/hooks/${n}`,
      enabled_events: ['*'],
    });
    fixtures.endpointIds.push(String(endpoint.id));
  }
  const events = await api('GET', '/v1/events?limit=100');
  fixtures.eventIds.push(...(events.data as { id: string }[]).map((event) => event.id));
  // Another merchant's objects: answering them must look exactly like unknown ids.
  const foreign = await api(
    'POST',
    '/v1/checkouts',
    checkoutRequest(simpleOrder('EUR', 'DE', 500, 'foreign')),
    otherMerchant,
  );
  fixtures.checkoutIds.push(String(foreign.checkout_id));
}

// ---------------------------------------------------------------------------------------------------------
// Generators

const JUNK_STRINGS = [
  '',
  ' ',
  'null',
  'undefined',
  '0',
  '-1',
  '1e309',
  'chk_',
  'pay_00000000000000000000000000000000',
  "'; DROP TABLE checkouts; --",
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\u202e\u0644\u0627',
  '💳'.repeat(300),
  'ñ'.repeat(5000),
  'x'.repeat(70_000),
  '%00',
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  '\r\nX-Injected: 1',
];

const NASTY_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  -0,
  0.5,
  1.000001,
  -99999999,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 64,
  1e21,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  [],
  [null],
  {},
  { nested: { deeper: [1, 'two', { three: 3 }] } },
  ...JUNK_STRINGS,
  '100',
  '12.50',
  'EUR',
  'eur',
  'XXX',
  '2025-02-30T25:61:00Z',
  'http://127.0.0.1:1/x',
  'javascript:alert(1)',
  'data:text/html,<b>x</b>',
  'ftp://127.0.0.1/x',
];

const nastyValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_VALUES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.double().filter((value) => Number.isFinite(value)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Every JSON path (as a list of keys) inside a value. */
function pathsOf(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const path = [...prefix, Array.isArray(value) ? Number(key) : key];
      out.push(path);
      pathsOf(child, path, out);
    }
  }
  return out;
}

/** One change at one place of a valid value: replace with a nasty value, delete, or add an unknown member. */
function mutate(
  value: unknown,
  pick: number,
  replacement: unknown,
  action: 'replace' | 'delete' | 'add',
): unknown {
  const copy = structuredClone(value) as unknown;
  const paths = pathsOf(copy);
  if (paths.length === 0 || copy === null || typeof copy !== 'object')
    return action === 'add' ? { unexpected: replacement } : replacement;
  const path = paths[pick % paths.length]!;
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (action === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (
    action === 'add' &&
    parent[last] !== null &&
    typeof parent[last] === 'object' &&
    !Array.isArray(parent[last])
  ) {
    (parent[last] as Record<string, unknown>)[`unexpected_${pick % 7}`] = replacement;
  } else {
    parent[last] = replacement;
  }
  return copy;
}

function deepNesting(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? '['.repeat(depth) + ']'.repeat(depth)
    : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

const RAW_BODIES: { contentType: string | undefined; payload: string }[] = [
  { contentType: 'application/json', payload: '{"order": ' },
  { contentType: 'application/json', payload: '{"a":1,}' },
  { contentType: 'application/json', payload: "{'single': 'quotes'}" },
  { contentType: 'application/json', payload: '' },
  { contentType: 'application/json', payload: 'null' },
  { contentType: 'application/json', payload: '"just a string"' },
  { contentType: 'application/json', payload: '12345' },
  { contentType: 'application/json', payload: '[1,2,3]' },
  { contentType: 'application/json', payload: '\ufeff{}' },
  {
    contentType: 'application/json',
    payload: '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
  },
  { contentType: 'application/json', payload: '{"amount": 1, "amount": "dup"}' },
  { contentType: 'application/json', payload: '{"amount": 1e400}' },
  { contentType: 'application/json', payload: '{"amount": 123456789012345678901234567890}' },
  { contentType: 'application/json', payload: '{"s": "\\ud800\\udc00\\ud800"}' },
  { contentType: 'application/json', payload: deepNesting(20_000, 'array') },
  { contentType: 'application/json', payload: deepNesting(5_000, 'object') },
  { contentType: 'application/json', payload: `{"description": "${'x'.repeat(1_100_000)}"}` },
  { contentType: 'application/json; charset=utf-16', payload: '{}' },
  { contentType: 'application/json; charset=latin1', payload: '{"a":"\u00e9"}' },
  { contentType: 'text/plain', payload: '{"amount": 100}' },
  { contentType: 'application/xml', payload: '<order><amount>1</amount></order>' },
  {
    contentType: 'multipart/form-data; boundary=xyz',
    payload: '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--',
  },
  { contentType: 'application/x-www-form-urlencoded', payload: 'amount=100&order[total_amount]=5&a=%ZZ' },
  {
    contentType: 'application/x-www-form-urlencoded',
    payload: 'grant_type=client_credentials&client_id=x&client_secret=y',
  },
  { contentType: 'application/octet-stream', payload: '\u0000\u0001\u0002' },
  { contentType: 'image/png', payload: 'PNG' },
  { contentType: 'garbage', payload: '{}' },
  { contentType: undefined, payload: '{"amount": 1}' },
];

/** encodeURIComponent for any string: lone surrogates (which it refuses) become U+FFFD, as UTF-8 would carry them. */
function percentEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

function idsFor(path: string, param: string): string[] {
  if (param === 'method') return ['card', 'invoice', 'wallet'];
  if (param === 'pm_id') return ['pm_00000000000000000000000000000000'];
  if (path.startsWith('/v1/checkouts/')) return fixtures.checkoutIds;
  if (path.startsWith('/v1/orders/')) return fixtures.orderIds;
  if (path.startsWith('/v1/customers/')) return fixtures.customerIds;
  if (path.startsWith('/v1/payments/') || path.startsWith('/v1/sandbox/payments/'))
    return fixtures.paymentIds;
  if (path.startsWith('/v1/events/')) return fixtures.eventIds;
  if (path.startsWith('/v1/webhook-endpoints/')) return fixtures.endpointIds;
  if (path.startsWith('/v1/payment-links/')) return fixtures.linkIds;
  return [];
}

function allIds(): string[] {
  return Object.values(fixtures).flat() as string[];
}

function pathParamArbitrary(path: string, param: string): fc.Arbitrary<{ raw: boolean; value: string }> {
  const own = idsFor(path, param);
  return fc.oneof(
    {
      weight: own.length ? 8 : 0,
      arbitrary: fc.constantFrom(...(own.length ? own : ['x'])).map((value) => ({ raw: false, value })),
    },
    { weight: 1, arbitrary: fc.constantFrom(...allIds()).map((value) => ({ raw: false, value })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...JUNK_STRINGS.filter((s) => s.length < 10_000))
        .map((value) => ({ raw: false, value })),
    },
    {
      weight: 1,
      arbitrary: fc.string({ maxLength: 40, unit: 'grapheme' }).map((value) => ({ raw: false, value })),
    },
    // Not URL-encoded at all: broken escapes, dot segments, encoded slashes.
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('%', '%zz', '%00', '..', '%2e%2e', 'a%2Fb', 'a/b', '?x=1', '#frag')
        .map((value) => ({ raw: true, value })),
    },
  );
}

function queryArbitrary(operation: OpenApiOperation): fc.Arbitrary<string> {
  const params = (operation.parameters ?? []).filter((parameter) => parameter.in === 'query');
  const pairs = params.map((parameter) =>
    fc.option(
      fc
        .oneof(
          {
            weight: 4,
            arbitrary: arbitraryFromSchema(parameter.schema ?? {}, schemaOptions()).map((value) =>
              String(value),
            ),
          },
          { weight: 1, arbitrary: fc.constantFrom(...allIds()) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              '-1',
              '0',
              '101',
              '1.5',
              '1e3',
              'abc',
              '',
              'true',
              '9'.repeat(30),
              '2025-13-45T00:00:00Z',
              '\u0000',
            ),
          },
        )
        .map((value) => `${percentEncode(parameter.name)}=${percentEncode(value)}`),
      { nil: undefined, freq: 2 },
    ),
  );
  const unknown = fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'unknown=1',
        'limit=5&limit=6',
        'expand[]=x',
        'a[b][c]=d',
        '=',
        '&&',
        '%zz=1',
      ),
    },
  );
  return fc.tuple(fc.tuple(...pairs), unknown).map(([values, extra]) => {
    const parts = [...values.filter((v): v is string => v !== undefined), ...(extra ? [extra] : [])];
    return parts.length ? `?${parts.join('&')}` : '';
  });
}

let fuzzKeyCounter = 0;

const authArbitrary: fc.Arbitrary<{ label: string; headers: () => Record<string, string> }> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ label: 'merchant', headers: () => merchant.headers }) },
  { weight: 1, arbitrary: fc.constant({ label: 'none', headers: () => ({}) }) },
  { weight: 1, arbitrary: fc.constant({ label: 'other merchant', headers: () => otherMerchant.headers }) },
  { weight: 1, arbitrary: fc.constant({ label: 'live merchant', headers: () => liveMerchant.headers }) },
  {
    weight: 1,
    arbitrary: fc.constant({
      label: 'client token',
      headers: () => ({ authorization: `Bearer ${fixtures.clientTokens[0]}` }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        'Bearer',
        'Bearer ',
        'Bearer sk_test_0000000000',
        'Bearer sk_live_xyz',
        'Bearer ct_junk',
        'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        'Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.e30.c2ln',
        'Basic Y2xpOnNlY3JldA==',
        'Basic !!!',
        `Basic ${Buffer.from('cli_x\u0000:secret').toString('base64')}`,
        `Basic ${Buffer.from('cli_x%00:sec%00ret').toString('base64')}`,
        'Digest x',
        'bearer  ' + 'a'.repeat(8000),
      )
      .map((value) => ({
        label: `authorization: ${value.slice(0, 30)}`,
        headers: () => ({ authorization: value }),
      })),
  },
);

const idempotencyArbitrary: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  {
    weight: 3,
    arbitrary: fc
      .constant(null)
      .map(() => ({ 'idempotency-key': `fuzz-${process.pid}-${(fuzzKeyCounter += 1)}` })),
  },
  { weight: 1, arbitrary: fc.constant({ 'idempotency-key': 'fuzz-reused-key' }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('', ' ', 'x'.repeat(256), 'ключ', 'a b\tc', '\u00e9t\u00e9')
      .map((key) => ({ 'idempotency-key': key })),
  },
);

function schemaOptions() {
  return {
    components: (document.components?.schemas ?? {}) as Record<string, JsonSchema>,
    hints: (name: string, schema: JsonSchema): fc.Arbitrary<unknown> | undefined => {
      const isString =
        schema.type === 'string' ||
        (Array.isArray(schema.anyOf) && (schema.anyOf as JsonSchema[]).some((s) => s.type === 'string'));
      if (!isString || schema.enum) return undefined;
      if (/url$|^ok$|^fail$|^open$|^notification$|^verify_order$/.test(name)) return loopbackUrl(sinkPort);
      if (name === 'currency') return fc.constantFrom('EUR', 'USD', 'JPY', 'KWD', 'DKK', 'MXN', 'XXX', 'usd');
      if (name === 'country_code')
        return fc.constantFrom('DE', 'US', 'JP', 'KW', 'DK', 'MX', 'FI', 'ZZ', 'de');
      if (name === 'checkout_id') return fc.constantFrom(...fixtures.checkoutIds);
      if (name === 'webhook_endpoint_id') return fc.constantFrom(...fixtures.endpointIds, 'whe_x');
      if (name === 'number')
        return fc.constantFrom(...Object.values(TEST_CARDS), '4242 4242 4242 4241', '1234');
      if (name === 'cvc') return fc.constantFrom('123', '1234', '12', 'abc');
      if (name === 'locale' || name === 'default_locale')
        return fc.constantFrom('EN', 'ES_LATAM', 'DA', 'es-MX', 'da-DK', 'xx-invalid-', 'en');
      if (name === 'grant_type')
        return fc.constantFrom('client_credentials', 'password', 'authorization_code');
      if (name === 'client_id') return fc.constantFrom(merchant.clientId, 'cli_unknown');
      if (name === 'client_secret') return fc.constantFrom(merchant.clientSecret, 'wrong-secret');
      return undefined;
    },
  };
}

/** Valid requests the fuzzer mutates, so malformed variants start from something that would succeed. */
function seedBodies(path: string, method: string): unknown[] {
  const key = `${method.toUpperCase()} ${path}`;
  const checkoutBody = checkoutRequest(
    {
      ...simpleOrder('EUR', 'DE', 2500, 'seed'),
      customer: { email: 'seed@example.com', first_name: 'Ada', last_name: 'L' },
    },
    {
      capture_mode: 'manual',
      callbacks: { verify_order: `http://127.0.0.1:${sinkPort}/verify` },
      metadata: { cart: 'c-1' },
    },
  );
  switch (key) {
    case 'POST /v1/checkouts':
      return [checkoutBody];
    case 'PUT /v1/checkouts/{id}':
      return [{ order: simpleOrder('EUR', 'DE', 3000, 'seed-put') }];
    case 'POST /v1/payments':
      // One per open fixture checkout, cycling through the outcomes (a checkout is paid at most once).
      return fixtures.checkoutIds.slice(6, 30).map((checkoutId, index) => ({
        checkout_id: checkoutId,
        payment_method: [
          cardMethod(),
          { type: 'invoice' },
          cardMethod(TEST_CARDS.threeDSecure),
          cardMethod(TEST_CARDS.declined),
          { type: 'wallet' },
          cardMethod(TEST_CARDS.pending),
        ][index % 6],
        device: index % 2 ? 'mobile' : 'desktop',
      }));
    case 'POST /v1/payments/{id}/capture':
      return [{ amount: 100 }, {}];
    case 'POST /v1/payments/{id}/refunds':
      return [{ amount: 50, reason: 'damaged' }, {}];
    case 'POST /v1/payment-links':
      return [linkRequest({ usage: 'reusable', max_completions: 3 })];
    case 'POST /v1/customers':
      // Distinct addresses: a second creation with one is a 409 (one customer per e-mail address).
      return Array.from({ length: 20 }, (_, index) => ({
        email: `fuzz-${index}@example.com`,
        first_name: 'Ada',
        metadata: { crm_id: `C-${index}` },
      }));
    case 'POST /v1/webhook-endpoints':
      return [
        {
          url: `http://127.0.0.1:${sinkPort}/new`,
          enabled_events: ['payment.succeeded'],
          description: 'fuzz',
        },
      ];
    case 'PATCH /v1/webhook-endpoints/{id}':
      return [{ description: 'changed', enabled_events: ['*'] }];
    case 'PATCH /v1/merchant':
      return [
        { display_name: 'Fuzz Shop', branding: { primary_color: '#123456' }, default_capture_mode: 'manual' },
      ];
    case 'PATCH /v1/payment-method-settings/{method}':
    case 'PUT /v1/payment-method-settings/{method}':
      return [
        { enabled: true, currencies: ['EUR', 'USD'], min_amount: 1, max_amount: 1_000_000, display_order: 1 },
      ];
    case 'POST /v1/oauth/tokens':
      return [
        {
          grant_type: 'client_credentials',
          client_id: merchant.clientId,
          client_secret: merchant.clientSecret,
        },
        { grant_type: 'client_credentials' }, // with HTTP Basic client authentication
      ];
    case 'POST /v1/sandbox/payments/{id}/resolve':
      return [{ outcome: 'SUCCEEDED' }];
    default:
      return [];
  }
}

function bodyArbitrary(path: string, method: string, operation: OpenApiOperation) {
  const schema = operation.requestBody?.content?.['application/json']?.schema;
  const derived = schema === undefined ? fc.constant({}) : arbitraryFromSchema(schema, schemaOptions());
  const seeds = seedBodies(path, method);
  const base = seeds.length ? fc.oneof(fc.constantFrom(...seeds), derived) : derived;
  const json =
    (contentType = 'application/json') =>
    (value: unknown) => ({ contentType, payload: JSON.stringify(value) as string | undefined });
  const mutated = fc
    .tuple(
      base,
      fc.nat(),
      nastyValue,
      fc.constantFrom<'replace' | 'delete' | 'add'>('replace', 'replace', 'delete', 'add'),
    )
    .map(([value, pick, replacement, action]) => mutate(value, pick, replacement, action));
  const formEncoded = base.map((value) => {
    const form = new URLSearchParams();
    for (const [key, field] of Object.entries((value as Record<string, unknown>) ?? {}))
      form.append(key, typeof field === 'object' ? JSON.stringify(field) : String(field));
    return {
      contentType: 'application/x-www-form-urlencoded' as string | undefined,
      payload: form.toString() as string | undefined,
    };
  });
  const hasBody = schema !== undefined;
  return fc.oneof(
    { weight: hasBody ? 5 : 0, arbitrary: derived.map(json()) },
    {
      weight: hasBody && seeds.length ? 4 : 0,
      arbitrary: fc
        .constantFrom(...(seeds.length ? seeds : [{}]))
        .map(json('application/json; charset=utf-8')),
    },
    { weight: hasBody ? 5 : 1, arbitrary: mutated.map(json()) },
    { weight: 1, arbitrary: formEncoded },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...RAW_BODIES)
        .map((raw) => ({ contentType: raw.contentType, payload: raw.payload as string | undefined })),
    },
    {
      weight: hasBody ? 1 : 6,
      arbitrary: fc.constant({
        contentType: undefined as string | undefined,
        payload: undefined as string | undefined,
      }),
    },
  );
}

function requestArbitrary(
  path: string,
  method: string,
  operation: OpenApiOperation,
): fc.Arbitrary<FuzzRequest> {
  const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
  const params = fc.tuple(...pathParams.map((param) => pathParamArbitrary(path, param)));
  // Mostly the documented method; sometimes another one (405 / 404 problem documents).
  const otherMethod = fc.oneof(
    { weight: 15, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') },
  );
  return fc
    .tuple(
      params,
      queryArbitrary(operation),
      bodyArbitrary(path, method, operation),
      authArbitrary,
      idempotencyArbitrary,
      otherMethod,
    )
    .map(([values, query, body, auth, idempotency, switched]) => {
      let url = path;
      pathParams.forEach((param, index) => {
        const { raw, value } = values[index]!;
        url = url.replace(`{${param}}`, raw ? value : percentEncode(value));
      });
      const headers: Record<string, string> = { ...auth.headers(), ...idempotency };
      if (body.contentType !== undefined) headers['content-type'] = body.contentType;
      const finalMethod = switched ?? method.toUpperCase();
      const request: FuzzRequest = {
        method: finalMethod,
        url: `${url}${query}`,
        headers,
        note: `${auth.label}`,
      };
      if (body.payload !== undefined && finalMethod !== 'GET') request.payload = body.payload;
      return request;
    });
}

function describeRequest(request: FuzzRequest): string {
  const payload =
    request.payload === undefined
      ? ''
      : ` body=${request.payload.length > 300 ? `${request.payload.slice(0, 300)}…(${request.payload.length} chars)` : request.payload}`;
  return `${request.method} ${request.url.slice(0, 300)} [${request.note}] headers=${JSON.stringify({ ...request.headers, authorization: request.headers.authorization ? '…' : undefined })}${payload}`;
}

// ---------------------------------------------------------------------------------------------------------

/** Objects the fuzzer itself created become targets too (up to a bound), so state-changing operations find fresh ones. */
function rememberCreatedObject(body: string) {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return;
  }
  const add = (pool: string[], id: unknown) => {
    if (typeof id === 'string' && pool.length < 200 && !pool.includes(id)) pool.push(id);
  };
  switch (value?.object) {
    case 'checkout':
      add(fixtures.checkoutIds, value.checkout_id);
      add(fixtures.orderIds, (value.order as { order_id?: string } | undefined)?.order_id);
      break;
    case 'payment':
      add(fixtures.paymentIds, value.id);
      break;
    case 'webhook_endpoint':
      add(fixtures.endpointIds, value.id);
      break;
    case 'payment_link':
      add(fixtures.linkIds, value.payment_link_id);
      break;
    default:
      break;
  }
}

async function send(operationLabel: string, request: FuzzRequest) {
  const violationsBefore = t.contractViolations.length;
  const response = await t.app.inject({
    method: request.method as 'GET',
    url: request.url,
    headers: request.headers,
    ...(request.payload === undefined ? {} : { payload: request.payload }),
  });
  requestsSent += 1;
  const counts = statusCounts.get(operationLabel) ?? new Map<number, number>();
  counts.set(response.statusCode, (counts.get(response.statusCode) ?? 0) + 1);
  statusCounts.set(operationLabel, counts);
  if (
    process.env.KASSA_FUZZ_DEBUG &&
    (counts.get(response.statusCode) === 1 || request.payload?.includes(process.env.KASSA_FUZZ_DEBUG))
  ) {
    console.log(
      `${operationLabel} → ${response.statusCode}: ${describeRequest(request).slice(0, 600)}\n   ${response.body.slice(0, 400)}`,
    );
  }

  const context = `${describeRequest(request)}\n→ ${response.statusCode} ${response.headers['content-type']} ${response.body.slice(0, 500)}`;
  if (response.statusCode >= 500) {
    const requestId = String(response.headers['x-request-id'] ?? '');
    const logged = t.logs
      .filter((line) => line.includes(requestId) && /"level":50/.test(line))
      .map((line) => line.slice(0, 1500));
    throw new Error(`5xx answer\n${context}\nlogged: ${logged.join('\n') || '(nothing)'}`);
  }
  const path = request.url.split('?')[0];
  if (response.statusCode >= 400 && !(path === OAUTH_TOKEN_PATH && request.method === 'POST')) {
    const contentType = String(response.headers['content-type'] ?? '');
    if (!contentType.startsWith('application/problem+json'))
      throw new Error(`error without a problem document\n${context}`);
    const problems = checkProblemDocument(JSON.parse(response.body), response.statusCode);
    if (problems.length) throw new Error(`invalid problem document: ${problems.join('; ')}\n${context}`);
  }
  if (t.contractViolations.length > violationsBefore) {
    throw new Error(
      `response does not match /openapi.json\n${describeViolations(t.contractViolations.slice(violationsBefore))}\n${context}`,
    );
  }
  if (response.statusCode < 300) rememberCreatedObject(response.body);
  // Prototype pollution through a body would show up on every object of this process.
  if (({} as Record<string, unknown>).polluted !== undefined)
    throw new Error(`Object.prototype was polluted\n${context}`);
}

describe('contract fuzzing of every operation in /openapi.json', () => {
  it('covers every documented operation', () => {
    const operations = Object.values(document.paths).flatMap((methods) => Object.keys(methods));
    expect(operations.length).toBeGreaterThan(40);
  });

  // Listed at collection time from the routes' own schemas would need the app; the document is read in
  // beforeAll, so one test walks the operations in a fixed order and reports each one's failure precisely.
  it(
    `sends ${RUNS_PER_OPERATION} schema-derived and malformed requests to each operation: no 5xx, only problem documents`,
    { timeout: 240_000 },
    async () => {
      const started = performance.now();
      // Deletions last, so the objects they remove stay available to every other operation.
      const operations = Object.entries(document.paths)
        .flatMap(([path, methods]) =>
          Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
        )
        .sort((a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'));
      for (const { path, method, operation } of operations) {
        {
          const label = `${method.toUpperCase()} ${path}`;
          const details = await fc.check(
            fc.asyncProperty(requestArbitrary(path, method, operation), (request) => send(label, request)),
            { numRuns: RUNS_PER_OPERATION, interruptAfterTimeLimit: 20_000 },
          );
          if (details.failed) {
            // fast-check's own report prints the whole counterexample (bodies of a megabyte); the message of the
            // shrunk failure already describes the request in a readable, truncated form.
            const cause =
              details.errorInstance instanceof Error
                ? details.errorInstance.message
                : String(details.errorInstance);
            throw new Error(
              `${label} failed after ${details.numRuns} runs (seed ${details.seed}, path "${details.counterexamplePath}"):\n${cause}`,
            );
          }
        }
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(`contract fuzzing: ${requestsSent} requests in ${seconds.toFixed(1)} s`);
      expect(requestsSent).toBeGreaterThanOrEqual(2_000);
      // The fuzzer must reach the handlers, not only the validators: most operations answered 2xx at least once.
      const reached = [...statusCounts.values()].filter((counts) =>
        [...counts.keys()].some((status) => status < 300),
      );
      expect(reached.length / statusCounts.size).toBeGreaterThan(0.8);
      expect(t.contractViolations).toEqual([]);
    },
  );
});
