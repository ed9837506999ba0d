import { html, type SafeHtml } from '../../lib/html.ts';
import { DEMO_PRODUCTS, FREE_SHIPPING_FROM, SHIPPING_AMOUNT, type PricedCart } from '../catalogue.ts';
import { DEMO_ASSETS, formatDemoMoney, renderDemoDocument, type SdkScript } from './layout.ts';

/**
 * The demo shop's pages, as view models in and HTML out (escaped by default). Pages that are served through
 * Kassa as callback answers (receipt, declined) use no script and only relative links, which Kassa makes
 * absolute against the callback URL.
 */

export type Notice = { tone: 'info' | 'success' | 'warning'; text: string };

function renderNotice(notice: Notice | undefined): SafeHtml | false {
  return (
    !!notice &&
    html`<p
      class="demo-notice demo-notice--${notice.tone}"
      role="${notice.tone === 'warning' ? 'alert' : 'status'}"
    >
      ${notice.text}
    </p>`
  );
}

function productImage(product: { image: string; name: string }, className: string): SafeHtml {
  return html`<img
    class="${className}"
    src="${DEMO_ASSETS}/${product.image}"
    alt=""
    width="400"
    height="300"
  />`;
}

// ---------- Shop front ----------

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

// ---------- Cart ----------

function renderTotals(
  cart: Pick<PricedCart, 'subtotal' | 'shipping' | 'total'>,
  currency?: string,
): SafeHtml {
  return html`<dl class="demo-totals">
    <div>
      <dt>Subtotal</dt>
      <dd>${formatDemoMoney(cart.subtotal, currency)}</dd>
    </div>
    <div>
      <dt>Shipping</dt>
      <dd>${cart.shipping === 0 ? 'Free' : formatDemoMoney(cart.shipping, currency)}</dd>
    </div>
    <div class="demo-totals__total">
      <dt>Total</dt>
      <dd>${formatDemoMoney(cart.total, currency)}</dd>
    </div>
  </dl>`;
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

// ---------- Checkout with the SDK, payment link, landing page ----------

/** An order as the API returns it, reduced to what a summary shows. */
export type OrderSummaryModel = {
  merchantOrderId: string;
  lines: { name: string; quantity: number; lineTotal: number }[];
  totals: Pick<PricedCart, 'subtotal' | 'shipping' | 'total'>;
};

function renderOrderSummary(order: OrderSummaryModel): SafeHtml {
  const { totals } = order;
  return html`<section class="demo-card demo-summary" aria-label="Order summary">
    <h2 class="demo-summary__title">Order ${order.merchantOrderId}</h2>
    <ul class="demo-summary__lines">
      ${order.lines.map(
        (line) =>
          html`<li>
            <span>${line.quantity} × ${line.name}</span><span>${formatDemoMoney(line.lineTotal)}</span>
          </li>`,
      )}
    </ul>
    ${renderTotals(totals)}
  </section>`;
}

export function renderEmbeddedCheckoutPage(model: {
  nonce: string;
  sdk: SdkScript;
  cartCount: number;
  order: OrderSummaryModel;
  checkoutId: string;
  clientToken: string;
  securePageUrl: string;
}): string {
  const body = html`<h1>Checkout</h1>
    <div class="demo-checkout">
      <section class="demo-card demo-methods" aria-labelledby="methods-heading">
        <h2 id="methods-heading">Payment</h2>
        <div
          id="kassa-payment-methods"
          class="demo-sdk"
          data-kassa-session="${model.checkoutId}"
          data-kassa-token="${model.clientToken}"
          aria-live="polite"
        >
          <p class="demo-muted demo-sdk__loading">Loading payment methods…</p>
        </div>
        <p class="demo-sdk__error" role="alert" hidden></p>
        <noscript>
          <p class="demo-muted">
            Showing the methods here needs JavaScript.
            <a href="${model.securePageUrl}">Pay on the secure page instead</a>.
          </p>
        </noscript>
      </section>
      ${renderOrderSummary(model.order)}
    </div>`;
  return renderDemoDocument({
    title: 'Checkout',
    cartCount: model.cartCount,
    nonce: model.nonce,
    sdk: model.sdk,
    body,
  });
}

export function renderPaymentLinkPage(model: {
  nonce: string;
  cartCount: number;
  link: {
    id: string;
    url: string;
    qrCode: string | undefined;
    status: string;
    expiresAt: string;
    activationMinutes: number;
  };
  order: OrderSummaryModel;
}): string {
  const { link } = model;
  const expires = new Date(link.expiresAt).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
  const body = html`<h1>Your payment link</h1>
    <div class="demo-checkout">
      <section class="demo-card demo-link" aria-label="Payment link">
        ${
          link.status === 'ACTIVE'
            ? html`<p class="demo-link__lead">Scan the code with your phone, or open or share the link.</p>`
            : html`<p class="demo-notice demo-notice--warning" role="status">
                This link is ${link.status.toLowerCase()}.
              </p>`
        }
        ${
          link.qrCode &&
          html`<img
            class="demo-link__qr"
            src="${link.qrCode}"
            alt="QR code of the payment link"
            width="240"
            height="240"
          />`
        }
        <label class="demo-label" for="payment-link-url">Payment link</label>
        <div class="demo-link__row">
          <input
            class="demo-input demo-link__url"
            id="payment-link-url"
            type="text"
            readonly
            value="${link.url}"
          />
          <button
            class="demo-button demo-button--secondary"
            type="button"
            data-copy-target="payment-link-url"
            hidden
          >
            Copy
          </button>
        </div>
        <a class="demo-button demo-link__open" href="${link.url}">Open the payment link</a>
        <p class="demo-muted">
          Valid until ${expires}. Once opened, it can be paid for ${link.activationMinutes} minutes; it can be
          paid once.
        </p>
      </section>
      ${renderOrderSummary(model.order)}
    </div>`;
  return renderDemoDocument({
    title: 'Payment link',
    cartCount: model.cartCount,
    nonce: model.nonce,
    script: true,
    body,
  });
}

export function renderLinkLandingPage(model: { nonce: string; sdk: SdkScript }): string {
  const body = html`<h1>Pay for your order</h1>
    <div class="demo-checkout demo-checkout--single">
      <section class="demo-card demo-methods" aria-labelledby="methods-heading">
        <h2 id="methods-heading">Payment</h2>
        <p class="demo-muted">
          You opened a Demo Shop payment link. Kassa's browser SDK read the order from the link (<span
            class="demo-mono"
            >initFromQR</span
          >) and shows how you can pay.
        </p>
        <div id="kassa-payment-methods" class="demo-sdk" data-kassa-from-qr="true" aria-live="polite">
          <p class="demo-muted demo-sdk__loading">Loading your order…</p>
        </div>
        <p class="demo-sdk__error" role="alert" hidden></p>
        <noscript><p class="demo-muted">This page needs JavaScript to show your order.</p></noscript>
      </section>
    </div>`;
  return renderDemoDocument({ title: 'Pay', nonce: model.nonce, sdk: model.sdk, body });
}

// ---------- Receipt and outcomes ----------

export type ReceiptModel = {
  /** Who rendered it, shown as a hint: the shop's callback handler, or its signed-return handler. */
  source: 'callback' | 'redirect';
  /** Items in the shopper's cart; unknown (undefined) when Kassa serves the page from a callback. */
  cartCount?: number;
  merchantOrderId: string;
  placedAt?: string;
  lines: { name: string; quantity: number; unitPrice: number; lineTotal: number }[];
  currency: string;
  subtotal: number;
  shipping: number;
  total: number;
  /** `PAID`, `AUTHORIZED` or `PENDING` (the order's status, or the payment's mapped to it). */
  status: 'PAID' | 'AUTHORIZED' | 'PENDING';
  payment: { id: string; method: string; card: { brand: string; last4: string } | null } | undefined;
};

const BRAND_NAMES: Record<string, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  jcb: 'JCB',
  diners: 'Diners Club',
  unionpay: 'UnionPay',
  maestro: 'Maestro',
};

