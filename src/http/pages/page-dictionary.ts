import { IntlMessageFormat } from 'intl-messageformat';
import type { CardExpiryProblem } from '../../lib/card.ts';
import { da } from './locales/da.ts';
import { de } from './locales/de.ts';
import { en, type MessageKey, type Messages } from './locales/en.ts';
import { esES } from './locales/es-ES.ts';
import { es419 } from './locales/es-419.ts';
import { fi } from './locales/fi.ts';
import { fr } from './locales/fr.ts';
import { it } from './locales/it.ts';
import { nb } from './locales/nb.ts';
import { nl } from './locales/nl.ts';
import { pl } from './locales/pl.ts';
import { ptBR } from './locales/pt-BR.ts';
import { sv } from './locales/sv.ts';

/**
 * The hosted pages' words: each language is an ICU MessageFormat catalogue in `locales/` (formatted with
 * intl-messageformat, so plurals and selects follow the language's rules); English is the reference and every
 * catalogue has exactly its keys and placeholders (a missing key is a type error, a wrong placeholder fails
 * test/unit/pages/page-messages.test.ts). Wording sources per language: docs/languages.md. This file turns a
 * catalogue into the typed `PageDictionary` the pages render with; which language a page speaks is
 * `page-locale.ts`.
 */

/** The page languages by their BCP 47 tag (what `<html lang>` says). */
export const PAGE_LOCALES = [
  'en',
  'es-419',
  'da',
  'de',
  'fr',
  'nl',
  'sv',
  'nb',
  'fi',
  'it',
  'es-ES',
  'pt-BR',
  'pl',
] as const;
export type PageLocale = (typeof PAGE_LOCALES)[number];

export const CATALOGUES: Record<PageLocale, Messages> = {
  en,
  'es-419': es419,
  da,
  de,
  fr,
  nl,
  sv,
  nb,
  fi,
  it,
  'es-ES': esES,
  'pt-BR': ptBR,
  pl,
};

export type PaymentMethodType = 'card' | 'invoice' | 'wallet';

/** Outcomes the payment page explains above the form after a failed attempt. */
export type CheckoutGlobalError =
  | 'declined'
  | 'insufficient_funds'
  | 'authentication_failed'
  | 'wallet_declined'
  | 'processor_error'
  | 'payment_in_progress'
  | 'form_expired'
  | 'order_changed'
  | 'too_many_attempts'
  | 'verification_refused';

/**
 * `processing`: an answer from the processor is awaited (the page refreshes itself); `not_found`: no page at
 * this address; `invalid_checkout` / `invalid_payment_link`: a checkout URL or payment link that is unknown or
 * was tampered with. The last three are shown without any merchant's branding.
 */
export type StatusPageKind =
  | 'expired'
  | 'canceled'
  | 'completed'
  | 'pending'
  | 'processing'
  | 'not_found'
  | 'invalid_checkout'
  | 'invalid_payment_link';

export type PaymentLinkPageKind = 'expired' | 'used' | 'deactivated' | 'busy';

type TitleBody = { title: string; body: string };

