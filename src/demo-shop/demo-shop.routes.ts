import type { FastifyInstance } from 'fastify';
import { registerCallbackRoutes } from './routes/callbacks.routes.ts';
import { registerCartRoutes } from './routes/cart.routes.ts';
import { registerPayRoutes } from './routes/pay.routes.ts';
import { registerReceiptRoutes } from './routes/receipt.routes.ts';
import { createDemoShop, type DemoShopOptions } from './shop.ts';

/**
 * The demo shop at `/demo` (docs/demo-shop.md), registered when `config.demoShop` (`KASSA_DEMO`) is on.
 *
 * It is a separate merchant website that lives inside Kassa's process for convenience: it knows the demo
 * merchant only by its secret API key (`credentials.ts`) and talks to Kassa only through the public HTTP API,
 * over the network, like any shop (`kassa-client.ts`: the `@kassa/node` client). It imports nothing of the gateway but pure utilities
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

const FORM_BODY_LIMIT = 64 * 1024;

/**
 * Mounts the shop on the gateway's Fastify instance (same process and port). Its routes follow the host's
 * route contract — each says who may call it (`auth: 'public'`) and how a POST is idempotent — and nothing
 * else of Kassa's.
 */
export function registerDemoShopRoutes(app: FastifyInstance, options: DemoShopOptions) {
  const demo = createDemoShop(app, options);
  void app.register(
    async (shop) => {
      // The shop parses its own forms: callbacks must be verified over the exact bytes Kassa signed.
      shop.removeContentTypeParser('application/x-www-form-urlencoded');
      shop.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
        (_request, body, done) => done(null, body),
      );

      registerCartRoutes(shop, demo);
      registerPayRoutes(shop, demo);
      registerReceiptRoutes(shop, demo);
      registerCallbackRoutes(shop, demo);
    },
    { prefix: '/demo' },
  );
}
