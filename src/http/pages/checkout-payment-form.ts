import { CARD_BRAND_RANGES } from '../../lib/card.ts';
import { html, type SafeHtml } from '../../lib/html.ts';
import { BRAND_NAMES, renderBrandMark } from './card-brand-marks.ts';
import {
  CHECKOUT_FORM_FIELDS,
  type CheckoutField,
  type CheckoutFieldErrors,
  type CheckoutPageModel,
  type SavedCardOption,
} from './checkout-page.model.ts';
import { renderIcon } from './page-icons.ts';
import { renderCsrfField } from './page-layout.ts';
import type { PageDictionary, PaymentMethodType, ResolvedPageLocale } from './page-locale.ts';

/**
 * The payment page's form: the error summary, the saved cards and methods as radios, the card fields and the
 * Pay button. Works without JavaScript: every method's fields are visible and the server ignores card fields
 * for other methods; checkout.js only improves it.
 *
 * Invariant: the card number and CVC are never written into the page — the renderer reads only `cardName`
 * and `cardExpiry` of `values`, and drops even a name that looks like a card number.
 */

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

export function renderPaymentForm(model: CheckoutPageModel, page: ResolvedPageLocale): SafeHtml {
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
