import { numberFormat } from '../../lib/intl-cache.ts';
import { CARD_BRAND_RANGES, type CardBrand } from '../../lib/card.ts';
import { BRAND_NAMES, renderBrandMark } from './card-brand-marks.ts';
import { html } from '../../lib/html.ts';
import type { SafeHtml } from '../../lib/html.ts';
import { renderIcon } from './page-icons.ts';
import {
  CSRF_FIELD,
  renderCsrfField,
  renderDocument,
  renderFooter,
  renderMerchantHeader,
  pageLocaleOf,
} from './page-layout.ts';
import type { MerchantBranding, PageShellModel } from './page-layout.ts';
import type {
  CheckoutGlobalError,
  PageDictionary,
  PaymentMethodType,
  ResolvedPageLocale,
} from './page-locale.ts';
import { derivePageTheme } from './page-theme.ts';
import { createPageTemplateCache, type ResponseSecrets } from './page-template-cache.ts';

/**
 * The hosted payment page: order summary, eligible methods, card form, Pay and Cancel.
 *
 * Works without JavaScript: every method's fields are visible, the server ignores card fields for other
 * methods, and errors come back in the model. checkout.js only improves it (hides unused fields, formats,
 * checks before sending, prevents a double submit).
 *
 * Invariant: the card number and CVC are never written into the page. `values` has no field for them, and the
 * renderer reads only `cardName` and `cardExpiry` — even a name that looks like a card number is dropped.
 */

/** Form field names the route layer reads from the POST body. */
export const CHECKOUT_FORM_FIELDS = {
  csrfToken: CSRF_FIELD,
  paymentMethod: 'payment_method',
  cardName: 'card_name',
  cardNumber: 'card_number',
  cardExpiry: 'card_expiry',
  cardCvc: 'card_cvc',
  saveCard: 'save_card',
} as const;

export type OrderLineView = { name: string; quantity: number; unitPrice: number };
export type OrderAdjustmentView = { description?: string; amount: number };

/** The order as the shopper sees it; every amount is integer minor units of `currency`. */
export type OrderSummaryView = {
  merchantOrderId: string;
  currency: string;
  products: readonly OrderLineView[];
  subtotal: number;
  /** Positive amounts, shown subtracted. */
  discounts: readonly OrderAdjustmentView[];
  taxes: readonly OrderAdjustmentView[];
  shipping: number;
  total: number;
};

export type CheckoutMethodOption =
  { type: 'card'; brands?: readonly CardBrand[] } | { type: 'invoice' } | { type: 'wallet' };

/** Non-sensitive values echoed back after a failed attempt. There is deliberately no card number or CVC. */
export type CheckoutFormValues = { cardName?: string; cardExpiry?: string; saveCard?: boolean };

/**
 * A card this customer saved on an earlier checkout, offered as its own radio option ("Visa •••• 4242"). Its
 * radio value is `id`, so choosing it sends no card fields (checkout.js disables them; the server ignores them).
 */
export type SavedCardOption = {
  id: string;
  brand: CardBrand;
  last4: string;
  expMonth: number;
  expYear: number;
};

export type CheckoutField = keyof PageDictionary['fieldErrors'];

/** Per-field error codes; the page shows the message for the code in its own language. */
export type CheckoutFieldErrors = { [F in CheckoutField]?: keyof PageDictionary['fieldErrors'][F] };

export type CheckoutPageModel = PageShellModel & {
  /** false shows the test-mode badge. */
  livemode: boolean;
  merchant: MerchantBranding;
  order: OrderSummaryView;
  /** Eligible methods in display order. */
  methods: readonly CheckoutMethodOption[];
  /** Defaults to the first saved card, else the first method. */
  selectedMethod?: PaymentMethodType;
  /** Checks this saved card (its id) instead of a method. */
  selectedSavedCardId?: string;
  /** Saved cards of the order's customer, shown before the methods (only when card is eligible). */
  savedCards?: readonly SavedCardOption[];
  /** Shows "Save this card…" under the card fields. */
  offerSaveCard?: boolean;
  values?: CheckoutFormValues;
  fieldErrors?: CheckoutFieldErrors;
  globalError?: CheckoutGlobalError;
  /** A line under the global error, shown as text (the merchant's reason when `verify_order` refused). */
  globalErrorDetail?: string;
  csrfToken: string;
  payAction: string;
  cancelAction: string;
};

/**
 * The brand ranges of src/lib/card.ts, in their order, as `brand:from-to;…`, written on the card number input so
 * checkout.js shows the detected brand with exactly the server's rules.
 */
const BRAND_RANGES_ATTRIBUTE = CARD_BRAND_RANGES.map(
  (range) => `${range.brand}:${range.from}-${range.to}`,
).join(';');

