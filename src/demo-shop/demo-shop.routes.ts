import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { verifyReturnSignature } from '../lib/return-signature.ts';
import {
  cartCookieKey,
  cartSetCookie,
  CART_COOKIE,
  decodeCart,
  encodeCart,
  newCart,
  readCookie,
  type CartCookieKey,
  type DemoCart,
} from './cart-cookie.ts';
import {
  checkOrderPrices,
  DEMO_LOCALE,
  findProduct,
  MAX_QUANTITY,
  orderForCart,
  priceCart,
} from './catalogue.ts';
import type { DemoShopCredentials } from './credentials.ts';
import { createDemoKassaClient, DemoApiError, type ApiOrder, type DemoKassaClient } from './kassa-client.ts';
import { demoPageHeaders, type SdkScript } from './pages/layout.ts';
import {
  renderCartPage,
  renderDeclinedPage,
  renderEmbeddedCheckoutPage,
  renderLinkLandingPage,
  renderMessagePage,
  renderPaymentLinkPage,
  renderReceiptPage,
  renderShopPage,
  type Notice,
  type OrderSummaryModel,
  type ReceiptModel,
} from './pages/pages.ts';

/**
 * The demo shop at `/demo` (docs/demo-shop.md), registered when `config.demoShop` (`KASSA_DEMO`) is on.
 *
 * It is a separate merchant website that lives inside Kassa's process for convenience: it knows the demo
 * merchant only by its secret API key (`credentials.ts`) and talks to Kassa only through the public HTTP API,
 * over the network, like any shop (`kassa-client.ts`). It imports nothing of the gateway but pure utilities
 * from src/lib/. Its cart is a signed cookie; it has no tables.
 *
 *   GET  /demo                      products
 *   POST /demo/cart/add             add one → 303 /demo?added=…
 *   GET  /demo/cart                 the cart and three ways to pay (also the canceled return URL)
 *   POST /demo/cart/update          change a quantity (0 removes) → 303 /demo/cart
 *   POST /demo/pay/redirect         POST /v1/checkouts → 303 to checkout_redirect_url
 *   POST /demo/pay/embedded         POST /v1/checkouts → 303 /demo/checkout
 *   GET  /demo/checkout             the shop's checkout page with Kassa's SDK: injectPaymentMethods
 *   POST /demo/pay/link             POST /v1/payment-links → 303 /demo/links/{id}: link and QR
 *   GET  /demo/links/:id            the link and its QR code
 *   GET  /demo/link/landing         the link's landing page: Kassa.initFromQR()
 *   POST /demo/callbacks/:kind      ok / fail / open → the receipt or decline page Kassa serves the shopper;
 *                                   verify_order → OKAY after re-pricing; notification → 204
 *   GET  /demo/receipt              a payment link's completed return URL: verified signature → receipt
 *
 * Checkouts get callbacks, so their receipt is the shop's answer to the signed `ok` / `open` callback.
 * Payment links have no per-link callbacks (only the merchant's defaults, which the demo does not change), so
 * their receipt comes from the signed `completed_redirect_url`.
 */

const CALLBACK_KINDS = ['ok', 'fail', 'open', 'notification', 'verify_order'] as const;
type CallbackKind = (typeof CALLBACK_KINDS)[number];
const PAY_WAYS = ['redirect', 'embedded', 'link'] as const;
type PayWay = (typeof PAY_WAYS)[number];

const FORM_BODY_LIMIT = 64 * 1024;
const ATTEMPT = /^[0-9a-f]{32}$/;
const LINK_ID = /^pl_[0-9a-f]{32}$/;
/** How long after Kassa signed a return URL the shop still accepts it (a receipt reloaded a while later). */
const RETURN_TOLERANCE_SECONDS = 30 * 60;
/** A failed callback verification refetches the signing secret (it may have been rotated), at most this often. */
const SECRET_REFRESH_MS = 30_000;

