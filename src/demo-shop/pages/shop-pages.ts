import { html, type SafeHtml } from '../../lib/html.ts';
import { DEMO_PRODUCTS, FREE_SHIPPING_FROM, SHIPPING_AMOUNT, type PricedCart } from '../catalogue.ts';
import { formatDemoMoney, renderDemoDocument } from './layout.ts';
import { productImage, renderNotice, renderTotals, type Notice } from './parts.ts';

/** The shop front and the cart with its three ways to pay. */

export function renderShopPage(model: { cartCount: number; notice?: Notice }): string {
  const body = html` ${renderNotice(model.notice)}
    <section class="demo-hero">
      <h1>Warm things for long evenings</h1>
      <p>
        Four objects, made to last. Shipping ${formatDemoMoney(SHIPPING_AMOUNT)}, free from
        ${formatDemoMoney(FREE_SHIPPING_FROM)}.
      </p>
    </section>
    <section class="demo-grid" aria-label="Products">
      ${DEMO_PRODUCTS.map(
        (product) =>
          html`<article class="demo-product">
            ${productImage(product, 'demo-product__image')}
            <div class="demo-product__body">
              <h2 class="demo-product__name">${product.name}</h2>
              <p class="demo-product__description">${product.description}</p>
              <div class="demo-product__buy">
                <span class="demo-price">${formatDemoMoney(product.unitPrice)}</span>
                <form method="post" action="/demo/cart/add">
                  <input type="hidden" name="product" value="${product.id}" />
                  <button
                    class="demo-button demo-button--small"
                    type="submit"
                    aria-label="Add ${product.name} to cart"
                  >
                    Add to cart
                  </button>
                </form>
              </div>
            </div>
          </article>`,
      )}
    </section>
    <section class="demo-explain">
      <h2>What this demo shows</h2>
      <ol>
        <li>Put something in the cart and open it.</li>
        <li>
          Pay one of three ways: on Kassa's <strong>secure payment page</strong> (redirect), with the
          <strong>payment methods embedded</strong> in this page by Kassa's browser SDK, or with a
          <strong>payment link and QR code</strong>.
        </li>
        <li>
          The receipt is this shop's page: Kassa posts the result to the shop's signed callback and shows the
          shopper the shop's answer (or, for payment links, returns to a signed URL the shop verifies).
        </li>
      </ol>
    </section>`;
  return renderDemoDocument({ title: 'Shop', cartCount: model.cartCount, body });
}

export function renderCartPage(model: { cart: PricedCart; attempt: string; notice?: Notice }): string {
  const { cart } = model;
  if (cart.lines.length === 0) {
    const body = html`${renderNotice(model.notice)}
      <section class="demo-empty">
        <h1>Your cart is empty</h1>
        <p>Find something warm in the shop.</p>
        <a class="demo-button" href="/demo">Continue shopping</a>
      </section>`;
    return renderDemoDocument({ title: 'Cart', cartCount: 0, body });
  }
  const payWay = (way: string, title: string, text: SafeHtml | string, button: string, primary = false) =>
    html`<form class="demo-way" method="post" action="/demo/pay/${way}">
      <input type="hidden" name="attempt" value="${model.attempt}" />
      <h3 class="demo-way__title">${title}</h3>
      <p class="demo-way__text">${text}</p>
      <button class="demo-button${primary ? '' : ' demo-button--secondary'}" type="submit">${button}</button>
    </form>`;
  const body = html`${renderNotice(model.notice)}
    <h1>Your cart</h1>
    <div class="demo-cart">
      <section class="demo-card demo-lines" aria-label="Items">
        ${cart.lines.map(
          (line) =>
            html`<div class="demo-line">
              ${productImage(line.product, 'demo-line__image')}
              <div class="demo-line__info">
                <span class="demo-line__name">${line.product.name}</span>
                <span class="demo-line__unit">${formatDemoMoney(line.product.unitPrice)} each</span>
              </div>
              <form class="demo-line__quantity" method="post" action="/demo/cart/update">
                <input type="hidden" name="product" value="${line.product.id}" />
                <label class="demo-visually-hidden" for="qty-${line.product.id}"
                  >Quantity of ${line.product.name}</label
                >
                <input
                  class="demo-input demo-input--quantity"
                  id="qty-${line.product.id}"
                  name="quantity"
                  type="number"
                  inputmode="numeric"
                  min="0"
                  max="9"
                  value="${line.quantity}"
                />
                <button class="demo-link-button" type="submit">Update</button>
                <button class="demo-link-button" type="submit" name="quantity" value="0">Remove</button>
              </form>
              <span class="demo-line__total">${formatDemoMoney(line.lineTotal)}</span>
            </div>`,
        )}
        ${renderTotals(cart)}
      </section>
      <section class="demo-ways" aria-labelledby="pay-heading">
        <h2 id="pay-heading">How would you like to pay ${formatDemoMoney(cart.total)}?</h2>
        ${payWay(
          'redirect',
          'Secure payment page',
          "You go to Kassa's hosted payment page, pay, and come back to our receipt.",
          'Pay on the secure page',
          true,
        )}
        ${payWay(
          'embedded',
          'Choose the method here',
          'The payment methods appear on our checkout page (Kassa browser SDK); card details are still entered on Kassa’s secure page.',
          'Continue to checkout',
        )}
        ${payWay(
          'link',
          'Payment link and QR code',
          'Get a link and a QR code: pay on your phone, or send it to whoever pays.',
          'Create a payment link',
        )}
      </section>
    </div>`;
  return renderDemoDocument({ title: 'Cart', cartCount: cart.itemCount, body });
}