const FIELD_IDS: Record<CheckoutField, string> = {
  paymentMethod: 'payment-method',
  cardName: 'card-name',
  cardNumber: 'card-number',
  cardExpiry: 'card-expiry',
  cardCvc: 'card-cvc',
};

const FIELD_ORDER: readonly CheckoutField[] = [
  'paymentMethod',
  'cardName',
  'cardNumber',
  'cardExpiry',
  'cardCvc',
];

/** Shoppers sometimes type the card number into the name field; never echo anything that might be one. */
function echoableName(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  if ((value.match(/\d/g) ?? []).length >= 8) return undefined;
  return value.slice(0, 100);
}

/** An expiry is echoed only when it looks like one (digits, spaces, one slash, at most 6 digits). */
function echoableExpiry(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^[\d\s/]{0,9}$/.test(value) && (value.match(/\d/g) ?? []).length <= 6 ? value : undefined;
}

function fieldErrorMessage(
  text: PageDictionary,
  field: CheckoutField,
  errors: CheckoutFieldErrors | undefined,
): string | undefined {
  const code = errors?.[field];
  if (code === undefined) return undefined;
  const messages = text.fieldErrors[field] as Record<string, string>;
  return messages[code];
}

function renderSummary(model: CheckoutPageModel, page: ResolvedPageLocale): SafeHtml {
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

function renderAlert(model: CheckoutPageModel, page: ResolvedPageLocale): SafeHtml {
  const { text } = page;
  const fieldMessages = FIELD_ORDER.flatMap((field) => {
    const message = fieldErrorMessage(text, field, model.fieldErrors);
    return message ? [{ field, message }] : [];
  });
  const hasErrors = Boolean(model.globalError) || fieldMessages.length > 0;
  // Always present so checkout.js can fill it; role="alert" makes a server-side error heard on load.
  return html`<div
    class="alert"
    id="error-summary"
    role="alert"
    tabindex="-1"
    data-error-summary
    ${hasErrors ? '' : html`hidden`}
  >
    ${renderIcon('alert', 'icon alert__icon')}
    <div class="alert__body" data-error-summary-body>
      ${model.globalError && html`<p class="alert__message">${text.globalErrors[model.globalError]}</p>`}
      ${model.globalError && model.globalErrorDetail && html`<p class="alert__message alert__detail">${model.globalErrorDetail}</p>`}
      ${
        fieldMessages.length > 0 &&
        html`<p class="alert__message">${text.errorSummary}</p>
          <ul class="alert__list">
            ${fieldMessages.map(
              ({ field, message }) =>
                html`<li>
                  <a href="#${FIELD_IDS[field]}${field === 'paymentMethod' ? '-0' : ''}">${message}</a>
                </li>`,
            )}
          </ul>`
      }
    </div>
  </div>`;
}

function renderSavedCard(
  card: SavedCardOption,
  index: number,
  checked: boolean,
  error: string | undefined,
  page: ResolvedPageLocale,
): SafeHtml {
  const brand = card.brand === 'unknown' ? page.text.methods.card.label : BRAND_NAMES[card.brand];
  const expiry = `${String(card.expMonth).padStart(2, '0')}/${String(card.expYear % 100).padStart(2, '0')}`;
  const last4 = /^\d{4}$/.test(card.last4) ? card.last4 : '';
  return html`<label class="method method--saved" for="${FIELD_IDS.paymentMethod}-${index}">
    <input
      class="method__input"
      type="radio"
      id="${FIELD_IDS.paymentMethod}-${index}"
      name="${CHECKOUT_FORM_FIELDS.paymentMethod}"
      value="${card.id}"
      ${checked ? html`checked` : ''}
      ${error ? html`aria-invalid="true"` : ''}
    />
    ${renderIcon('card', 'icon method__icon')}
    <span class="method__text">
      <span class="method__name">${brand} •••• ${last4}</span>
      <span class="method__description">${page.text.savedCard(expiry)}</span>
    </span>
  </label>`;
}

function renderMethods(
  model: CheckoutPageModel,
  page: ResolvedPageLocale,
  selected: PaymentMethodType | undefined,
  savedCards: readonly SavedCardOption[],
  selectedSavedCardId: string | undefined,
): SafeHtml {
  const { text } = page;
  const error = fieldErrorMessage(text, 'paymentMethod', model.fieldErrors);
  const errorId = `${FIELD_IDS.paymentMethod}-error`;
  const offset = savedCards.length;
  return html`<fieldset class="methods" ${error ? html`aria-describedby="${errorId}"` : ''}>
    <legend class="section-title">${text.paymentMethod}</legend>
    <p class="field__error" id="${errorId}" ${error ? '' : html`hidden`}>${error}</p>
    <div class="methods__list">
      ${savedCards.map((card, index) => renderSavedCard(card, index, card.id === selectedSavedCardId, error, page))}
      ${model.methods.map((method, position) => {
        const index = position + offset;
        const brands = method.type === 'card' ? (method.brands ?? []).filter((b) => b !== 'unknown') : [];
        return html`<label class="method" for="${FIELD_IDS.paymentMethod}-${index}">
          <input
            class="method__input"
            type="radio"
            id="${FIELD_IDS.paymentMethod}-${index}"
            name="${CHECKOUT_FORM_FIELDS.paymentMethod}"
            value="${method.type}"
            ${method.type === selected && selectedSavedCardId === undefined ? html`checked` : ''}
            ${error ? html`aria-invalid="true"` : ''}
          />
          ${renderIcon(method.type, 'icon method__icon')}
          <span class="method__text">
            <span class="method__name">${text.methods[method.type].label}</span>
            <span class="method__description">${text.methods[method.type].description}</span>
            ${
              brands.length > 0 &&
              html`<span class="method__brands"
                ><span class="visually-hidden">${text.acceptedCards}:</span>
                ${brands.map((brand) => renderBrandMark(brand))}</span
              >`
            }
          </span>
        </label>`;
      })}
    </div>
  </fieldset>`;
}

type InputSpec = {
  field: Exclude<CheckoutField, 'paymentMethod'>;
  label: string;
  autocomplete: string;
  numeric: boolean;
  value?: string | undefined;
  placeholder?: string;
  maxlength: number;
  hint?: string;
  /** The card number: a slot at the input's end where checkout.js shows the detected brand's mark. */
  brandSlot?: boolean;
  /** Client-side check messages, by code; checkout.js reads them from data-msg-* attributes. */
  messages: Record<string, string>;
};

function renderInput(spec: InputSpec, model: CheckoutPageModel, page: ResolvedPageLocale): SafeHtml {
  const id = FIELD_IDS[spec.field];
  const error = fieldErrorMessage(page.text, spec.field, model.fieldErrors);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [spec.hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ');
  return html`<div class="field${error ? ' field--invalid' : ''}">
    <label class="field__label" for="${id}">${spec.label}</label>
    <div class="field__control">
      <input
        class="field__input${spec.brandSlot ? ' field__input--brand' : ''}"
        type="text"
        id="${id}"
        name="${CHECKOUT_FORM_FIELDS[spec.field]}"
        autocomplete="${spec.autocomplete}"
        ${spec.numeric ? html`inputmode="numeric"` : ''}
        autocapitalize="${spec.field === 'cardName' ? 'words' : 'off'}"
        spellcheck="false"
        maxlength="${spec.maxlength}"
        aria-required="true"
        ${spec.placeholder ? html`placeholder="${spec.placeholder}"` : ''}
        ${spec.value !== undefined ? html`value="${spec.value}"` : ''}
        ${error ? html`aria-invalid="true"` : ''}
        ${describedBy ? html`aria-describedby="${describedBy}"` : ''}
        data-field="${spec.field}"
        ${spec.brandSlot ? html`data-brand-ranges="${BRAND_RANGES_ATTRIBUTE}"` : ''}
        ${Object.entries(spec.messages).map(([code, message]) => html` data-msg-${code.replaceAll('_', '-')}="${message}"`)}
      />
      ${spec.brandSlot && html`<span class="field__brand" data-brand-slot aria-hidden="true"></span>`}
    </div>
    ${spec.hint && html`<p class="field__hint" id="${hintId}">${spec.hint}</p>`}
    <p class="field__error" id="${errorId}" ${error ? '' : html`hidden`}>${error}</p>
  </div>`;
}

function renderCardFields(model: CheckoutPageModel, page: ResolvedPageLocale): SafeHtml {
  const { text } = page;
  const errors = text.fieldErrors;
  return html`<fieldset class="card-fields" id="card-fields" data-method-panel="card">
    <legend class="section-title">${text.cardDetails}</legend>
    <div class="card-fields__body">
      ${renderInput(
        {
          field: 'cardName',
          label: text.cardName,
          autocomplete: 'cc-name',
          numeric: false,
          value: echoableName(model.values?.cardName),
          maxlength: 100,
          messages: { required: errors.cardName.required },
        },
        model,
        page,
      )}
      ${renderInput(
        {
          field: 'cardNumber',
          label: text.cardNumber,
          autocomplete: 'cc-number',
          numeric: true,
          placeholder: '1234 1234 1234 1234',
          maxlength: 23,
          brandSlot: true,
          messages: { required: errors.cardNumber.required, invalid: errors.cardNumber.invalid },
        },
        model,
        page,
      )}
      <div class="field-row">
        ${renderInput(
          {
            field: 'cardExpiry',
            label: text.cardExpiry,
            autocomplete: 'cc-exp',
            numeric: true,
            value: echoableExpiry(model.values?.cardExpiry),
            placeholder: text.expiryPlaceholder,
            maxlength: 9,
            messages: {
              required: errors.cardExpiry.required,
              invalid_format: errors.cardExpiry.invalid_format,
              invalid_month: errors.cardExpiry.invalid_month,
              invalid_year: errors.cardExpiry.invalid_year,
              expired: errors.cardExpiry.expired,
            },
          },
          model,
          page,
        )}
        ${renderInput(
          {
            field: 'cardCvc',
            label: text.cardCvc,
            autocomplete: 'cc-csc',
            numeric: true,
            placeholder: '123',
            maxlength: 4,
            hint: text.cardCvcHint,
            messages: { required: errors.cardCvc.required, invalid: errors.cardCvc.invalid },
          },
          model,
          page,
        )}
      </div>
      ${
        model.offerSaveCard &&
        html`<label class="checkbox" for="save-card">
          <input
            class="checkbox__input"
            type="checkbox"
            id="save-card"
            name="${CHECKOUT_FORM_FIELDS.saveCard}"
            value="yes"
            ${model.values?.saveCard ? html`checked` : ''}
          />
          <span class="checkbox__label">${text.saveCard}</span>
        </label>`
      }
    </div>
  </fieldset>`;
}

function renderPaymentForm(model: CheckoutPageModel, page: ResolvedPageLocale): SafeHtml {
  const { text } = page;
  const first = model.methods[0];
  if (!first) {
    return html`<p class="notice">${text.noMethods}</p>`;
  }
  const hasCard = model.methods.some((m) => m.type === 'card');
  const savedCards = hasCard ? (model.savedCards ?? []) : [];
  // One radio is checked: the requested saved card or method, else the first saved card, else the first method.
  const requestedCard = savedCards.find((card) => card.id === model.selectedSavedCardId);
  const requestedMethod = model.methods.find((m) => m.type === model.selectedMethod);
  const selectedSavedCardId = requestedCard?.id ?? (requestedMethod ? undefined : savedCards[0]?.id);
  const selected = requestedMethod?.type ?? first.type;
  const selectedType = selectedSavedCardId !== undefined ? 'card' : selected;
  const total = page.money(model.order.total, model.order.currency);
  // One label per offered method; the stylesheet shows the one for the checked radio (no script needed).
  const payLabelTypes = [...new Set<PaymentMethodType>(['card', ...model.methods.map((m) => m.type)])].filter(
    (type) => (type === 'card' ? hasCard || savedCards.length > 0 : true),
  );
  return html`<form
    class="pay-form"
    method="post"
    action="${model.payAction}"
    data-checkout-form
    data-submit-once
    data-msg-summary="${text.errorSummary}"
  >
    ${renderCsrfField(model.csrfToken)} ${renderAlert(model, page)}
    <div class="visually-hidden" aria-live="assertive" aria-atomic="true" data-live-region></div>
    ${renderMethods(model, page, selected, savedCards, selectedSavedCardId)}
    ${hasCard && renderCardFields(model, page)}
    <button
      class="button button--primary button--pay"
      type="submit"
      data-processing-label="${text.processing}"
    >
      ${renderIcon('lock', 'icon icon--small')}<span data-button-label
        >${payLabelTypes.map(
          (type) =>
            html`<span
              class="pay-label pay-label--${type}${type === selectedType ? ' pay-label--initial' : ''}"
              >${text.payButton(type, total)}</span
            >`,
        )}</span
      >
    </button>
  </form>`;
}

export function renderCheckoutPage(model: CheckoutPageModel): string {
  const page = pageLocaleOf(model);
  const body = html`<div class="shell shell--checkout">
    <main class="checkout">
      ${renderSummary(model, page)}
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
 * reload, the back button, a second tab) is not rendered again. The result is exactly what
 * `renderCheckoutPage({ ...content, nonce, csrfToken })` returns. A page that echoes what the shopper typed
 * (`values`) is always rendered directly: what a shopper types, even into the wrong field, is never kept
 * beyond its request (a card number typed as the name must not sit in a cache key).
 */
export function renderCheckoutPageWith(content: CheckoutPageContent, secrets: ResponseSecrets): string {
  if (content.values !== undefined) return renderCheckoutPage({ ...content, ...secrets });
  return cachedCheckoutPage(content, secrets);
}