export type PageDictionary = {
  payTo: (merchant: string) => string;
  testMode: string;
  orderSummary: string;
  /** The collapsed summary's toggle: "Order summary (3 items)". */
  orderSummaryToggle: (count: number) => string;
  orderReference: (merchantOrderId: string) => string;
  quantityTimesPrice: (quantity: string, unitPrice: string) => string;
  subtotal: string;
  discount: string;
  tax: string;
  shipping: string;
  total: string;
  totalDue: string;
  paymentMethod: string;
  methods: Record<PaymentMethodType, { label: string; description: string }>;
  acceptedCards: string;
  cardDetails: string;
  cardName: string;
  cardNumber: string;
  cardExpiry: string;
  cardCvc: string;
  cardCvcHint: string;
  /** The checkbox under the card form when the merchant allows saving cards. */
  saveCard: string;
  /** Second line of a saved card's radio option; `expiry` is MM/YY. */
  savedCard: (expiry: string) => string;
  expiryPlaceholder: string;
  /** The submit button: what happens with the chosen method ("Pay €9.90", "Place order, pay … by invoice"). */
  payButton: (method: PaymentMethodType, amount: string) => string;
  processing: string;
  cancel: string;
  errorSummary: string;
  noMethods: string;
  securedBy: string;
  fieldErrors: {
    paymentMethod: Record<'required' | 'unavailable', string>;
    cardName: Record<'required' | 'too_long', string>;
    cardNumber: Record<'required' | 'invalid' | 'unsupported_brand', string>;
    cardExpiry: Record<'required' | CardExpiryProblem, string>;
    cardCvc: Record<'required' | 'invalid', string>;
  };
  globalErrors: Record<CheckoutGlobalError, string>;
  challenge: Record<
    'bank' | 'heading' | 'intro' | 'merchant' | 'amount' | 'card' | 'complete' | 'fail' | 'notice',
    string
  >;
  wallet: Record<'name' | 'heading' | 'merchant' | 'amount' | 'approve' | 'decline' | 'notice', string> & {
    intro: (merchant: string) => string;
  };
  status: Record<StatusPageKind, TitleBody>;
  link: Record<PaymentLinkPageKind, TitleBody>;
  errorPage: {
    title: string;
    body: (merchant: string) => string;
    /** The merchant could not be reached but the money was taken: say so. */
    paidTitle: string;
    paidBody: (merchant: string) => string;
  };
  orderNumber: string;
  paymentId: string;
  amount: string;
  returnToStore: string;
};

type Values = Record<string, string | number>;

/** A catalogue's messages, compiled on first use. */
function messageFormatter(messages: Messages, tag: string) {
  const compiled = new Map<MessageKey, IntlMessageFormat>();
  return (key: MessageKey, values?: Values): string => {
    let format = compiled.get(key);
    if (!format) {
      format = new IntlMessageFormat(messages[key], tag, undefined, { ignoreTag: true });
      compiled.set(key, format);
    }
    return String(format.format(values));
  };
}

