import { html } from '../../lib/html.ts';
import { renderCheckoutOrderSummary } from './checkout-order-summary.ts';
import type { CheckoutPageModel } from './checkout-page.model.ts';
import { renderPaymentForm } from './checkout-payment-form.ts';
import { renderCsrfField, renderDocument, renderFooter, pageLocaleOf } from './page-layout.ts';
import { derivePageTheme } from './page-theme.ts';
import { createPageTemplateCache, type ResponseSecrets } from './page-template-cache.ts';

/**
 * The hosted payment page: order summary (`checkout-order-summary.ts`), eligible methods, card form and Pay
 * (`checkout-payment-form.ts`), Cancel; its model is `checkout-page.model.ts`.
 *
 * Works without JavaScript: every method's fields are visible, the server ignores card fields for other
 * methods, and errors come back in the model. checkout.js only improves it (hides unused fields, formats,
 * checks before sending, prevents a double submit).
 *
 * Invariant: the card number and CVC are never written into the page. `values` has no field for them, and the
 * renderer reads only `cardName` and `cardExpiry` — even a name that looks like a card number is dropped.
 */

export {
  CHECKOUT_FORM_FIELDS,
  type CheckoutField,
  type CheckoutFieldErrors,
  type CheckoutFormValues,
  type CheckoutMethodOption,
  type CheckoutPageModel,
  type OrderAdjustmentView,
  type OrderLineView,
  type OrderSummaryView,
  type SavedCardOption,
} from './checkout-page.model.ts';

export function renderCheckoutPage(model: CheckoutPageModel): string {
  const page = pageLocaleOf(model);
  const body = html`<div class="shell shell--checkout">
    <main class="checkout">
      ${renderCheckoutOrderSummary(model, page)}
      <section class="payment" aria-label="${page.text.paymentMethod}">
        ${renderPaymentForm(model, page)}
        <form class="cancel-form" method="post" action="${model.cancelAction}" data-submit-once>
          ${renderCsrfField(model.csrfToken)}
          <button class="button button--link" type="submit">${page.text.cancel}</button>
        </form>
      </section>
    </main>
    ${renderFooter(page)}
  </div>`;
  return renderDocument({
    page,
    title: page.text.payTo(model.merchant.displayName),
    nonce: model.nonce,
    assetBase: model.assetBase,
    theme: derivePageTheme(model.merchant.primaryColor),
    bodyClass: 'page page--checkout',
    body,
  });
}

/** The checkout page's model without what changes in every response (the CSP nonce and the CSRF token). */
export type CheckoutPageContent = Omit<CheckoutPageModel, 'nonce' | 'csrfToken'>;

const cachedCheckoutPage = createPageTemplateCache<CheckoutPageContent>((content, { nonce, csrfToken }) =>
  renderCheckoutPage({ ...content, nonce, csrfToken }),
);

/**
 * `renderCheckoutPage` through the page template cache: a checkout shown again with the same content (a
 * reload, the back button, a second tab) is not rendered again. The result is exactly the UTF-8 bytes of what
 * `renderCheckoutPage({ ...content, nonce, csrfToken })` returns. A page that echoes what the shopper typed
 * (`values`) is always rendered directly: what a shopper types, even into the wrong field, is never kept
 * beyond its request (a card number typed as the name must not sit in a cache key).
 */
export function renderCheckoutPageWith(content: CheckoutPageContent, secrets: ResponseSecrets): Buffer {
  if (content.values !== undefined)
    return Buffer.from(renderCheckoutPage({ ...content, ...secrets }), 'utf8');
  return cachedCheckoutPage(content, secrets);
}
