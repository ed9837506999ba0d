import type { FastifyInstance } from 'fastify';
import { newCart } from '../cart-cookie.ts';
import { priceCart } from '../catalogue.ts';
import type { ApiOrder } from '../kassa-client.ts';
import { renderReceiptPage } from '../pages/receipt-pages.ts';
import { receiptAmounts, receiptStatus } from '../receipts.ts';
import { page, type DemoShop } from '../shop.ts';

export function registerReceiptRoutes(shop: FastifyInstance, demo: DemoShop) {
  const { shopUrl, withShop, verifyReturn, readCart, writeCart, sendHtml, sendMessage, sendApiError } = demo;

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
          context.client.get('/v1/orders/{id}', { params: { path: { id: result.orderId } } }),
          context.client.get('/v1/orders/{id}/payments', { params: { path: { id: result.orderId } } }),
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
      // The list is newest first: the latest attempt that took (or may take) the money.
      const payment = payments.data.find((candidate) =>
        ['SUCCEEDED', 'AUTHORIZED', 'PENDING'].includes(candidate.status),
      );
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
}
