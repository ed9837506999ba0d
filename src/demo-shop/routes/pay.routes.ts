import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import type { DemoCart } from '../cart-cookie.ts';
import { DEMO_LOCALE, orderForCart, priceCart } from '../catalogue.ts';
import { isNotFound, KassaApiError } from '../kassa-client.ts';
import {
  renderEmbeddedCheckoutPage,
  renderLinkLandingPage,
  renderPaymentLinkPage,
  type OrderSummaryModel,
} from '../pages/checkout-pages.ts';
import { renderCartPage } from '../pages/shop-pages.ts';
import {
  CALLBACK_KINDS,
  createNonce,
  form,
  formFields,
  page,
  type DemoShop,
  type ShopContext,
} from '../shop.ts';
import { idPattern } from '../../lib/ids.ts';

/**
 * The three ways to pay: a checkout and Kassa's secure page (redirect), a checkout shown on the shop's own
 * page with Kassa's SDK (embedded), and a payment link with its QR code and landing page (link).
 */

const PAY_WAYS = ['redirect', 'embedded', 'link'] as const;
type PayWay = (typeof PAY_WAYS)[number];
const ATTEMPT = /^[0-9a-f]{32}$/;
const LINK_ID = idPattern('pl');

export function registerPayRoutes(shop: FastifyInstance, demo: DemoShop) {
  const { shopUrl, sdk, withShop, settledCart, writeCart, sendHtml, sendMessage, sendApiError } = demo;

  const callbackUrls = () =>
    Object.fromEntries(CALLBACK_KINDS.map((kind) => [kind, `${shopUrl}/callbacks/${kind}`]));

  function orderNumber(cart: DemoCart): string {
    return `DEMO-${cart.id.slice(0, 8).toUpperCase()}`;
  }

  async function startPayment(
    request: FastifyRequest,
    reply: FastifyReply,
    context: ShopContext,
    way: PayWay,
  ): Promise<FastifyReply> {
    const cart = await settledCart(request, reply, context);
    const priced = priceCart(cart.items);
    if (priced.lines.length === 0) return reply.redirect('/demo/cart', 303);
    // One Idempotency-Key per rendering of the cart page and way: a reloaded POST gets the same checkout (and
    // its client token) again; pressing the button on a fresh cart page makes a new one.
    const attempt = formFields(request.body).get('attempt') ?? '';
    const key = `demo-${cart.id}-${ATTEMPT.test(attempt) ? attempt : randomBytes(16).toString('hex')}-${way}`;
    const common = {
      completed_redirect_url: `${shopUrl}/receipt`,
      canceled_redirect_url: `${shopUrl}/cart`,
      locale: DEMO_LOCALE,
      metadata: { source: 'demo-shop', cart: cart.id, way },
      order: orderForCart(priced, orderNumber(cart)),
    };
    try {
      if (way === 'link') {
        const link = await context.client.post('/v1/payment-links', {
          body: { ...common, landing_url: `${shopUrl}/link/landing` },
          headers: { 'idempotency-key': key },
        });
        writeCart(reply, context, { ...cart, pending: { kind: 'payment_link', id: link.payment_link_id } });
        return reply.redirect(`/demo/links/${link.payment_link_id}`, 303);
      }
      const checkout = await context.client.post('/v1/checkouts', {
        body: { ...common, callbacks: callbackUrls() },
        headers: { 'idempotency-key': key },
      });
      if (way === 'redirect') {
        writeCart(reply, context, { ...cart, pending: { kind: 'checkout', id: checkout.checkout_id } });
        return reply.redirect(checkout.checkout_redirect_url, 303);
      }
      // The client token is shown once (here, and in replays of this request): the cookie keeps it for the
      // checkout page, which a GET can show again (back button, reload) without a new checkout.
      const pending = {
        kind: 'checkout' as const,
        id: checkout.checkout_id,
        clientToken: checkout.client_token,
      };
      writeCart(reply, context, { ...cart, pending });
      return reply.redirect('/demo/checkout', 303);
    } catch (error) {
      if (error instanceof KassaApiError && error.code === 'idempotency_key_reused') {
        // The cart changed since this page was shown (another tab): show it again.
        return sendHtml(
          reply,
          409,
          renderCartPage({
            cart: priced,
            attempt: randomBytes(16).toString('hex'),
            notice: {
              tone: 'warning',
              text: 'Your cart changed in the meantime. Check it and choose again.',
            },
          }),
        );
      }
      return sendApiError(request, reply, error);
    }
  }

  /** A checkout's order or a payment link's: the fields a summary shows are in both. */
  function summaryOf(order: {
    merchant_order_id: string;
    products: { name: string; quantity: number; unit_price: number }[];
    subtotal_amount: number;
    shipping_amount: number;
    total_amount: number;
  }): OrderSummaryModel {
    return {
      merchantOrderId: order.merchant_order_id,
      lines: order.products.map((product) => ({
        name: product.name,
        quantity: product.quantity,
        lineTotal: product.quantity * product.unit_price,
      })),
      totals: { subtotal: order.subtotal_amount, shipping: order.shipping_amount, total: order.total_amount },
    };
  }

  for (const way of PAY_WAYS) {
    shop.post(
      `/pay/${way}`,
      form,
      withShop((request, reply, context) => startPayment(request, reply, context, way)),
    );
  }

  // The embedded checkout: the SDK shows the methods; card entry happens on Kassa's page.
  shop.get(
    '/checkout',
    page,
    withShop(async (request, reply, context) => {
      const cart = await settledCart(request, reply, context);
      const pending = cart.pending;
      if (pending?.kind !== 'checkout' || !pending.clientToken) return reply.redirect('/demo/cart', 303);
      let checkout;
      try {
        checkout = await context.client.get('/v1/checkouts/{id}', { params: { path: { id: pending.id } } });
      } catch (error) {
        return sendApiError(request, reply, error);
      }
      if (checkout.status !== 'OPEN') return reply.redirect('/demo/cart', 303);
      const nonce = createNonce();
      return sendHtml(
        reply,
        200,
        renderEmbeddedCheckoutPage({
          nonce,
          sdk,
          cartCount: priceCart(cart.items).itemCount,
          order: summaryOf(checkout.order),
          checkoutId: checkout.checkout_id,
          clientToken: pending.clientToken,
          securePageUrl: checkout.checkout_redirect_url,
        }),
        nonce,
      );
    }),
  );

  shop.get(
    '/links/:linkId',
    page,
    withShop(async (request, reply, context) => {
      const { linkId } = request.params as { linkId: string };
      const cart = await settledCart(request, reply, context);
      const cartCount = priceCart(cart.items).itemCount;
      if (!LINK_ID.test(linkId)) return sendMessage(reply, 404, 'No such payment link', 'Check the address.');
      let link;
      try {
        link = await context.client.get('/v1/payment-links/{id}', { params: { path: { id: linkId } } });
      } catch (error) {
        if (isNotFound(error)) {
          return sendMessage(reply, 404, 'No such payment link', 'Check the address.', cartCount);
        }
        return sendApiError(request, reply, error);
      }
      const nonce = createNonce();
      return sendHtml(
        reply,
        200,
        renderPaymentLinkPage({
          nonce,
          cartCount,
          link: {
            id: link.payment_link_id,
            url: link.url,
            qrCode: link.qr_code,
            status: link.status,
            expiresAt: link.expires_at,
            activationMinutes: Math.round(link.activation_window_seconds / 60),
          },
          order: summaryOf(link.order),
        }),
        nonce,
      );
    }),
  );

  // The payment link's landing page: the SDK reads kassa_session / kassa_token from the address.
  shop.get('/link/landing', page, async (_request, reply) => {
    const nonce = createNonce();
    return sendHtml(reply, 200, renderLinkLandingPage({ nonce, sdk }), nonce);
  });
}
