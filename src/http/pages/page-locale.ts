import type { CardExpiryProblem } from '../../lib/card.ts';

/**
 * The hosted pages' languages: one typed dictionary per locale, so a missing translation is a type error.
 *
 * A checkout stores `EN`, `ES_LATAM`, `DA` or a BCP 47 tag; `resolvePageLocale` maps either onto a dictionary,
 * the `lang` attribute of the page, and the locale `Intl` formats money and quantities with. A tag keeps its
 * own region for formatting (`es-MX` → Mexican number formats) while the words come from the dictionary.
 */

export const PAGE_LOCALES = ['EN', 'ES_LATAM', 'DA'] as const;
export type PageLocale = (typeof PAGE_LOCALES)[number];

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
  | 'verification_refused'
  | 'order_changed'
  | 'too_many_attempts';

/**
 * `processing`: an answer from the processor is awaited (the page refreshes itself); `not_found`: an unknown
 * or tampered payment link, shown without any merchant's branding.
 */
export type StatusPageKind = 'expired' | 'canceled' | 'completed' | 'pending' | 'processing' | 'not_found';

export type PageDictionary = {
  payTo: (merchant: string) => string;
  testMode: string;
  orderSummary: string;
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
  pay: (amount: string) => string;
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
  challenge: {
    bank: string;
    heading: string;
    intro: string;
    merchant: string;
    amount: string;
    card: string;
    complete: string;
    fail: string;
    notice: string;
  };
  wallet: {
    name: string;
    heading: string;
    intro: (merchant: string) => string;
    merchant: string;
    amount: string;
    approve: string;
    decline: string;
    notice: string;
  };
  status: Record<StatusPageKind, { title: string; body: string }>;
  errorPage: { title: string; body: (merchant: string) => string };
  orderNumber: string;
  paymentId: string;
  amount: string;
  returnToStore: string;
};

export const EN: PageDictionary = {
  payTo: (merchant) => `Pay ${merchant}`,
  testMode: 'Test mode',
  orderSummary: 'Order summary',
  orderReference: (id) => `Order ${id}`,
  quantityTimesPrice: (quantity, unitPrice) => `${quantity} × ${unitPrice}`,
  subtotal: 'Subtotal',
  discount: 'Discount',
  tax: 'Tax',
  shipping: 'Shipping',
  total: 'Total',
  totalDue: 'Total due',
  paymentMethod: 'Payment method',
  methods: {
    card: { label: 'Card', description: 'Pay with a credit or debit card.' },
    invoice: { label: 'Invoice', description: 'Pay later. You will receive an invoice.' },
    wallet: { label: 'Wallet', description: 'Approve the payment in your wallet app.' },
  },
  acceptedCards: 'Accepted cards',
  cardDetails: 'Card details',
  cardName: 'Name on card',
  cardNumber: 'Card number',
  cardExpiry: 'Expiry (MM/YY)',
  cardCvc: 'CVC',
  cardCvcHint: '3 digits on the back, or 4 on the front of American Express.',
  saveCard: 'Save this card for my next purchase',
  savedCard: (expiry) => `Saved card, expires ${expiry}`,
  expiryPlaceholder: 'MM/YY',
  pay: (amount) => `Pay ${amount}`,
  processing: 'Processing…',
  cancel: 'Cancel and return to the store',
  errorSummary: 'Please check the highlighted fields.',
  noMethods:
    'No payment method is available for this order. Return to the store to choose another way to pay.',
  securedBy: 'Secure payment by Kassa',
  fieldErrors: {
    paymentMethod: {
      required: 'Choose a payment method.',
      unavailable: 'This payment method is not available for this order.',
    },
    cardName: { required: 'Enter the name shown on the card.', too_long: 'The name is too long.' },
    cardNumber: {
      required: 'Enter the card number.',
      invalid: 'The card number is not valid.',
      unsupported_brand: 'This type of card is not accepted.',
    },
    cardExpiry: {
      required: 'Enter the expiry date.',
      invalid_format: 'Enter the expiry date as MM/YY.',
      invalid_month: 'The month must be between 01 and 12.',
      invalid_year: 'The expiry year is not valid.',
      expired: 'This card has expired.',
    },
    cardCvc: { required: 'Enter the security code (CVC).', invalid: 'The security code is not valid.' },
  },
  globalErrors: {
    declined: 'Your card was declined. Try again or choose another method.',
    insufficient_funds: 'Your card has insufficient funds. Try another card or choose another method.',
    authentication_failed: 'Your card could not be authenticated. Try again or choose another method.',
    wallet_declined: 'The wallet payment was declined. Try again or choose another method.',
    processor_error: 'The payment could not be processed and no money was taken. Please try again shortly.',
    payment_in_progress:
      'A payment for this order is already in progress. Wait a moment, then reload the page.',
    form_expired: 'This form has expired. Check your details and try again.',
    order_changed:
      'The store updated this order after the page was loaded. Nothing was charged: check the new total and pay again.',
    too_many_attempts: 'Too many declined payment attempts. Nothing was charged. Try again later.',
    verification_refused:
      'The store could not confirm this order and no money was taken. Return to the store.',
  },
  challenge: {
    bank: 'Sandbox Bank',
    heading: 'Confirm your payment',
    intro: 'Your bank asks you to confirm this purchase.',
    merchant: 'Merchant',
    amount: 'Amount',
    card: 'Card',
    complete: 'Complete authentication',
    fail: 'Fail authentication',
    notice: 'Simulated 3-D Secure check. No real bank is contacted.',
  },
  wallet: {
    name: 'Sandbox Wallet',
    heading: 'Approve this payment?',
    intro: (merchant) => `${merchant} requests a payment from your wallet.`,
    merchant: 'Merchant',
    amount: 'Amount',
    approve: 'Approve',
    decline: 'Decline',
    notice: 'Simulated wallet. No real money moves.',
  },
  status: {
    expired: {
      title: 'This checkout has expired',
      body: 'The time to pay for this order has run out and no payment was made. Return to the store to start again.',
    },
    canceled: { title: 'Payment canceled', body: 'You canceled this payment. No money was taken.' },
    completed: {
      title: 'This order is paid',
      body: 'Thank you! The payment was received. There is nothing more to do here.',
    },
    processing: {
      title: 'Confirming your payment',
      body: 'Your payment is being confirmed. This page updates by itself in a moment. Please do not pay again.',
    },
    not_found: {
      title: 'Payment page not found',
      body: 'This payment link is not valid. Check the link, or return to the store to start again.',
    },
    pending: {
      title: 'We are waiting for confirmation',
      body: 'Your order is placed and the payment is being confirmed. The store will let you know as soon as it is final. You can close this page.',
    },
  },
  errorPage: {
    title: 'We could not finish your order',
    body: (merchant) =>
      `Something went wrong while confirming your order with ${merchant}. Keep the details below and contact the store before you pay again.`,
  },
  orderNumber: 'Order number',
  paymentId: 'Payment ID',
  amount: 'Amount',
  returnToStore: 'Return to the store',
};

