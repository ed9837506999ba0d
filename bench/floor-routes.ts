import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { issueCheckoutFormToken } from '../src/http/hosted/csrf-token.ts';
import { createResponseSealer, fingerprintRequest } from '../src/http/idempotency.ts';
import { SELECT_HOSTED_PAGE } from '../src/http/hosted/hosted-page.repository.ts';
import { sendPage } from '../src/http/hosted/page-reply.ts';
import { createPageTemplateCache, type ResponseSecrets } from '../src/http/pages/page-template-cache.ts';
import { newId } from '../src/lib/ids.ts';
import { createKeyring, parseMasterKey } from '../src/lib/keyring.ts';
import { createTtlCache } from '../src/lib/ttl-cache.ts';
import { normalizeEmail } from '../src/modules/customers/customer.mapping.ts';
import { fanOutEmittedEventsSql } from '../src/outbox/fan-out.repository.ts';
import {
  checkoutRedirectUrl,
  newClientToken,
  verifyCheckoutUrlSignature,
} from '../src/modules/checkouts/checkout.tokens.ts';

/**
 * The floors: two routes of the baseline server (bench/baseline-server.ts) that do only what the contract of
 * a Kassa route requires, against the gateway's own tables, so `npm run bench` can say how close the real
 * route is to the least this machine can do for it (docs/performance.md, "The floors"). They are optimistic
 * on purpose — what they leave out only makes them cheaper — so a target a floor does not reach cannot be
 * reached by the real route either:
 *
 * - `POST /floor/checkouts`: the RS256 access token verified (once per token, remembered as the gateway
 *   remembers verified tokens: RSA verification is the largest cost of an authenticated request), the JSON body taken as it
 *   comes (no validation), and ONE statement that claims the Idempotency-Key with the sealed response (AES-GCM,
 *   the gateway's key), finds or inserts the customer, inserts the session, its order and its two events
 *   (`checkout.created`, `order.created`) and fans them out to the merchant's endpoints. Left out: validation,
 *   logging, metrics, rate limits, the API version, the customer's id in the stored response (one statement
 *   cannot know it before it runs), any retry.
 * - `GET /floor/pay/:id/:signature`: the URL signature checked (the gateway's key), the hosted page's own
 *   statement (prepared), a fresh CSP nonce and CSRF token, the page's bytes from a template cache keyed by
 *   the checkout's state, the page security headers. Left out: the merchant and settings caches, the render
 *   model and its cache key, the locale, logging, the not-payable cases.
 *
 * The page's bytes are the real page's: the scenario fetches one from the gateway and hands it over with
 * `POST /floor/page` before the measured loop.
 */

type FloorOptions = {
  pool: pg.Pool;
  /** The gateway's KASSA_DATA_DIR: its master key signs the URLs and seals stored responses. */
  kassaDataDir: string;
  publicUrl: string;
  verifyToken(
    authorization: string | undefined,
  ): Promise<{ merchantId: string; livemode: boolean; clientId: string } | undefined>;
};

type CheckoutBody = {
  completed_redirect_url?: string;
  canceled_redirect_url?: string;
  allow_save_payment_methods?: boolean;
  locale?: string;
  metadata?: Record<string, unknown>;
  order: {
    merchant_order_id: string;
    currency: string;
    country_code: string;
    subtotal_amount: number;
    discounts?: unknown[];
    taxes?: unknown[];
    shipping_amount?: number;
    total_amount: number;
    products: unknown[];
    customer?: { first_name?: string; last_name?: string; email: string };
  };
};

