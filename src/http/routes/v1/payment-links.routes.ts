import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import { checkoutServiceDeps, getCheckoutWithOrder } from '../../../modules/checkouts/checkout.service.ts';
import { CHECKOUT_STATUSES } from '../../../modules/checkouts/checkout.states.ts';
import { checkoutRedirectUrl } from '../../../modules/checkouts/checkout.tokens.ts';
import type { CheckoutWithOrder } from '../../../modules/checkouts/checkout.types.ts';
import { findMerchantById } from '../../../modules/merchants/merchant.repository.ts';
import { presentPaymentLink } from '../../../modules/payment-links/payment-link.presenter.ts';
import { renderQrSvg } from '../../../modules/payment-links/payment-link.qr.ts';
import { ZCreatePaymentLink, ZPaymentLink } from '../../../modules/payment-links/payment-link.schemas.ts';
import {
  createPaymentLink,
  deactivatePaymentLink,
  getPaymentLink,
  listPaymentLinksOf,
  openPaymentLink,
  paymentLinkQrCode,
  type ClosedLinkReason,
  type PaymentLinkVisit,
} from '../../../modules/payment-links/payment-link.service.ts';
import { PAYMENT_LINK_STATUSES } from '../../../modules/payment-links/payment-link.states.ts';
import {
  paymentLinkUrl,
  verifyPaymentLinkSignature,
} from '../../../modules/payment-links/payment-link.tokens.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { respondIdempotently } from '../../idempotency.ts';
import { ZListQuery, ZPage } from '../../pagination.ts';
import { ASSET_BASE, sendNotFoundPage, sendPage } from '../../hosted/page-reply.ts';
import { renderPaymentLinkPage } from '../../pages/payment-link-page.ts';

/**
 * Payment links (SPEC §8): the merchant API under /v1/payment-links, the public link pages under /l/, and the
 * browser SDK (SPEC §9) that a link's landing page — or any merchant page — uses to show the payment methods:
 * the script at /sdk/v1/kassa.js, the session summary it reads, and the only cross-origin access Kassa allows.
 */

const ZLinkParams = z.object({ id: z.string().max(100).describe('The payment link id (pl_…)') });
const ZPublicLinkParams = z.object({ id: z.string().max(100), signature: z.string().max(128) });
const ZLinkListQuery = ZListQuery.extend({ status: z.enum(PAYMENT_LINK_STATUSES).optional() });

// Loose: fastify replaces request.headers with the parsed value, so every other header must pass through.
const IDEMPOTENCY_HEADER = z.looseObject({
  'idempotency-key': z.string().max(255).optional().describe('Makes the request safe to retry (kept 24 h)'),
});

export function registerPaymentLinkRoutes(app: KassaApp, services: Services) {
  registerPaymentLinkApi(app, services);
  registerPaymentLinkPages(app, services);
  registerBrowserSdk(app, services);
}

