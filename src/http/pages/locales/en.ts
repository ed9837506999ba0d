/**
 * English: the reference catalogue. Every other language has exactly these keys with the same placeholders
 * (test/unit/page-messages.test.ts). Messages are ICU MessageFormat (intl-messageformat): `{name}` is a
 * placeholder, `{count, plural, …}` and `{method, select, …}` choose wording; a literal `'` is fine, but
 * `'{` would quote the brace.
 */
export const en = {
  payTo: 'Pay {merchant}',
  testMode: 'Test mode',
  orderSummary: 'Order summary',
  orderSummaryToggle: 'Order summary ({count, plural, one {# item} other {# items}})',
  orderReference: 'Order {id}',
  quantityTimesPrice: '{quantity} × {unitPrice}',
  subtotal: 'Subtotal',
  discount: 'Discount',
  tax: 'Tax',
  shipping: 'Shipping',
  total: 'Total',
  totalDue: 'Total due',
  paymentMethod: 'Payment method',
  'methods.card.label': 'Card',
  'methods.card.description': 'Pay with a credit or debit card.',
  'methods.invoice.label': 'Invoice',
  'methods.invoice.description': 'Pay later. You will receive an invoice.',
  'methods.wallet.label': 'Wallet',
  'methods.wallet.description': 'Approve the payment in your wallet app.',
  acceptedCards: 'Accepted cards',
  cardDetails: 'Card details',
  cardName: 'Name on card',
  cardNumber: 'Card number',
  cardExpiry: 'Expiry (MM/YY)',
  cardCvc: 'CVC',
  cardCvcHint: '3 digits on the back, or 4 on the front of American Express.',
  saveCard: 'Save this card for my next purchase',
  savedCard: 'Saved card, expires {expiry}',
  expiryPlaceholder: 'MM/YY',
  payButton:
    '{method, select, invoice {Place order, pay {amount} by invoice} wallet {Continue to wallet · {amount}} other {Pay {amount}}}',
  processing: 'Processing…',
  cancel: 'Cancel and return to the store',
  errorSummary: 'Please check the highlighted fields.',
  noMethods:
    'No payment method is available for this order. Return to the store to choose another way to pay.',
  securedBy: 'Secure payment by Kassa',
  'fieldErrors.paymentMethod.required': 'Choose a payment method.',
  'fieldErrors.paymentMethod.unavailable': 'This payment method is not available for this order.',
  'fieldErrors.cardName.required': 'Enter the name shown on the card.',
  'fieldErrors.cardName.too_long': 'The name is too long.',
  'fieldErrors.cardNumber.required': 'Enter the card number.',
  'fieldErrors.cardNumber.invalid': 'The card number is not valid.',
  'fieldErrors.cardNumber.unsupported_brand': 'This type of card is not accepted.',
  'fieldErrors.cardExpiry.required': 'Enter the expiry date.',
  'fieldErrors.cardExpiry.invalid_format': 'Enter the expiry date as MM/YY.',
  'fieldErrors.cardExpiry.invalid_month': 'The month must be between 01 and 12.',
  'fieldErrors.cardExpiry.invalid_year': 'The expiry year is not valid.',
  'fieldErrors.cardExpiry.expired': 'This card has expired.',
  'fieldErrors.cardCvc.required': 'Enter the security code (CVC).',
  'fieldErrors.cardCvc.invalid': 'The security code is not valid.',
  'globalErrors.declined': 'Your card was declined. Try again or choose another method.',
  'globalErrors.insufficient_funds':
    'Your card has insufficient funds. Try another card or choose another method.',
  'globalErrors.authentication_failed':
    'Your card could not be authenticated. Try again or choose another method.',
  'globalErrors.wallet_declined': 'The wallet payment was declined. Try again or choose another method.',
  'globalErrors.processor_error':
    'The payment could not be processed and no money was taken. Please try again shortly.',
  'globalErrors.payment_in_progress':
    'A payment for this order is already in progress. Wait a moment, then reload the page.',
  'globalErrors.form_expired': 'This form has expired. Check your details and try again.',
  'globalErrors.order_changed':
    'The store updated this order after the page was loaded. Nothing was charged: check the new total and pay again.',
  'globalErrors.too_many_attempts':
    'Too many declined payment attempts. Nothing was charged. Try again later.',
  'globalErrors.verification_refused':
    'The store could not confirm this order and no money was taken. Return to the store.',
  'challenge.bank': 'Sandbox Bank',
  'challenge.heading': 'Confirm your payment',
  'challenge.intro': 'Your bank asks you to confirm this purchase.',
  'challenge.merchant': 'Merchant',
  'challenge.amount': 'Amount',
  'challenge.card': 'Card',
  'challenge.complete': 'Complete authentication',
  'challenge.fail': 'Fail authentication',
  'challenge.notice': 'Simulated 3-D Secure check. No real bank is contacted.',
  'wallet.name': 'Sandbox Wallet',
  'wallet.heading': 'Approve this payment?',
  'wallet.intro': '{merchant} requests a payment from your wallet.',
  'wallet.merchant': 'Merchant',
  'wallet.amount': 'Amount',
  'wallet.approve': 'Approve',
  'wallet.decline': 'Decline',
  'wallet.notice': 'Simulated wallet. No real money moves.',
  'status.expired.title': 'This checkout has expired',
  'status.expired.body':
    'The time to pay for this order has run out and no payment was made. Return to the store to start again.',
  'status.canceled.title': 'Payment canceled',
  'status.canceled.body': 'You canceled this payment. No money was taken.',
  'status.completed.title': 'This order is paid',
  'status.completed.body': 'Thank you! The payment was received. There is nothing more to do here.',
  'status.processing.title': 'Confirming your payment',
  'status.processing.body':
    'Your payment is being confirmed. This page updates by itself in a moment. Please do not pay again.',
  'status.pending.title': 'We are waiting for confirmation',
  'status.pending.body':
    'Your order is placed and the payment is being confirmed. The store will let you know as soon as it is final. You can close this page.',
  'status.not_found.title': 'Page not found',
  'status.not_found.body': 'There is no page at this address. Check the address, or return to the store.',
  'status.invalid_checkout.title': 'This checkout link is not valid',
  'status.invalid_checkout.body':
    'The address of this checkout is incomplete or was changed. Open the checkout again from the store.',
  'status.invalid_payment_link.title': 'This payment link is not valid',
  'status.invalid_payment_link.body': 'Check the link you received, or ask the store for a new one.',
  'link.expired.title': 'This payment link has expired',
  'link.expired.body':
    'The time to pay with this link has run out and no payment was made. Ask the store for a new link.',
  'link.used.title': 'This payment link has already been used',
  'link.used.body':
    'The payment for this link was already made, so it cannot be paid again. Nothing more is needed.',
  'link.deactivated.title': 'This payment link is no longer active',
  'link.deactivated.body':
    'The store has switched this link off and no payment was made. Contact the store if you still want to pay.',
  'link.busy.title': 'A payment with this link is in progress',
  'link.busy.body': 'Someone is paying with this link right now. Wait a moment and open the link again.',
  'errorPage.title': 'We could not finish your order',
  'errorPage.body':
    'Something went wrong while confirming your order with {merchant}. Keep the details below and contact the store before you pay again.',
  'errorPage.paidTitle': 'Your payment went through',
  'errorPage.paidBody':
    'The payment was received, but {merchant} could not be reached to confirm your order. Do not pay again: keep the order number and payment ID below and contact the store if you do not hear from it.',
  orderNumber: 'Order number',
  paymentId: 'Payment ID',
  amount: 'Amount',
  returnToStore: 'Return to the store',
} as const;

export type MessageKey = keyof typeof en;
/** A language's catalogue: every key of the English one. */
export type Messages = Record<MessageKey, string>;
