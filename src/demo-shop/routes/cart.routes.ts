import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { findProduct, MAX_QUANTITY, priceCart } from '../catalogue.ts';
import type { Notice } from '../pages/parts.ts';
import { renderCartPage, renderShopPage } from '../pages/shop-pages.ts';
import { form, formFields, page, type DemoShop } from '../shop.ts';

/** The shop front and the cart: products, add, change a quantity, the cart page (also the canceled return URL). */
export function registerCartRoutes(shop: FastifyInstance, demo: DemoShop) {
  const { shopUrl, withShop, settledCart, writeCart, sendHtml, verifyReturn } = demo;

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
}
