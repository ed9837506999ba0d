import { html, type SafeHtml } from '../../lib/html.ts';
import type { PricedCart } from '../catalogue.ts';
import { formatDemoMoney, renderDemoDocument, type SdkScript } from './layout.ts';
import { renderTotals } from './parts.ts';

/** The shop's checkout page with Kassa's SDK, a payment link with its QR code, and the link's landing page. */

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