export const ES_LATAM: PageDictionary = {
  payTo: (merchant) => `Pagar a ${merchant}`,
  testMode: 'Modo de prueba',
  orderSummary: 'Resumen del pedido',
  orderReference: (id) => `Pedido ${id}`,
  quantityTimesPrice: (quantity, unitPrice) => `${quantity} × ${unitPrice}`,
  subtotal: 'Subtotal',
  discount: 'Descuento',
  tax: 'Impuestos',
  shipping: 'Envío',
  total: 'Total',
  totalDue: 'Total a pagar',
  paymentMethod: 'Método de pago',
  methods: {
    card: { label: 'Tarjeta', description: 'Paga con tarjeta de crédito o débito.' },
    invoice: { label: 'Factura', description: 'Paga después. Recibirás una factura.' },
    wallet: { label: 'Billetera digital', description: 'Aprueba el pago en tu billetera digital.' },
  },
  acceptedCards: 'Tarjetas aceptadas',
  cardDetails: 'Datos de la tarjeta',
  cardName: 'Nombre en la tarjeta',
  cardNumber: 'Número de tarjeta',
  cardExpiry: 'Vencimiento (MM/AA)',
  cardCvc: 'CVC',
  cardCvcHint: '3 dígitos al reverso, o 4 al frente en American Express.',
  saveCard: 'Guardar esta tarjeta para mi próxima compra',
  savedCard: (expiry) => `Tarjeta guardada, vence ${expiry}`,
  expiryPlaceholder: 'MM/AA',
  pay: (amount) => `Pagar ${amount}`,
  processing: 'Procesando…',
  cancel: 'Cancelar y volver a la tienda',
  errorSummary: 'Revisa los campos marcados.',
  noMethods:
    'No hay ningún método de pago disponible para este pedido. Vuelve a la tienda para elegir otra forma de pago.',
  securedBy: 'Pago seguro con Kassa',
  fieldErrors: {
    paymentMethod: {
      required: 'Elige un método de pago.',
      unavailable: 'Este método de pago no está disponible para este pedido.',
    },
    cardName: {
      required: 'Ingresa el nombre que aparece en la tarjeta.',
      too_long: 'El nombre es demasiado largo.',
    },
    cardNumber: {
      required: 'Ingresa el número de tarjeta.',
      invalid: 'El número de tarjeta no es válido.',
      unsupported_brand: 'No se acepta este tipo de tarjeta.',
    },
    cardExpiry: {
      required: 'Ingresa la fecha de vencimiento.',
      invalid_format: 'Ingresa la fecha como MM/AA.',
      invalid_month: 'El mes debe estar entre 01 y 12.',
      invalid_year: 'El año de vencimiento no es válido.',
      expired: 'Esta tarjeta está vencida.',
    },
    cardCvc: {
      required: 'Ingresa el código de seguridad (CVC).',
      invalid: 'El código de seguridad no es válido.',
    },
  },
  globalErrors: {
    declined: 'Tu tarjeta fue rechazada. Inténtalo de nuevo o elige otro método.',
    insufficient_funds:
      'Tu tarjeta no tiene fondos suficientes. Prueba con otra tarjeta o elige otro método.',
    authentication_failed: 'No se pudo verificar tu tarjeta. Inténtalo de nuevo o elige otro método.',
    wallet_declined: 'El pago con billetera fue rechazado. Inténtalo de nuevo o elige otro método.',
    processor_error:
      'No pudimos procesar el pago y no se hizo ningún cargo. Inténtalo de nuevo en unos momentos.',
    payment_in_progress:
      'Ya hay un pago en curso para este pedido. Espera un momento y vuelve a cargar la página.',
    form_expired: 'El formulario expiró. Revisa tus datos e inténtalo de nuevo.',
    order_changed:
      'La tienda actualizó este pedido después de cargar la página. No se hizo ningún cargo: revisa el nuevo total y vuelve a pagar.',
    too_many_attempts:
      'Demasiados intentos de pago rechazados. No se hizo ningún cargo. Inténtalo más tarde.',
    verification_refused:
      'La tienda no pudo confirmar este pedido y no se hizo ningún cargo. Vuelve a la tienda.',
  },
  challenge: {
    bank: 'Banco Sandbox',
    heading: 'Confirma tu pago',
    intro: 'Tu banco te pide confirmar esta compra.',
    merchant: 'Comercio',
    amount: 'Monto',
    card: 'Tarjeta',
    complete: 'Completar autenticación',
    fail: 'Hacer fallar la autenticación',
    notice: 'Verificación 3-D Secure simulada. No se contacta a ningún banco real.',
  },
  wallet: {
    name: 'Billetera Sandbox',
    heading: '¿Aprobar este pago?',
    intro: (merchant) => `${merchant} solicita un pago desde tu billetera.`,
    merchant: 'Comercio',
    amount: 'Monto',
    approve: 'Aprobar',
    decline: 'Rechazar',
    notice: 'Billetera simulada. No se mueve dinero real.',
  },
  status: {
    expired: {
      title: 'Esta sesión de pago expiró',
      body: 'Se acabó el tiempo para pagar este pedido y no se hizo ningún cargo. Vuelve a la tienda para empezar de nuevo.',
    },
    canceled: { title: 'Pago cancelado', body: 'Cancelaste este pago. No se hizo ningún cargo.' },
    completed: {
      title: 'Este pedido está pagado',
      body: '¡Gracias! Recibimos el pago. No tienes que hacer nada más aquí.',
    },
    processing: {
      title: 'Confirmando tu pago',
      body: 'Estamos confirmando tu pago. Esta página se actualizará sola en un momento. No vuelvas a pagar.',
    },
    not_found: {
      title: 'No encontramos esta página de pago',
      body: 'Este enlace de pago no es válido. Revisa el enlace o vuelve a la tienda para empezar de nuevo.',
    },
    pending: {
      title: 'Estamos esperando la confirmación',
      body: 'Registramos tu pedido y estamos confirmando el pago. La tienda te avisará en cuanto sea definitivo. Puedes cerrar esta página.',
    },
  },
  errorPage: {
    title: 'No pudimos finalizar tu pedido',
    body: (merchant) =>
      `Algo salió mal al confirmar tu pedido con ${merchant}. Guarda estos datos y comunícate con la tienda antes de volver a pagar.`,
  },
  orderNumber: 'Número de pedido',
  paymentId: 'ID de pago',
  amount: 'Monto',
  returnToStore: 'Volver a la tienda',
};

