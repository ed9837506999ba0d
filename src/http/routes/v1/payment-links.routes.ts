import { zMetadataPatch } from '../../../lib/metadata.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import { checkoutServiceDeps } from '../../../modules/checkouts/checkout.service.ts';
import { presentPaymentLink } from '../../../modules/payment-links/payment-link.presenter.ts';
import { renderQrSvg } from '../../../modules/payment-links/payment-link.qr.ts';
import { ZCreatePaymentLink, ZPaymentLink } from '../../../modules/payment-links/payment-link.schemas.ts';
import type { PaymentLink } from '../../../modules/payment-links/payment-link.types.ts';
import {
  createPaymentLink,
  deactivatePaymentLink,
  getPaymentLink,
  updatePaymentLink,
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
import { idempotencyHeader, respondIdempotently } from '../../idempotency.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';
import { ASSET_BASE, sendNotFoundPage, sendPage } from '../../hosted/page-reply.ts';
import { renderPaymentLinkPage } from '../../pages/payment-link-page.ts';

/**
 * Payment links (docs/payment-links.md): the merchant API under /v1/payment-links and the public link pages
 * under /l/. A link's landing page shows the payment methods with the browser SDK (`../sdk/`).
 */

const ZLinkParams = z.object({ id: z.string().max(100).describe('The payment link id (pl_…)') });
const ZPublicLinkParams = z.object({ id: z.string().max(100), signature: z.string().max(128) });
const ZLinkListQuery = ZListQuery.extend({ status: z.enum(PAYMENT_LINK_STATUSES).optional() });

const IDEMPOTENCY_HEADER = idempotencyHeader();

export function registerPaymentLinkRoutes(app: KassaApp, services: Services) {
  registerPaymentLinkApi(app, services);
  registerPaymentLinkPages(app, services);
}

function registerPaymentLinkApi(app: KassaApp, services: Services) {
  const deps = checkoutServiceDeps(services);
  // A single link is answered with its PNG QR code; list items carry only qr_svg_url.
  const presentWithQrCode = async (link: PaymentLink) =>
    presentPaymentLink(link, deps, await paymentLinkQrCode(deps, link));

  app.post(
    '/v1/payment-links',
    {
      config: { auth: 'merchant', scope: 'payment_links', idempotency: 'transactional' },
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
        return presentWithQrCode(link);
      });
    },
  );

  app.get(
    '/v1/payment-links',
    {
      config: { auth: 'merchant', scope: 'payment_links' },
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
      const page = toPageRequest(request.query);
      const rows = await listPaymentLinksOf(services.db, principal, {
        ...page,
        status: request.query.status,
      });
      return toPage(
        rows,
        page,
        (link) => presentPaymentLink(link, deps),
        (link) => link.payment_link_id,
      );
    },
  );

  app.get(
    '/v1/payment-links/:id',
    {
      config: { auth: 'merchant', scope: 'payment_links' },
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
      return presentWithQrCode(link);
    },
  );

  app.patch(
    '/v1/payment-links/:id',
    {
      config: { auth: 'merchant', scope: 'payment_links' },
      schema: {
        tags: ['Payment links'],
        summary: 'Update a payment link',
        description:
          '`metadata` merges key by key (a key set to null is removed; null removes every key), in any status. ' +
          'Sessions the link already made keep the metadata they were made with. A patch that changes nothing ' +
          'keeps `version`.',
        params: ZLinkParams,
        body: z.strictObject({ metadata: zMetadataPatch.optional() }),
        response: { 200: ZPaymentLink },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const link = await services.db.transaction((tx) =>
        updatePaymentLink(tx, deps, principal, request.params.id, { metadata: request.body.metadata }),
      );
      return presentWithQrCode(link);
    },
  );

  app.post(
    '/v1/payment-links/:id/deactivate',
    {
      config: { auth: 'merchant', scope: 'payment_links', idempotency: 'transactional' },
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

/** The store's home page, for a closed link's page: the redirect URLs expect a session's signed parameters. */
function storeHome(link: { canceledRedirectUrl: string | null; completedRedirectUrl: string | null }) {
  const url = link.canceledRedirectUrl ?? link.completedRedirectUrl;
  return url ? new URL(url).origin : undefined;
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
          locale: link.locale,
          localeHints: {
            ...(typeof request.headers['accept-language'] === 'string'
              ? { acceptLanguage: request.headers['accept-language'] }
              : {}),
            merchantDefault: merchant.defaultLocale,
            country: link.order.country_code,
          },
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
          returnUrl: storeHome(link),
        }),
      );
    }
    default: {
      const unreachable: never = visit;
      throw new Error(`Unknown visit ${JSON.stringify(unreachable)}`);
    }
  }
}
