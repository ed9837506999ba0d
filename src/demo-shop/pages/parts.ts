import { html, type SafeHtml } from '../../lib/html.ts';
import type { PricedCart } from '../catalogue.ts';
import { DEMO_ASSETS, formatDemoMoney } from './layout.ts';

/**
 * Parts several of the demo shop's pages share: notices, product pictures, totals. The pages are view models
 * in and HTML out (escaped by default). Pages that are served through Kassa as callback answers (receipt,
 * declined) use no script and only relative links, which Kassa makes absolute against the callback URL.
 */

export type Notice = { tone: 'info' | 'success' | 'warning'; text: string };

export function renderNotice(notice: Notice | undefined): SafeHtml | false {
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

export function productImage(product: { image: string; name: string }, className: string): SafeHtml {
  return html`<img
    class="${className}"
    src="${DEMO_ASSETS}/${product.image}"
    alt=""
    width="400"
    height="300"
  />`;
}

export function renderTotals(
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