const CREATE_SQL = `
  WITH claimed AS (
    INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
        request_fingerprint, state, response_status, response_body, completed_at)
      VALUES ($1, $2, $3, 'POST', '/v1/checkouts', $4, 'completed', 201, $5, $6)
      ON CONFLICT (merchant_id, livemode, idempotency_key) DO NOTHING
      RETURNING 1
  ), known AS (
    SELECT id FROM customers
     WHERE merchant_id = $1 AND livemode = $2 AND email_normalized = $7 AND deleted_at IS NULL
  ), created_customer AS (
    INSERT INTO customers (id, merchant_id, livemode, email, email_normalized, first_name, last_name, phone,
        created_at, updated_at)
      SELECT $8, $1, $2, $9, $7, $10, $11, NULL, $6, $6
       WHERE $7::text IS NOT NULL AND EXISTS (SELECT 1 FROM claimed) AND NOT EXISTS (SELECT 1 FROM known)
      ON CONFLICT (merchant_id, livemode, email_normalized) WHERE deleted_at IS NULL DO NOTHING
      RETURNING id
  ), customer AS (
    SELECT id FROM known UNION ALL SELECT id FROM created_customer
  ), checkout AS (
    INSERT INTO checkouts (id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url,
        callbacks, capture, allow_save_payment_methods, locale, payment_methods, metadata, client_token_sha256,
        expires_at, created_at, updated_at, payment_link_id, locale_is_default)
      SELECT $12, $1, $2, 'OPEN', $13, $14, '{}', 'automatic', $15, $16, NULL, $17, $18, $19, $6, $6, NULL, false
       WHERE EXISTS (SELECT 1 FROM claimed)
      RETURNING id
  ), new_order AS (
    INSERT INTO orders (merchant_order_id, currency, country_code, subtotal_amount, discounts, taxes,
        shipping_amount, total_amount, products, customer_id, metadata, customer_verified,
        id, merchant_id, livemode, checkout_id, status, created_at, updated_at)
      SELECT $20, $21, $22, $23, $24, $25, $26, $27, $28, (SELECT id FROM customer LIMIT 1), '{}', false,
             $29, $1, $2, checkout.id, 'CREATED', $6, $6
        FROM checkout
      RETURNING id, checkout_id
  ), emitted AS (
    INSERT INTO events (id, merchant_id, livemode, type, object_id, object_version, order_id, checkout_id,
        payment_id, data, actor_type, actor_id, traceparent, target_endpoint_id, fanout_state)
      SELECT e.id, $1, $2, e.type, e.object_id, 1, new_order.id, new_order.checkout_id, NULL, e.data,
             'credential', $30, NULL, NULL, 'done'
        FROM new_order,
             (VALUES ($31, 'checkout.created', $12, $32::json), ($33, 'order.created', $29, $34::json))
               AS e (id, type, object_id, data)
      RETURNING id, merchant_id, livemode, type, data, created_at, target_endpoint_id
  ), fanned_out AS (
    ${fanOutEmittedEventsSql('emitted')}
  )
  SELECT EXISTS (SELECT 1 FROM claimed) AS claimed`;

