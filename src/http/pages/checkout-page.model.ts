import type { CardBrand } from '../../lib/card.ts';
import { CSRF_FIELD, type MerchantBranding, type PageShellModel } from './page-layout.ts';
import type { CheckoutGlobalError, PageDictionary, PaymentMethodType } from './page-locale.ts';

/**
 * What the hosted payment page is rendered from (`checkout-page.ts`) and what its form sends back
 * (`http/hosted/checkout-form.ts` reads it).
 *
 * Invariant: the card number and CVC are never written into the page. `values` has no field for them.
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