export function describePaymentMethod(payment: ReceiptModel['payment']): string {
  if (!payment) return '—';
  if (payment.card)
    return `${BRAND_NAMES[payment.card.brand] ?? payment.card.brand} •••• ${payment.card.last4}`;
  if (payment.method === 'invoice') return 'Invoice (pay later)';
  if (payment.method === 'wallet') return 'Wallet';
  return payment.method;
}

const STATUS_TEXT: Record<ReceiptModel['status'], { badge: string; title: string; lead: string }> = {
  PAID: {
    badge: 'Paid',
    title: 'Thank you! Your order is confirmed.',
    lead: 'We have received your payment and will pack your order today.',
  },
  AUTHORIZED: {
    badge: 'Authorized',
    title: 'Thank you! Your order is confirmed.',
    lead: 'Your payment is authorized; we charge it when your order ships.',
  },
  PENDING: {
    badge: 'Payment pending',
    title: 'Thank you! We have your order.',
    lead: 'Your payment is being processed; we will e-mail you as soon as it is confirmed.',
  },
};

export function renderReceiptPage(model: ReceiptModel): string {
  const text = STATUS_TEXT[model.status];
  const placed = model.placedAt
    ? new Date(model.placedAt).toLocaleString('en-GB', {
        day: 'numeric',
        month: 'long',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        timeZone: 'UTC',
        timeZoneName: 'short',
      })
    : undefined;
  const body = html`<section class="demo-receipt demo-card" aria-labelledby="receipt-title">
    <div class="demo-receipt__head">
      <span class="demo-receipt__check demo-receipt__check--${model.status.toLowerCase()}" aria-hidden="true"
        >✓</span
      >
      <h1 id="receipt-title">${text.title}</h1>
      <p class="demo-muted">${text.lead}</p>
    </div>
    <dl class="demo-facts">
      <div>
        <dt>Order number</dt>
        <dd id="receipt-order-number">${model.merchantOrderId}</dd>
      </div>
      ${
        placed &&
        html`<div>
          <dt>Placed</dt>
          <dd>${placed}</dd>
        </div>`
      }
      <div>
        <dt>Payment</dt>
        <dd id="receipt-payment-method">${describePaymentMethod(model.payment)}</dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd>
          <span id="receipt-status" class="demo-status demo-status--${model.status.toLowerCase()}"
            >${text.badge}</span
          >
        </dd>
      </div>
    </dl>
    <table class="demo-receipt__items">
      <caption class="demo-visually-hidden">
        Items
      </caption>
      <thead>
        <tr>
          <th scope="col">Item</th>
          <th scope="col">Qty</th>
          <th scope="col">Price</th>
          <th scope="col">Total</th>
        </tr>
      </thead>
      <tbody>
        ${model.lines.map(
          (line) =>
            html`<tr>
              <td>${line.name}</td>
              <td>${line.quantity}</td>
              <td>${formatDemoMoney(line.unitPrice, model.currency)}</td>
              <td>${formatDemoMoney(line.lineTotal, model.currency)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${renderTotals(model, model.currency)}
    ${
      model.payment &&
      html`<p class="demo-muted demo-receipt__ref">
        Payment reference <span class="demo-mono">${model.payment.id}</span>
      </p>`
    }
    <div class="demo-receipt__actions"><a class="demo-button" href="/demo">Continue shopping</a></div>
    <p class="demo-hint">
      ${
        model.source === 'callback'
          ? 'This receipt is the shop’s answer to Kassa’s signed callback (callbacks.ok / open). Kassa served it to you with scripts removed.'
          : 'This receipt was rendered after the shop verified the signature of Kassa’s return URL and read the order from the API.'
      }
    </p>
  </section>`;
  return renderDemoDocument({ title: 'Receipt', cartCount: model.cartCount, body });
}

export function renderDeclinedPage(model: {
  merchantOrderId: string;
  reason: string;
  retryUrl: string | undefined;
}): string {
  const body = html`<section class="demo-receipt demo-card" aria-labelledby="declined-title">
    <div class="demo-receipt__head">
      <span class="demo-receipt__check demo-receipt__check--declined" aria-hidden="true">!</span>
      <h1 id="declined-title">Your payment did not go through</h1>
      <p class="demo-muted">${model.reason}</p>
    </div>
    <dl class="demo-facts">
      <div>
        <dt>Order number</dt>
        <dd>${model.merchantOrderId}</dd>
      </div>
    </dl>
    <div class="demo-receipt__actions">
      ${model.retryUrl && html`<a class="demo-button" href="${model.retryUrl}">Try again</a>`}
      <a class="demo-button demo-button--secondary" href="/demo/cart">Back to the cart</a>
    </div>
    <p class="demo-hint">
      This page is the shop’s answer to Kassa’s signed callback (callbacks.fail). Nothing was charged; the
      payment page is still open for another try.
    </p>
  </section>`;
  return renderDemoDocument({ title: 'Payment declined', body });
}

export function renderMessagePage(model: {
  title: string;
  message: string;
  cartCount?: number;
  action?: { href: string; label: string };
}): string {
  const body = html`<section class="demo-empty">
    <h1>${model.title}</h1>
    <p>${model.message}</p>
    ${model.action && html`<a class="demo-button" href="${model.action.href}">${model.action.label}</a>`}
  </section>`;
  return renderDemoDocument({ title: model.title, cartCount: model.cartCount, body });
}