function buildDictionary(tag: PageLocale): PageDictionary {
  const t = messageFormatter(CATALOGUES[tag], tag);
  const titleBody = (prefix: string): TitleBody => ({
    title: t(`${prefix}.title` as MessageKey),
    body: t(`${prefix}.body` as MessageKey),
  });
  const statusKinds: StatusPageKind[] = [
    'expired',
    'canceled',
    'completed',
    'pending',
    'processing',
    'not_found',
    'invalid_checkout',
    'invalid_payment_link',
  ];
  const linkKinds: PaymentLinkPageKind[] = ['expired', 'used', 'deactivated', 'busy'];
  const method = (type: PaymentMethodType) => ({
    label: t(`methods.${type}.label`),
    description: t(`methods.${type}.description`),
  });
  return {
    payTo: (merchant) => t('payTo', { merchant }),
    testMode: t('testMode'),
    orderSummary: t('orderSummary'),
    orderSummaryToggle: (count) => t('orderSummaryToggle', { count }),
    orderReference: (id) => t('orderReference', { id }),
    quantityTimesPrice: (quantity, unitPrice) => t('quantityTimesPrice', { quantity, unitPrice }),
    subtotal: t('subtotal'),
    discount: t('discount'),
    tax: t('tax'),
    shipping: t('shipping'),
    total: t('total'),
    totalDue: t('totalDue'),
    paymentMethod: t('paymentMethod'),
    methods: { card: method('card'), invoice: method('invoice'), wallet: method('wallet') },
    acceptedCards: t('acceptedCards'),
    cardDetails: t('cardDetails'),
    cardName: t('cardName'),
    cardNumber: t('cardNumber'),
    cardExpiry: t('cardExpiry'),
    cardCvc: t('cardCvc'),
    cardCvcHint: t('cardCvcHint'),
    saveCard: t('saveCard'),
    savedCard: (expiry) => t('savedCard', { expiry }),
    expiryPlaceholder: t('expiryPlaceholder'),
    payButton: (paymentMethod, amount) => t('payButton', { method: paymentMethod, amount }),
    processing: t('processing'),
    cancel: t('cancel'),
    errorSummary: t('errorSummary'),
    noMethods: t('noMethods'),
    securedBy: t('securedBy'),
    fieldErrors: {
      paymentMethod: {
        required: t('fieldErrors.paymentMethod.required'),
        unavailable: t('fieldErrors.paymentMethod.unavailable'),
      },
      cardName: {
        required: t('fieldErrors.cardName.required'),
        too_long: t('fieldErrors.cardName.too_long'),
      },
      cardNumber: {
        required: t('fieldErrors.cardNumber.required'),
        invalid: t('fieldErrors.cardNumber.invalid'),
        unsupported_brand: t('fieldErrors.cardNumber.unsupported_brand'),
      },
      cardExpiry: {
        required: t('fieldErrors.cardExpiry.required'),
        invalid_format: t('fieldErrors.cardExpiry.invalid_format'),
        invalid_month: t('fieldErrors.cardExpiry.invalid_month'),
        invalid_year: t('fieldErrors.cardExpiry.invalid_year'),
        expired: t('fieldErrors.cardExpiry.expired'),
      },
      cardCvc: {
        required: t('fieldErrors.cardCvc.required'),
        invalid: t('fieldErrors.cardCvc.invalid'),
      },
    },
    globalErrors: {
      declined: t('globalErrors.declined'),
      insufficient_funds: t('globalErrors.insufficient_funds'),
      authentication_failed: t('globalErrors.authentication_failed'),
      wallet_declined: t('globalErrors.wallet_declined'),
      processor_error: t('globalErrors.processor_error'),
      payment_in_progress: t('globalErrors.payment_in_progress'),
      form_expired: t('globalErrors.form_expired'),
      order_changed: t('globalErrors.order_changed'),
      too_many_attempts: t('globalErrors.too_many_attempts'),
      verification_refused: t('globalErrors.verification_refused'),
    },
    challenge: {
      bank: t('challenge.bank'),
      heading: t('challenge.heading'),
      intro: t('challenge.intro'),
      merchant: t('challenge.merchant'),
      amount: t('challenge.amount'),
      card: t('challenge.card'),
      complete: t('challenge.complete'),
      fail: t('challenge.fail'),
      notice: t('challenge.notice'),
    },
    wallet: {
      name: t('wallet.name'),
      heading: t('wallet.heading'),
      intro: (merchant) => t('wallet.intro', { merchant }),
      merchant: t('wallet.merchant'),
      amount: t('wallet.amount'),
      approve: t('wallet.approve'),
      decline: t('wallet.decline'),
      notice: t('wallet.notice'),
    },
    status: Object.fromEntries(statusKinds.map((kind) => [kind, titleBody(`status.${kind}`)])) as Record<
      StatusPageKind,
      TitleBody
    >,
    link: Object.fromEntries(linkKinds.map((kind) => [kind, titleBody(`link.${kind}`)])) as Record<
      PaymentLinkPageKind,
      TitleBody
    >,
    errorPage: {
      title: t('errorPage.title'),
      body: (merchant) => t('errorPage.body', { merchant }),
      paidTitle: t('errorPage.paidTitle'),
      paidBody: (merchant) => t('errorPage.paidBody', { merchant }),
    },
    orderNumber: t('orderNumber'),
    paymentId: t('paymentId'),
    amount: t('amount'),
    returnToStore: t('returnToStore'),
  };
}

const dictionaries = new Map<PageLocale, PageDictionary>();

/** The page texts of one language (built once per process). */
export function pageDictionary(locale: PageLocale): PageDictionary {
  let dictionary = dictionaries.get(locale);
  if (!dictionary) {
    dictionary = buildDictionary(locale);
    dictionaries.set(locale, dictionary);
  }
  return dictionary;
}