export function registerFloorRoutes(app: FastifyInstance, options: FloorOptions): void {
  const { pool, publicUrl } = options;
  const masterKey = parseMasterKey(readFileSync(path.join(options.kassaDataDir, 'master.key'), 'utf8'));
  const keyring = createKeyring(masterKey);
  const responses = createResponseSealer(keyring);
  type Caller = NonNullable<Awaited<ReturnType<FloorOptions['verifyToken']>>>;
  const verifiedTokens = createTtlCache<Caller>({ ttlMs: 60_000, maxEntries: 10_000 });
  async function callerOf(authorization: string | undefined): Promise<Caller | undefined> {
    const known = authorization === undefined ? undefined : verifiedTokens.get(authorization);
    if (known) return known;
    const caller = await options.verifyToken(authorization);
    if (caller && authorization) verifiedTokens.set(authorization, caller);
    return caller;
  }

  app.post('/floor/checkouts', async (request, reply) => {
    const caller = await callerOf(request.headers.authorization);
    if (!caller) return reply.code(401).send({ error: 'invalid_token' });
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string') return reply.code(400).send({ error: 'idempotency_key_required' });
    const body = request.body as CheckoutBody;
    const { order } = body;
    const now = new Date();
    const checkoutId = newId('chk');
    const orderId = newId('ord');
    const clientToken = newClientToken();
    const expiresAt = new Date(now.getTime() + 86_400_000);
    const customer = order.customer;
    const orderResource = {
      id: orderId,
      object: 'order',
      order_id: orderId,
      livemode: caller.livemode,
      checkout_id: checkoutId,
      status: 'CREATED',
      ...order,
      customer: customer ? { ...customer, verified: false } : null,
      authorized_amount: 0,
      captured_amount: 0,
      refunded_amount: 0,
      metadata: {},
      created_at: now.toISOString(),
      placed_at: now.toISOString(),
      expires_at: expiresAt.toISOString(),
      updated_at: now.toISOString(),
      version: 1,
    };
    const checkoutResource = {
      id: checkoutId,
      object: 'checkout',
      checkout_id: checkoutId,
      livemode: caller.livemode,
      status: 'OPEN',
      checkout_redirect_url: checkoutRedirectUrl(publicUrl, keyring, checkoutId),
      completed_redirect_url: body.completed_redirect_url ?? null,
      canceled_redirect_url: body.canceled_redirect_url ?? null,
      allow_save_payment_methods: body.allow_save_payment_methods ?? false,
      locale: body.locale ?? null,
      capture_mode: 'automatic',
      payment_methods: null,
      metadata: body.metadata ?? {},
      payment_started: false,
      payment_link_id: null,
      created_at: now.toISOString(),
      placed_at: now.toISOString(),
      expires_at: expiresAt.toISOString(),
      updated_at: now.toISOString(),
      completed_at: null,
      canceled_at: null,
      cancellation_reason: null,
      expired_at: null,
      version: 1,
      order: orderResource,
    };
    const response = JSON.stringify({ ...checkoutResource, client_token: clientToken.token });
    const email = customer?.email ?? null;
    const { rows } = await pool.query<{ claimed: boolean }>({
      name: 'floor_create_checkout',
      text: CREATE_SQL,
      values: [
        caller.merchantId,
        caller.livemode,
        key,
        fingerprintRequest(request),
        responses.seal(response),
        now,
        email === null ? null : normalizeEmail(email),
        newId('cus'),
        email,
        customer?.first_name ?? null,
        customer?.last_name ?? null,
        checkoutId,
        body.completed_redirect_url ?? null,
        body.canceled_redirect_url ?? null,
        body.allow_save_payment_methods ?? false,
        body.locale ?? 'EN',
        JSON.stringify(body.metadata ?? {}),
        clientToken.digest,
        expiresAt,
        order.merchant_order_id,
        order.currency,
        order.country_code,
        order.subtotal_amount,
        JSON.stringify(order.discounts ?? []),
        JSON.stringify(order.taxes ?? []),
        order.shipping_amount ?? 0,
        order.total_amount,
        JSON.stringify(order.products),
        orderId,
        caller.clientId,
        newId('evt'),
        JSON.stringify(checkoutResource),
        newId('evt'),
        JSON.stringify(orderResource),
      ],
    });
    if (!rows[0]?.claimed) return reply.code(409).send({ error: 'idempotency_key_in_use' });
    return reply.code(201).type('application/json').send(response);
  });

  // The real page's bytes; its nonce and CSRF token are replaced by this response's (only when the template
  // cache has no entry for the checkout's state, as in the gateway).
  type PageModel = { id: string; version: number; status: string };
  let renderPage: ((model: PageModel, secrets: ResponseSecrets) => Buffer) | undefined;
  const pageContents = new Map<string, { stamp: string; page: FloorPageContent }>();
  app.post('/floor/page', async (request, reply) => {
    const real = request.body as { html: string; nonce: string; csrfToken: string };
    renderPage = createPageTemplateCache<PageModel>((_model, secrets) =>
      real.html.split(real.nonce).join(secrets.nonce).split(real.csrfToken).join(secrets.csrfToken),
    );
    return reply.code(204).send();
  });

  app.get('/floor/pay/:checkoutId/:signature', async (request, reply) => {
    const { checkoutId, signature } = request.params as { checkoutId: string; signature: string };
    if (!renderPage) return reply.code(503).send({ error: 'no page template yet' });
    if (!verifyCheckoutUrlSignature(keyring, checkoutId, signature)) return reply.code(404).send();
    // As the gateway does: the content comes back only when the rows changed since this process read them.
    const held = pageContents.get(checkoutId);
    const { rows } = await pool.query<FloorPageRow>({
      name: 'floor_hosted_page',
      text: SELECT_HOSTED_PAGE,
      values: [checkoutId, held?.stamp ?? null],
    });
    const row = rows[0];
    if (!row) return reply.code(404).send();
    const page = row.content ?? held?.page;
    if (!page) throw new Error('floor page: no content for a stamp this process does not hold');
    if (row.content) pageContents.set(checkoutId, { stamp: row.stamp, page: row.content });
    if (page.checkout.status !== 'OPEN') return reply.code(404).send();
    const version = page.order.version;
    const csrfToken = issueCheckoutFormToken(keyring, checkoutId, version, new Date());
    const render = renderPage;
    const origins = [page.checkout.completed_redirect_url, page.checkout.canceled_redirect_url].filter(
      (url): url is string => typeof url === 'string',
    );
    const model = { id: checkoutId, version, status: page.checkout.status };
    sendPage(reply, 200, (nonce) => render(model, { nonce, csrfToken }), origins);
    return reply;
  });
}

type FloorPageContent = {
  checkout: { status: string; completed_redirect_url: string | null; canceled_redirect_url: string | null };
  order: { version: number };
};
type FloorPageRow = { stamp: string; content: FloorPageContent | null };