export const DA: PageDictionary = {
  payTo: (merchant) => `Betal til ${merchant}`,
  testMode: 'Testtilstand',
  orderSummary: 'Ordreoversigt',
  orderReference: (id) => `Ordre ${id}`,
  quantityTimesPrice: (quantity, unitPrice) => `${quantity} × ${unitPrice}`,
  subtotal: 'Subtotal',
  discount: 'Rabat',
  tax: 'Moms',
  shipping: 'Fragt',
  total: 'I alt',
  totalDue: 'At betale',
  paymentMethod: 'Betalingsmetode',
  methods: {
    card: { label: 'Kort', description: 'Betal med betalings- eller kreditkort.' },
    invoice: { label: 'Faktura', description: 'Betal senere. Du får tilsendt en faktura.' },
    wallet: { label: 'Wallet', description: 'Godkend betalingen i din wallet-app.' },
  },
  acceptedCards: 'Kort, vi modtager',
  cardDetails: 'Kortoplysninger',
  cardName: 'Navn på kortet',
  cardNumber: 'Kortnummer',
  cardExpiry: 'Udløbsdato (MM/ÅÅ)',
  cardCvc: 'CVC',
  cardCvcHint: '3 cifre på bagsiden, eller 4 på forsiden af American Express.',
  saveCard: 'Gem kortet til mit næste køb',
  savedCard: (expiry) => `Gemt kort, udløber ${expiry}`,
  expiryPlaceholder: 'MM/ÅÅ',
  pay: (amount) => `Betal ${amount}`,
  processing: 'Behandler…',
  cancel: 'Annuller og vend tilbage til butikken',
  errorSummary: 'Tjek de markerede felter.',
  noMethods:
    'Der er ingen betalingsmetode til rådighed for denne ordre. Gå tilbage til butikken for at vælge en anden måde at betale på.',
  securedBy: 'Sikker betaling med Kassa',
  fieldErrors: {
    paymentMethod: {
      required: 'Vælg en betalingsmetode.',
      unavailable: 'Denne betalingsmetode kan ikke bruges til denne ordre.',
    },
    cardName: { required: 'Skriv navnet, som det står på kortet.', too_long: 'Navnet er for langt.' },
    cardNumber: {
      required: 'Skriv kortnummeret.',
      invalid: 'Kortnummeret er ikke gyldigt.',
      unsupported_brand: 'Denne korttype modtages ikke.',
    },
    cardExpiry: {
      required: 'Skriv udløbsdatoen.',
      invalid_format: 'Skriv udløbsdatoen som MM/ÅÅ.',
      invalid_month: 'Måneden skal være mellem 01 og 12.',
      invalid_year: 'Udløbsåret er ikke gyldigt.',
      expired: 'Kortet er udløbet.',
    },
    cardCvc: { required: 'Skriv kontrolcifrene (CVC).', invalid: 'Kontrolcifrene er ikke gyldige.' },
  },
  globalErrors: {
    declined: 'Dit kort blev afvist. Prøv igen, eller vælg en anden betalingsmetode.',
    insufficient_funds:
      'Der er ikke dækning på kortet. Prøv et andet kort, eller vælg en anden betalingsmetode.',
    authentication_failed: 'Kortet kunne ikke godkendes. Prøv igen, eller vælg en anden betalingsmetode.',
    wallet_declined: 'Betalingen med wallet blev afvist. Prøv igen, eller vælg en anden betalingsmetode.',
    processor_error: 'Betalingen kunne ikke gennemføres, og der er ikke trukket penge. Prøv igen om lidt.',
    payment_in_progress:
      'Der er allerede en betaling i gang for denne ordre. Vent et øjeblik, og genindlæs siden.',
    form_expired: 'Formularen er udløbet. Tjek dine oplysninger, og prøv igen.',
    order_changed:
      'Butikken har opdateret ordren, efter siden blev indlæst. Der er ikke trukket penge: tjek det nye beløb, og betal igen.',
    too_many_attempts: 'For mange afviste betalingsforsøg. Der er ikke trukket penge. Prøv igen senere.',
    verification_refused:
      'Butikken kunne ikke bekræfte ordren, og der er ikke trukket penge. Gå tilbage til butikken.',
  },
  challenge: {
    bank: 'Sandbox Bank',
    heading: 'Bekræft din betaling',
    intro: 'Din bank beder dig bekræfte dette køb.',
    merchant: 'Forretning',
    amount: 'Beløb',
    card: 'Kort',
    complete: 'Gennemfør godkendelse',
    fail: 'Lad godkendelsen fejle',
    notice: 'Simuleret 3-D Secure-kontrol. Ingen rigtig bank bliver kontaktet.',
  },
  wallet: {
    name: 'Sandbox Wallet',
    heading: 'Godkend betalingen?',
    intro: (merchant) => `${merchant} anmoder om en betaling fra din wallet.`,
    merchant: 'Forretning',
    amount: 'Beløb',
    approve: 'Godkend',
    decline: 'Afvis',
    notice: 'Simuleret wallet. Ingen rigtige penge flyttes.',
  },
  status: {
    expired: {
      title: 'Betalingssiden er udløbet',
      body: 'Tiden til at betale ordren er gået, og der er ikke trukket penge. Gå tilbage til butikken for at starte forfra.',
    },
    canceled: {
      title: 'Betalingen er annulleret',
      body: 'Du har annulleret betalingen. Der er ikke trukket penge.',
    },
    completed: {
      title: 'Ordren er betalt',
      body: 'Tak! Betalingen er modtaget. Du behøver ikke gøre mere her.',
    },
    processing: {
      title: 'Vi bekræfter din betaling',
      body: 'Din betaling bliver bekræftet. Siden opdaterer sig selv om et øjeblik. Betal venligst ikke igen.',
    },
    not_found: {
      title: 'Betalingssiden blev ikke fundet',
      body: 'Linket til betalingen er ikke gyldigt. Tjek linket, eller gå tilbage til butikken for at starte forfra.',
    },
    pending: {
      title: 'Vi venter på bekræftelse',
      body: 'Din ordre er afgivet, og betalingen bliver bekræftet. Butikken giver besked, så snart den er endelig. Du kan lukke siden.',
    },
  },
  errorPage: {
    title: 'Vi kunne ikke afslutte din ordre',
    body: (merchant) =>
      `Der opstod en fejl, da vi skulle bekræfte din ordre hos ${merchant}. Gem oplysningerne nedenfor, og kontakt butikken, før du betaler igen.`,
  },
  orderNumber: 'Ordrenummer',
  paymentId: 'Betalings-id',
  amount: 'Beløb',
  returnToStore: 'Tilbage til butikken',
};

