import type { FastifyInstance } from 'fastify';
import { checkOrderPrices } from '../catalogue.ts';
import { KassaError, type ApiOrder } from '../kassa-client.ts';
import { renderDeclinedPage, renderReceiptPage } from '../pages/receipt-pages.ts';
import { receiptAmounts, receiptStatus } from '../receipts.ts';
import { CALLBACK_KINDS, form, type CallbackKind, type DemoShop, type ShopContext } from '../shop.ts';

/**
 * Kassa's callbacks to the shop (docs/callbacks.md): ok / open answer the receipt Kassa shows the shopper,
 * fail the declined page, verify_order re-prices the order, notification is acknowledged.
 */

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
    order = await context.client.get('/v1/orders/{id}', {
      params: { path: { id: fields.get('order_id') ?? '' } },
    });
  } catch (error) {
    if (!(error instanceof KassaError)) throw error;
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
    const checkout = await context.client.get('/v1/checkouts/{id}', {
      params: { path: { id: fields.get('checkout_id') ?? '' } },
    });
    if (checkout.status === 'OPEN') retryUrl = checkout.checkout_redirect_url;
  } catch (error) {
    if (!(error instanceof KassaError)) throw error;
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

export function registerCallbackRoutes(shop: FastifyInstance, demo: DemoShop) {
  const { withShop, verifyCallback } = demo;

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
            const order = await context.client.get('/v1/orders/{id}', {
              params: { path: { id: fields.get('order_id') ?? '' } },
            });
            verdict = checkOrderPrices(order, Number(fields.get('amount')));
          } catch (error) {
            if (!(error instanceof KassaError)) throw error;
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
}
