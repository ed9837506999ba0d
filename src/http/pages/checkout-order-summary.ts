import { html, type SafeHtml } from '../../lib/html.ts';
import { numberFormat } from '../../lib/intl-cache.ts';
import type { CheckoutPageModel } from './checkout-page.model.ts';
import { renderIcon } from './page-icons.ts';
import { renderMerchantHeader } from './page-layout.ts';
import type { ResolvedPageLocale } from './page-locale.ts';

/** The payment page's order summary: merchant, order lines, discounts, taxes, shipping and the total due. */

export function renderCheckoutOrderSummary(model: CheckoutPageModel, page: ResolvedPageLocale): SafeHtml {
  const { order } = model;
  const { text } = page;
  const money = (amount: number) => page.money(amount, order.currency);
  const quantity = numberFormat(page.intlLocale);
  const itemCount = order.products.reduce((sum, product) => sum + product.quantity, 0);
  const row = (label: string, value: string, modifier = '') =>
    html`<div class="totals__row${modifier}">
      <dt>${label}</dt>
      <dd>${value}</dd>
    </div>`;
  return html`<section class="summary" aria-labelledby="summary-heading">
    ${renderMerchantHeader(model.merchant, page, { livemode: model.livemode })}
    <h1 class="summary__headline">
      <span class="summary__pay-to">${text.payTo(model.merchant.displayName)}</span>
      <span class="summary__amount">${money(order.total)}</span>
    </h1>
    <details class="summary__details" data-summary-details>
      <summary class="summary__toggle">
        <span class="summary__toggle-label"
          >${itemCount > 0 ? text.orderSummaryToggle(itemCount) : text.orderSummary}</span
        >
        <span class="summary__toggle-total">${money(order.total)}</span>
        ${renderIcon('chevron', 'icon icon--small summary__chevron')}
      </summary>
      <div class="summary__body">
        <div class="summary__heading-row">
          <h2 class="summary__title" id="summary-heading">${text.orderSummary}</h2>
          <span class="summary__reference">${text.orderReference(order.merchantOrderId)}</span>
        </div>
        <ul class="lines">
          ${order.products.map(
            (product) =>
              html`<li class="line">
                <div class="line__main">
                  <span class="line__name">${product.name}</span>
                  <span class="line__quantity"
                    >${text.quantityTimesPrice(quantity.format(product.quantity), money(product.unitPrice))}</span
                  >
                </div>
                <span class="line__amount">${money(product.quantity * product.unitPrice)}</span>
              </li>`,
          )}
        </ul>
        <dl class="totals">
          ${row(text.subtotal, money(order.subtotal))}
          ${order.discounts.map((discount) =>
            row(discount.description || text.discount, money(-discount.amount), ' totals__row--discount'),
          )}
          ${order.taxes.map((tax) => row(tax.description || text.tax, money(tax.amount)))}
          ${order.shipping > 0 && row(text.shipping, money(order.shipping))}
          ${row(text.total, money(order.total), ' totals__row--total')}
        </dl>
      </div>
    </details>
  </section>`;
}