const DICTIONARIES: Record<PageLocale, PageDictionary> = { EN, ES_LATAM, DA };
const HTML_LANG: Record<PageLocale, string> = { EN: 'en', ES_LATAM: 'es-419', DA: 'da' };
const DEFAULT_INTL_LOCALE: Record<PageLocale, string> = { EN: 'en-US', ES_LATAM: 'es-419', DA: 'da-DK' };
const LANGUAGE_TO_LOCALE: Record<string, PageLocale> = { en: 'EN', es: 'ES_LATAM', da: 'DA' };

export type ResolvedPageLocale = {
  locale: PageLocale;
  /** The page's `lang` attribute: the language the words are written in. */
  htmlLang: string;
  /** The locale `Intl` formats money and numbers with. */
  intlLocale: string;
  text: PageDictionary;
};

function resolved(locale: PageLocale, intlLocale = DEFAULT_INTL_LOCALE[locale]): ResolvedPageLocale {
  return { locale, htmlLang: HTML_LANG[locale], intlLocale, text: DICTIONARIES[locale] };
}

/**
 * `EN` / `ES_LATAM` / `DA`, or a BCP 47 tag (`es-MX`, `da-DK`, `en-US`) → dictionary and formatting locale.
 * Unknown or unsupported languages fall back to English formatted as en-US, never to an error: a shopper
 * must always get a page.
 */
export function resolvePageLocale(locale: string | undefined): ResolvedPageLocale {
  if (!locale) return resolved('EN');
  const upper = locale.toUpperCase().replace('-', '_');
  if ((PAGE_LOCALES as readonly string[]).includes(upper)) return resolved(upper as PageLocale);
  let tag: string;
  let language: string;
  try {
    tag = Intl.getCanonicalLocales(locale)[0] ?? '';
    language = new Intl.Locale(tag).language;
  } catch {
    return resolved('EN');
  }
  const pageLocale = LANGUAGE_TO_LOCALE[language];
  if (!pageLocale) return resolved('EN');
  const hasRegion = new Intl.Locale(tag).region !== undefined;
  const supported = Intl.NumberFormat.supportedLocalesOf([tag]).length > 0;
  return resolved(pageLocale, hasRegion && supported ? tag : undefined);
}
