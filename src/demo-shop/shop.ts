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
import type { DemoShopCredentials } from './credentials.ts';
import { apiErrorCode, createShopKassaClient, isNotFound, KassaError, type Kassa } from './kassa-client.ts';
import { demoPageHeaders, type SdkScript } from './pages/layout.ts';
import { renderMessagePage } from './pages/receipt-pages.ts';

/**
 * What every part of the demo shop shares: its URLs, its API key and API client, its cart cookie, Kassa's
 * signing secret (for callbacks and signed return URLs) and its replies. The routes are in `routes/`, one
 * file per flow.
 */

export const CALLBACK_KINDS = ['ok', 'fail', 'open', 'notification', 'verify_order'] as const;
export type CallbackKind = (typeof CALLBACK_KINDS)[number];

/** How long after Kassa signed a return URL the shop still accepts it (a receipt reloaded a while later). */
const RETURN_TOLERANCE_SECONDS = 30 * 60;
/** A failed callback verification refetches the signing secret (it may have been rotated), at most this often. */
const SECRET_REFRESH_MS = 30_000;

const SDK_FILE = new URL('../../public/sdk/v1/kassa.js', import.meta.url);

export type ShopContext = { apiKey: string; client: Kassa; cookieKey: CartCookieKey };

/** A fresh CSP nonce per page: 128 random bits (the shop's pages allow only their own nonced scripts). */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

export function formFields(body: unknown): URLSearchParams {
  return new URLSearchParams(typeof body === 'string' ? body : '');
}

/** A page: public, and hidden from Kassa's OpenAPI document like every route of the shop. */
export const page = { schema: { hide: true }, config: { auth: 'public' as const } };
// The shop's forms change only the shopper's own cart cookie, or create a checkout / link with an
// Idempotency-Key of their own (startPayment); callbacks are deduplicated by their webhook-id by nature
// (rendering a receipt twice is harmless). Nothing here is stored by Kassa on the shop's behalf.
export const form = {
  schema: { hide: true },
  config: { auth: 'public' as const, idempotency: 'natural' as const },
};

export type DemoShopOptions = {
  /** Kassa's public URL: where shoppers' browsers reach Kassa, and under which the shop answers (`/demo`). */
  publicUrl: string;
  /** The secret API key the shop calls Kassa's API with (`credentials.ts`). */
  credentials: DemoShopCredentials;
};

export type DemoShop = ReturnType<typeof createDemoShop>;

/**
 * The shop's shared state and helpers. `app` is the Fastify instance it is mounted on: the shop reaches
 * Kassa's API on that instance's listening socket.
 */
export function createDemoShop(app: FastifyInstance, options: DemoShopOptions) {
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
    return { apiKey, client: createShopKassaClient({ baseUrl, apiKey }), cookieKey: cartCookieKey(apiKey) };
  }

  async function currentSigningSecret(context: ShopContext, refresh = false): Promise<string> {
    if (!refresh && signingSecret?.apiKey === context.apiKey) return signingSecret.secret;
    const { secret } = await context.client.get('/v1/merchant/signing-secret');
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
      if (error instanceof KassaError) return undefined;
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
    if (!(error instanceof KassaError)) throw error;
    const code = apiErrorCode(error);
    request.log.warn(
      { code, requestId: (error as { requestId?: string }).requestId },
      'demo shop: Kassa API call failed',
    );
    return sendMessage(reply, 502, 'Kassa did not accept the request', `${error.message} (${code}).`);
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
          ? (await context.client.get('/v1/checkouts/{id}', { params: { path: { id: cart.pending.id } } }))
              .status
          : (
              await context.client.get('/v1/payment-links/{id}', {
                params: { path: { id: cart.pending.id } },
              })
            ).status;
    } catch (error) {
      if (!(error instanceof KassaError)) throw error;
      if (!isNotFound(error)) return cart; // ask again next time
    }
    if (status === 'OPEN' || status === 'ACTIVE') return cart;
    const next = status === 'COMPLETED' ? newCart() : { id: cart.id, items: cart.items };
    writeCart(reply, context, next);
    return next;
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

  /** Runs `handle` with the shop's context, or answers that the shop is not configured. */
  const withShop =
    (handle: (request: FastifyRequest, reply: FastifyReply, context: ShopContext) => Promise<FastifyReply>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const context = shopContext();
      if (typeof context === 'string') return sendMessage(reply, 503, 'The demo shop is not ready', context);
      return handle(request, reply, context);
    };

  return {
    shopUrl,
    sdk,
    withShop,
    verifyReturn,
    verifyCallback,
    sendHtml,
    sendMessage,
    sendApiError,
    readCart,
    writeCart,
    settledCart,
  };
}