const SDK_FILE = new URL('../../public/sdk/v1/kassa.js', import.meta.url);

type ShopContext = { apiKey: string; client: DemoKassaClient; cookieKey: CartCookieKey };

/** A fresh CSP nonce per page: 128 random bits (the shop's pages allow only their own nonced scripts). */
function createNonce(): string {
  return randomBytes(16).toString('base64');
}

function formFields(body: unknown): URLSearchParams {
  return new URLSearchParams(typeof body === 'string' ? body : '');
}

export type DemoShopOptions = {
  /** Kassa's public URL: where shoppers' browsers reach Kassa, and under which the shop answers (`/demo`). */
  publicUrl: string;
  /** The secret API key the shop calls Kassa's API with (`credentials.ts`). */
  credentials: DemoShopCredentials;
};

/**
 * Mounts the shop on the gateway's Fastify instance (same process and port). Its routes follow the host's
 * route contract — each says who may call it (`auth: 'public'`) and how a POST is idempotent — and nothing
 * else of Kassa's.
 */
export function registerDemoShopRoutes(app: FastifyInstance, options: DemoShopOptions) {
  const { publicUrl, credentials } = options;
  const shopUrl = `${publicUrl}/demo`;
  const kassaOrigin = new URL(publicUrl).origin;
  const secureCookie = kassaOrigin.startsWith('https:');
  // The SDK is loaded from Kassa's public URL, pinned by the hash of the published file.
  const sdk: SdkScript = {
    src: `${publicUrl}/sdk/v1/kassa.js`,
    integrity: `sha384-${createHash('sha384').update(readFileSync(SDK_FILE)).digest('base64')}`,
  };
  let signingSecret: { apiKey: string; secret: string; fetchedAt: number } | undefined;

  /**
   * Where the shop reaches Kassa's API: this process's own listening socket (a shop on the same host would
   * use Kassa's address too). Undefined before the gateway listens (an app used with `inject()` only).
   */
  function internalBaseUrl(): string | undefined {
    const address = app.server.address();
    if (!address || typeof address === 'string') return undefined;
    const host =
      address.address === '0.0.0.0'
        ? '127.0.0.1'
        : address.address === '::'
          ? '[::1]'
          : address.family === 'IPv6'
            ? `[${address.address}]`
            : address.address;
    return `http://${host}:${address.port}`;
  }

  function shopContext(): ShopContext | string {
    const apiKey = credentials.apiKey();
    if (!apiKey) {
      return 'The demo shop has no API key. `npm start` gives it the demo merchant’s key, saved in <data dir>/demo-credentials.json when the demo merchant was created.';
    }
    const baseUrl = internalBaseUrl();
    if (!baseUrl) return 'The demo shop calls Kassa’s API over HTTP: it works once the gateway is listening.';
    return { apiKey, client: createDemoKassaClient({ baseUrl, apiKey }), cookieKey: cartCookieKey(apiKey) };
  }

  async function currentSigningSecret(context: ShopContext, refresh = false): Promise<string> {
    if (!refresh && signingSecret?.apiKey === context.apiKey) return signingSecret.secret;
    const { secret } = await context.client.getSigningSecret();
    signingSecret = { apiKey: context.apiKey, secret, fetchedAt: Date.now() };
    return secret;
  }

  function mayRefreshSecret(): boolean {
    return !signingSecret || Date.now() - signingSecret.fetchedAt > SECRET_REFRESH_MS;
  }

  /** Checks Kassa's signature on a return URL's query (docs/redirects.md); undefined if it cannot be checked now. */
  async function verifyReturn(
    context: ShopContext,
    query: URLSearchParams,
  ): Promise<ReturnType<typeof verifyReturnSignature> | undefined> {
    const options = { toleranceSeconds: RETURN_TOLERANCE_SECONDS };
    try {
      const result = verifyReturnSignature(query, await currentSigningSecret(context), options);
      if (result.valid || result.reason !== 'signature_mismatch' || !mayRefreshSecret()) return result;
      return verifyReturnSignature(query, await currentSigningSecret(context, true), options);
    } catch (error) {
      if (error instanceof DemoApiError) return undefined;
      throw error;
    }
  }

  // ---------- Replies ----------

  function sendHtml(reply: FastifyReply, statusCode: number, body: string, nonce?: string): FastifyReply {
    return reply
      .code(statusCode)
      .headers(demoPageHeaders(kassaOrigin, nonce))
      .type('text/html; charset=utf-8')
      .send(body);
  }

  function sendMessage(
    reply: FastifyReply,
    statusCode: number,
    title: string,
    message: string,
    cartCount?: number,
  ): FastifyReply {
    return sendHtml(
      reply,
      statusCode,
      renderMessagePage({ title, message, cartCount, action: { href: '/demo', label: 'Back to the shop' } }),
    );
  }

  function sendApiError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
    if (!(error instanceof DemoApiError)) throw error;
    request.log.warn({ status: error.status, code: error.code }, 'demo shop: Kassa API call failed');
    return sendMessage(reply, 502, 'Kassa did not accept the request', `${error.message} (${error.code}).`);
  }

  // ---------- The cart ----------

  function readCart(request: FastifyRequest, context: ShopContext): DemoCart {
    const value = readCookie(request.headers.cookie, CART_COOKIE);
    return decodeCart(context.cookieKey, value) ?? newCart();
  }

  function writeCart(reply: FastifyReply, context: ShopContext, cart: DemoCart) {
    reply.header('set-cookie', cartSetCookie(encodeCart(context.cookieKey, cart), secureCookie));
  }

  /**
   * The cart, or a new one when what was last made from it has been paid (the shopper may have closed the
   * tab on the receipt): the shop asks Kassa, as it would before shipping.
   */
  async function settledCart(
    request: FastifyRequest,
    reply: FastifyReply,
    context: ShopContext,
  ): Promise<DemoCart> {
    const cart = readCart(request, context);
    if (!cart.pending) return cart;
    let status: string | undefined;
    try {
      status =
        cart.pending.kind === 'checkout'
          ? (await context.client.getCheckout(cart.pending.id)).status
          : (await context.client.getPaymentLink(cart.pending.id)).status;
    } catch (error) {
      if (!(error instanceof DemoApiError)) throw error;
      if (error.status !== 404) return cart; // ask again next time
    }
    if (status === 'OPEN' || status === 'ACTIVE') return cart;
    const next = status === 'COMPLETED' ? newCart() : { id: cart.id, items: cart.items };
    writeCart(reply, context, next);
    return next;
  }

  // ---------- Checkouts and links ----------

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
        const link = await context.client.createPaymentLink(
          { ...common, landing_url: `${shopUrl}/link/landing` },
          key,
        );
        writeCart(reply, context, { ...cart, pending: { kind: 'payment_link', id: link.payment_link_id } });
        return reply.redirect(`/demo/links/${link.payment_link_id}`, 303);
      }
      const checkout = await context.client.createCheckout({ ...common, callbacks: callbackUrls() }, key);
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
      if (error instanceof DemoApiError && error.code === 'idempotency_key_reused') {
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

  function summaryOf(order: ApiOrder): OrderSummaryModel {
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

  // ---------- Receipts ----------

  /** What a receipt shows of the order, whichever way the shopper came back. */
  function receiptAmounts(order: ApiOrder) {
    return {
      merchantOrderId: order.merchant_order_id,
      placedAt: order.placed_at,
      lines: order.products.map((product) => ({
        name: product.name,
        quantity: product.quantity,
        unitPrice: product.unit_price,
        lineTotal: product.quantity * product.unit_price,
      })),
      currency: order.currency,
      subtotal: order.subtotal_amount,
      shipping: order.shipping_amount,
      total: order.total_amount,
    } satisfies Partial<ReceiptModel>;
  }

  function receiptStatus(status: string): ReceiptModel['status'] | undefined {
    switch (status) {
      case 'PAID':
      case 'SUCCEEDED':
      case 'PARTIALLY_REFUNDED':
        return 'PAID';
      case 'AUTHORIZED':
        return 'AUTHORIZED';
      case 'PENDING':
        return 'PENDING';
      default:
        return undefined;
    }
  }

  /** ok / open: the receipt, from the callback's payment fields and the order read from the API. */
  async function callbackReceipt(context: ShopContext, fields: URLSearchParams): Promise<string> {
    const amount = Number(fields.get('amount'));
    const currency = fields.get('currency') ?? '';
    const payment = {
      id: fields.get('payment_id') ?? '',
      method: fields.get('method') ?? '',
      card: fields.get('card_last4')
        ? { brand: fields.get('card_brand') ?? '', last4: fields.get('card_last4') ?? '' }
        : null,
    };
    const status = receiptStatus(fields.get('status') ?? '') ?? 'PENDING';
    let order: ApiOrder | undefined;
    try {
      order = await context.client.getOrder(fields.get('order_id') ?? '');
    } catch (error) {
      if (!(error instanceof DemoApiError)) throw error;
    }
    if (!order) {
      // The payment stands even if the shop could not read the order just now: a receipt with what it knows.
      return renderReceiptPage({
        source: 'callback',
        merchantOrderId: fields.get('merchant_order_id') ?? '',
        lines: [],
        currency,
        subtotal: amount,
        shipping: 0,
        total: amount,
        status,
        payment,
      });
    }
    return renderReceiptPage({
      source: 'callback',
      ...receiptAmounts(order),
      status,
      payment,
    });
  }

  async function declinedPage(context: ShopContext, fields: URLSearchParams): Promise<string> {
    let retryUrl: string | undefined;
    try {
      const checkout = await context.client.getCheckout(fields.get('checkout_id') ?? '');
      if (checkout.status === 'OPEN') retryUrl = checkout.checkout_redirect_url;
    } catch (error) {
      if (!(error instanceof DemoApiError)) throw error;
    }
    const message = fields.get('failure_message');
    return renderDeclinedPage({
      merchantOrderId: fields.get('merchant_order_id') ?? '',
      reason: message
        ? `${message}. You were not charged.`
        : 'Your payment was declined. You were not charged.',
      retryUrl,
    });
  }

  /** Verifies a callback with the Standard Webhooks scheme keyed by the signing secret (docs/callbacks.md). */
  async function verifyCallback(
    context: ShopContext,
    body: string,
    headers: FastifyRequest['headers'],
  ): Promise<boolean> {
    const signed = {
      'webhook-id': String(headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(headers['webhook-signature'] ?? ''),
    };
    const verifies = (secret: string) => {
      try {
        new Webhook(secret, { format: 'raw' }).verify(body, signed, { jsonParse: false });
        return true;
      } catch {
        return false;
      }
    };
    if (verifies(await currentSigningSecret(context))) return true;
    return mayRefreshSecret() && verifies(await currentSigningSecret(context, true));
  }

  // ---------- Routes ----------

  const page = { schema: { hide: true }, config: { auth: 'public' as const } };
  // The shop's forms change only the shopper's own cart cookie, or create a checkout / link with an
  // Idempotency-Key of their own (startPayment); callbacks are deduplicated by their webhook-id by nature
  // (rendering a receipt twice is harmless). Nothing here is stored by Kassa on the shop's behalf.
  const form = {
    schema: { hide: true },
    config: { auth: 'public' as const, idempotency: 'natural' as const },
  };

  void app.register(
    async (shop) => {
      // The shop parses its own forms: callbacks must be verified over the exact bytes Kassa signed.
      shop.removeContentTypeParser('application/x-www-form-urlencoded');
      shop.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
        (_request, body, done) => done(null, body),
      );

      /** Runs `handle` with the shop's context, or answers that the shop is not configured. */
      const withShop =
        (
          handle: (
            request: FastifyRequest,
            reply: FastifyReply,
            context: ShopContext,
          ) => Promise<FastifyReply>,
        ) =>
        async (request: FastifyRequest, reply: FastifyReply) => {
          const context = shopContext();
          if (typeof context === 'string')
            return sendMessage(reply, 503, 'The demo shop is not ready', context);
          return handle(request, reply, context);
        };

      shop.get(
        '/',
        page,
        withShop(async (request, reply, context) => {
          const cart = await settledCart(request, reply, context);
          const added = findProduct(String((request.query as Record<string, unknown>).added ?? ''));
          const notice: Notice | undefined = added && {
            tone: 'success',
            text: `${added.name} is in your cart.`,
          };
          return sendHtml(reply, 200, renderShopPage({ cartCount: priceCart(cart.items).itemCount, notice }));
        }),
      );

      shop.post(
        '/cart/add',
        form,
        withShop(async (request, reply, context) => {
          const cart = await settledCart(request, reply, context);
          const product = findProduct(formFields(request.body).get('product') ?? '');
          if (!product) return reply.redirect('/demo', 303);
          const quantity = Math.min((cart.items[product.id] ?? 0) + 1, MAX_QUANTITY);
          writeCart(reply, context, { ...cart, items: { ...cart.items, [product.id]: quantity } });
          return reply.redirect(`/demo?added=${encodeURIComponent(product.id)}`, 303);
        }),
      );

      shop.post(
        '/cart/update',
        form,
        withShop(async (request, reply, context) => {
          const cart = await settledCart(request, reply, context);
          const fields = formFields(request.body);
          const product = findProduct(fields.get('product') ?? '');
          // "Remove" submits quantity twice (the field and the button); the button's value is the last one.
          const quantity = Number(fields.getAll('quantity').at(-1));
          if (product && Number.isInteger(quantity) && quantity >= 0) {
            const items = { ...cart.items };
            if (quantity === 0) delete items[product.id];
            else items[product.id] = Math.min(quantity, MAX_QUANTITY);
            writeCart(reply, context, { ...cart, items });
          }
          return reply.redirect('/demo/cart', 303);
        }),
      );

      shop.get(
        '/cart',
        page,
        withShop(async (request, reply, context) => {
          const cart = await settledCart(request, reply, context);
          let notice: Notice | undefined;
          const query = new URL(request.url, shopUrl).searchParams;
          // The canceled return URL: believe "you canceled" only when Kassa signed it.
          if (query.has('signature')) {
            const result = await verifyReturn(context, query);
            if (result?.valid && (result.status === 'CANCELED' || result.status === 'EXPIRED')) {
              notice = {
                tone: 'info',
                text:
                  result.status === 'CANCELED'
                    ? 'You canceled the payment. Your cart is still here.'
                    : 'The payment session expired. Your cart is still here.',
              };
            }
          }
          return sendHtml(
            reply,
            200,
            renderCartPage({ cart: priceCart(cart.items), attempt: randomBytes(16).toString('hex'), notice }),
          );
        }),
      );

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
            checkout = await context.client.getCheckout(pending.id);
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
          if (!LINK_ID.test(linkId))
            return sendMessage(reply, 404, 'No such payment link', 'Check the address.');
          let link;
          try {
            link = await context.client.getPaymentLink(linkId);
          } catch (error) {
            if (error instanceof DemoApiError && error.status === 404) {
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

      // A payment link's completed return URL: the receipt, once Kassa's signature checks out.
      shop.get(
        '/receipt',
        page,
        withShop(async (request, reply, context) => {
          const query = new URL(request.url, shopUrl).searchParams;
          const result = await verifyReturn(context, query);
          if (!result)
            return sendMessage(reply, 502, 'Kassa could not be reached', 'Reload this page in a moment.');
          if (!result.valid) {
            return sendMessage(
              reply,
              400,
              'This receipt link is not valid',
              'It was not signed by Kassa for this shop, or it is too old. Your orders are confirmed by e-mail.',
            );
          }
          if (!receiptStatus(result.status)) return reply.redirect('/demo/cart', 303);
          let order: ApiOrder;
          let payments;
          try {
            [order, payments] = await Promise.all([
              context.client.getOrder(result.orderId),
              context.client.listOrderPayments(result.orderId),
            ]);
          } catch (error) {
            return sendApiError(request, reply, error);
          }
          // The signature proves what was true at redirect time; the receipt shows what the API says now.
          const status = receiptStatus(order.status);
          if (!status) {
            return sendMessage(
              reply,
              409,
              'No payment for this order',
              `Order ${order.merchant_order_id} is ${order.status.toLowerCase()}: there is nothing to show a receipt for.`,
            );
          }
          const payment = [...payments.data]
            .reverse()
            .find((candidate) => ['SUCCEEDED', 'AUTHORIZED', 'PENDING'].includes(candidate.status));
          // This order came from the shopper's cart: the cart is done.
          const cart = readCart(request, context);
          const cartDone = order.metadata.cart === cart.id;
          if (cartDone) writeCart(reply, context, newCart());
          return sendHtml(
            reply,
            200,
            renderReceiptPage({
              source: 'redirect',
              cartCount: cartDone ? 0 : priceCart(cart.items).itemCount,
              ...receiptAmounts(order),
              status,
              payment: payment && { id: payment.id, method: payment.method, card: payment.card },
            }),
          );
        }),
      );

      // Kassa's server-side callbacks: only signed ones are answered.
      shop.post(
        '/callbacks/:kind',
        form,
        withShop(async (request, reply, context) => {
          const { kind } = request.params as { kind: string };
          if (!(CALLBACK_KINDS as readonly string[]).includes(kind)) return reply.code(404).send();
          const body = typeof request.body === 'string' ? request.body : '';
          if (!(await verifyCallback(context, body, request.headers))) {
            request.log.warn({ kind }, 'demo shop: callback with an invalid signature refused');
            return reply.code(400).type('text/plain; charset=utf-8').send('invalid signature');
          }
          const fields = new URLSearchParams(body);
          switch (kind as CallbackKind) {
            case 'verify_order': {
              // Re-price the order Kassa is about to charge: only the shop's own prices are OKAY.
              let verdict: ReturnType<typeof checkOrderPrices>;
              try {
                const order = await context.client.getOrder(fields.get('order_id') ?? '');
                verdict = checkOrderPrices(order, Number(fields.get('amount')));
              } catch (error) {
                if (!(error instanceof DemoApiError)) throw error;
                verdict = { ok: false, reason: 'The shop could not read the order' };
              }
              return reply
                .code(200)
                .type('text/plain; charset=utf-8')
                .send(verdict.ok ? 'OKAY' : verdict.reason);
            }
            case 'ok':
            case 'open':
              return reply
                .code(200)
                .type('text/html; charset=utf-8')
                .send(await callbackReceipt(context, fields));
            case 'fail':
              return reply
                .code(200)
                .type('text/html; charset=utf-8')
                .send(await declinedPage(context, fields));
            case 'notification':
              // A pending payment was finalised: a real shop would e-mail the shopper or release the order.
              request.log.info(
                { paymentId: fields.get('payment_id'), status: fields.get('status') },
                'demo shop: payment finalised',
              );
              return reply.code(204).send();
            default: {
              const unreachable: never = kind as never;
              throw new Error(`unknown callback ${String(unreachable)}`);
            }
          }
        }),
      );
    },
    { prefix: '/demo' },
  );
}