function registerPaymentLinkApi(app: KassaApp, services: Services) {
  const deps = checkoutServiceDeps(services);

  app.post(
    '/v1/payment-links',
    {
      config: { auth: 'merchant', idempotency: 'transactional' },
      schema: {
        tags: ['Payment links'],
        summary: 'Create a payment link (URL and QR code) for an order',
        description:
          'Each visit opens a checkout session of its own for the order. The link can be opened until expires_at; ' +
          'after the first visit it can be paid only within activation_window_seconds; single-use links are paid ' +
          'once, reusable ones up to max_completions times.',
        headers: IDEMPOTENCY_HEADER,
        body: ZCreatePaymentLink,
        response: { 201: ZPaymentLink },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      const scope = { merchantId: principal.merchantId, livemode: principal.livemode };
      return respondIdempotently(request, reply, services.db, 201, async (tx) => {
        const link = await createPaymentLink(tx, deps, scope, request.body);
        return presentPaymentLink(link, deps, await paymentLinkQrCode(deps, link));
      });
    },
  );

  app.get(
    '/v1/payment-links',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['Payment links'],
        summary: 'List payment links, newest first',
        description: 'Items carry qr_svg_url but not qr_code; retrieve a link for its PNG QR code.',
        querystring: ZLinkListQuery,
        response: { 200: ZPage(ZPaymentLink) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const { limit, starting_after: startingAfter, status } = request.query;
      const rows = await listPaymentLinksOf(services.db, principal, { limit, startingAfter, status });
      const data = rows.slice(0, limit).map((link) => presentPaymentLink(link, deps));
      const hasMore = rows.length > limit;
      return {
        data,
        has_more: hasMore,
        next_cursor: hasMore ? (data.at(-1)?.payment_link_id ?? null) : null,
      };
    },
  );

  app.get(
    '/v1/payment-links/:id',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['Payment links'],
        summary: 'Retrieve a payment link, with its QR code',
        params: ZLinkParams,
        response: { 200: ZPaymentLink },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const link = await getPaymentLink(services.db, principal, request.params.id);
      return presentPaymentLink(link, deps, await paymentLinkQrCode(deps, link));
    },
  );

  app.post(
    '/v1/payment-links/:id/deactivate',
    {
      config: { auth: 'merchant', idempotency: 'transactional' },
      schema: {
        tags: ['Payment links'],
        summary: 'Deactivate a payment link now',
        description:
          'ACTIVE → DEACTIVATED (event payment_link.deactivated); its open sessions with no payment in flight ' +
          'expire with it. 409 from any other status.',
        headers: IDEMPOTENCY_HEADER,
        params: ZLinkParams,
        response: { 200: ZPaymentLink },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      return respondIdempotently(request, reply, services.db, 200, async (tx) =>
        presentPaymentLink(await deactivatePaymentLink(tx, deps, principal, request.params.id), deps),
      );
    },
  );
}

const CLOSED_LINK_STATUS: Record<ClosedLinkReason, number> = {
  expired: 410,
  used: 410,
  deactivated: 410,
  busy: 409,
};

function registerPaymentLinkPages(app: KassaApp, services: Services) {
  const deps = checkoutServiceDeps(services);

  app.get(
    '/l/:id/:signature',
    {
      config: { auth: 'public' },
      // A HEAD (link previews, uptime probes) must not open a session or start the activation window.
      exposeHeadRoute: false,
      schema: { hide: true, params: ZPublicLinkParams },
    },
    async (request, reply) => {
      const visit = await openPaymentLink(services.db, deps, request.params.id, request.params.signature);
      return answerVisit(request, reply, visit);
    },
  );

  app.get(
    '/l/:id/:signature/qr.svg',
    { config: { auth: 'public' }, schema: { hide: true, params: ZPublicLinkParams } },
    async (request, reply) => {
      const { id, signature } = request.params;
      // Only Kassa can sign an id, so a valid signature is enough: the image says nothing the URL does not.
      if (!verifyPaymentLinkSignature(services.keyring, id, signature))
        throw notFoundError('payment_link', id);
      const svg = await renderQrSvg(paymentLinkUrl(services.config.publicUrl, services.keyring, id));
      return reply
        .type('image/svg+xml; charset=utf-8')
        .header('cache-control', 'public, max-age=86400')
        .header('content-security-policy', "default-src 'none'")
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(svg);
    },
  );
}

function answerVisit(request: FastifyRequest, reply: FastifyReply, visit: PaymentLinkVisit) {
  switch (visit.kind) {
    case 'not_found':
      // The hosted pages' one 404 page: it never tells whether the id or the signature was wrong.
      return sendNotFoundPage(request, reply);
    case 'redirect':
      return reply
        .code(303)
        .header('location', visit.location)
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .send();
    case 'closed': {
      const { link, merchant } = visit;
      return sendPage(reply, CLOSED_LINK_STATUS[visit.reason], (nonce) =>
        renderPaymentLinkPage({
          kind: visit.reason,
          locale: link.locale ?? merchant.defaultLocale,
          nonce,
          assetBase: ASSET_BASE,
          livemode: link.livemode,
          merchant: {
            displayName: merchant.displayName ?? merchant.name,
            ...(merchant.logoUrl ? { logoUrl: merchant.logoUrl } : {}),
            ...(merchant.primaryColor ? { primaryColor: merchant.primaryColor } : {}),
          },
          merchantOrderId: link.order.merchant_order_id,
          amount: { amountMinor: link.order.total_amount, currency: link.order.currency },
          // The store's home page: the link's redirect URLs expect the signed parameters of a session.
          returnUrl: new URL(link.canceledRedirectUrl).origin,
        }),
      );
    }
    default: {
      const unreachable: never = visit;
      throw new Error(`Unknown visit ${JSON.stringify(unreachable)}`);
    }
  }
}

// --- Browser SDK (SPEC §9) --------------------------------------------------------------------------------

const SDK_DIRECTORY = new URL('../../../../public/sdk/v1/', import.meta.url);

/**
 * The routes a merchant's page may call from its own origin with a checkout's client token. CORS is granted
 * to these only, with `Access-Control-Allow-Origin: *`: the client token in the Authorization header is the
 * credential (no cookies are involved, so no origin needs to be trusted), and a merchant's landing page can be
 * on any origin. Answers to requests made with merchant credentials carry no CORS header, so a browser never
 * hands them to another origin; every other route stays same-origin.
 */
export const SDK_CORS_ROUTES = ['/v1/checkouts/:id/payment-methods', '/v1/checkouts/:id/session'] as const;
const SDK_CORS_MAX_AGE_SECONDS = 600;

const ZBrowserSession = z
  .object({
    object: z.literal('checkout_session'),
    checkout_id: z.string(),
    livemode: z.boolean(),
    status: z.enum(CHECKOUT_STATUSES),
    locale: z.string().describe('The language the hosted page will use'),
    expires_at: z.string(),
    checkout_redirect_url: z.string().describe("Kassa's secure payment page for this session"),
    merchant: z.object({ display_name: z.string() }),
    order: z.object({
      merchant_order_id: z.string(),
      currency: z.string(),
      country_code: z.string(),
      subtotal_amount: z.number().int(),
      discounts: z.array(z.object({ amount: z.number().int(), description: z.string().optional() })),
      taxes: z.array(z.object({ amount: z.number().int(), description: z.string().optional() })),
      shipping_amount: z.number().int(),
      total_amount: z.number().int(),
      products: z.array(
        z.object({ name: z.string(), quantity: z.number().int(), unit_price: z.number().int() }),
      ),
    }),
  })
  .meta({ id: 'CheckoutSessionSummary' });

function registerBrowserSdk(app: KassaApp, services: Services) {
  const sdkFiles = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const [name, type] of [
    ['kassa.js', 'text/javascript; charset=utf-8'],
    ['kassa.d.ts', 'application/typescript; charset=utf-8'],
  ] as const) {
    const body = readFileSync(new URL(name, SDK_DIRECTORY));
    sdkFiles.set(name, { body, type, etag: `"${createHash('sha384').update(body).digest('base64url')}"` });
  }

  app.get(
    '/sdk/v1/:file',
    { config: { auth: 'public' }, schema: { hide: true, params: z.object({ file: z.string().max(40) }) } },
    async (request, reply) => {
      const file = sdkFiles.get(request.params.file);
      if (!file) throw notFoundError('file', request.params.file);
      // A versioned path never changes once published (the SRI hash merchants pin depends on it), so it
      // may be cached for a year. ACAO lets `<script integrity crossorigin>` on any origin check the hash.
      reply
        .type(file.type)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('etag', file.etag)
        .header('access-control-allow-origin', '*')
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('x-content-type-options', 'nosniff');
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
      return reply.send(file.body);
    },
  );

  app.get(
    '/v1/checkouts/:id/session',
    {
      config: { auth: 'merchant_or_client_token' },
      schema: {
        tags: ['Checkouts'],
        summary:
          'What the browser SDK needs to show a checkout: order summary, amount and the secure page URL',
        description:
          "The checkout's client_token (ct_…) or merchant credentials. Callable cross-origin with a client token. " +
          'Card data is never entered on the merchant page: the SDK sends the shopper to checkout_redirect_url.',
        params: z.object({ id: z.string().max(100) }),
        response: { 200: ZBrowserSession },
      },
    },
    async (request) => {
      const { id } = request.params;
      const token = request.clientToken;
      // A client token opens its own checkout only; any other id answers like a missing one.
      if (token && token.checkoutId !== id) throw notFoundError('checkout', id);
      const scope = token ?? requireMerchant(request);
      const session = await getCheckoutWithOrder(
        services.db,
        { merchantId: scope.merchantId, livemode: scope.livemode },
        id,
      );
      const merchant = await findMerchantById(services.db, scope.merchantId);
      return presentBrowserSession(session, {
        merchantName: merchant?.displayName ?? merchant?.name ?? '',
        redirectUrl: checkoutRedirectUrl(services.config.publicUrl, services.keyring, id),
      });
    },
  );

  for (const url of SDK_CORS_ROUTES) {
    app.options(url, { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-origin', '*')
        .header('access-control-allow-methods', 'GET, OPTIONS')
        .header('access-control-allow-headers', 'Authorization')
        .header('access-control-max-age', String(SDK_CORS_MAX_AGE_SECONDS))
        .send(),
    );
  }

  const corsRoutes = new Set<string>(SDK_CORS_ROUTES);
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'OPTIONS' || !corsRoutes.has(request.routeOptions.url ?? '')) return;
    if (request.merchant) return;
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', 'x-request-id');
  });
}

function presentBrowserSession(
  { checkout, order }: CheckoutWithOrder,
  extra: { merchantName: string; redirectUrl: string },
): z.infer<typeof ZBrowserSession> {
  return {
    object: 'checkout_session',
    checkout_id: checkout.id,
    livemode: checkout.livemode,
    status: checkout.status,
    locale: checkout.locale,
    expires_at: checkout.expiresAt.toISOString(),
    checkout_redirect_url: extra.redirectUrl,
    merchant: { display_name: extra.merchantName },
    order: {
      merchant_order_id: order.merchantOrderId,
      currency: order.currency,
      country_code: order.countryCode,
      subtotal_amount: order.subtotalAmount,
      discounts: order.discounts,
      taxes: order.taxes,
      shipping_amount: order.shippingAmount,
      total_amount: order.totalAmount,
      products: order.products.map((product) => ({
        name: product.name,
        quantity: product.quantity,
        unit_price: product.unit_price,
      })),
    },
  };
}
