import type { Messages } from './en.ts';

/** German (Sie-Form, "Karte", "Ablaufdatum", "Prüfnummer"). */
export const de: Messages = {
  payTo: 'An {merchant} bezahlen',
  testMode: 'Testmodus',
  orderSummary: 'Bestellübersicht',
  orderSummaryToggle: 'Bestellübersicht ({count, plural, one {# Artikel} other {# Artikel}})',
  orderReference: 'Bestellung {id}',
  quantityTimesPrice: '{quantity} × {unitPrice}',
  subtotal: 'Zwischensumme',
  discount: 'Rabatt',
  tax: 'MwSt.',
  shipping: 'Versand',
  total: 'Gesamt',
  totalDue: 'Zu zahlen',
  paymentMethod: 'Zahlungsart',
  'methods.card.label': 'Karte',
  'methods.card.description': 'Mit Kredit- oder Debitkarte bezahlen.',
  'methods.invoice.label': 'Rechnung',
  'methods.invoice.description': 'Später bezahlen. Sie erhalten eine Rechnung.',
  'methods.wallet.label': 'Wallet',
  'methods.wallet.description': 'Bestätigen Sie die Zahlung in Ihrer Wallet-App.',
  acceptedCards: 'Akzeptierte Karten',
  cardDetails: 'Kartendaten',
  cardName: 'Name auf der Karte',
  cardNumber: 'Kartennummer',
  cardExpiry: 'Ablaufdatum',
  cardCvc: 'Prüfnummer',
  cardCvcHint: '3 Ziffern auf der Rückseite, bei American Express 4 auf der Vorderseite.',
  saveCard: 'Karte für meinen nächsten Einkauf speichern',
  savedCard: 'Gespeicherte Karte, gültig bis {expiry}',
  expiryPlaceholder: 'MM/JJ',
  payButton:
    '{method, select, invoice {Zahlungspflichtig bestellen: {amount} auf Rechnung} wallet {Weiter zur Wallet · {amount}} other {{amount} bezahlen}}',
  processing: 'Wird verarbeitet…',
  cancel: 'Abbrechen und zurück zum Shop',
  errorSummary: 'Bitte prüfen Sie die markierten Felder.',
  noMethods:
    'Für diese Bestellung ist keine Zahlungsart verfügbar. Kehren Sie zum Shop zurück, um anders zu bezahlen.',
  securedBy: 'Sichere Zahlung mit Kassa',
  'fieldErrors.paymentMethod.required': 'Wählen Sie eine Zahlungsart.',
  'fieldErrors.paymentMethod.unavailable': 'Diese Zahlungsart ist für diese Bestellung nicht verfügbar.',
  'fieldErrors.cardName.required': 'Geben Sie den Namen auf der Karte ein.',
  'fieldErrors.cardName.too_long': 'Der Name ist zu lang.',
  'fieldErrors.cardNumber.required': 'Geben Sie die Kartennummer ein.',
  'fieldErrors.cardNumber.invalid': 'Die Kartennummer ist ungültig.',
  'fieldErrors.cardNumber.unsupported_brand': 'Diese Kartenart wird nicht akzeptiert.',
  'fieldErrors.cardExpiry.required': 'Geben Sie das Ablaufdatum ein.',
  'fieldErrors.cardExpiry.invalid_format': 'Geben Sie das Ablaufdatum als MM/JJ ein.',
  'fieldErrors.cardExpiry.invalid_month': 'Der Monat muss zwischen 01 und 12 liegen.',
  'fieldErrors.cardExpiry.invalid_year': 'Das Ablaufjahr ist ungültig.',
  'fieldErrors.cardExpiry.expired': 'Diese Karte ist abgelaufen.',
  'fieldErrors.cardCvc.required': 'Geben Sie die Prüfnummer (CVC) ein.',
  'fieldErrors.cardCvc.invalid': 'Die Prüfnummer ist ungültig.',
  'globalErrors.declined':
    'Ihre Karte wurde abgelehnt. Versuchen Sie es erneut oder wählen Sie eine andere Zahlungsart.',
  'globalErrors.insufficient_funds':
    'Ihre Karte ist nicht ausreichend gedeckt. Nutzen Sie eine andere Karte oder Zahlungsart.',
  'globalErrors.authentication_failed':
    'Ihre Karte konnte nicht verifiziert werden. Versuchen Sie es erneut oder wählen Sie eine andere Zahlungsart.',
  'globalErrors.wallet_declined':
    'Die Wallet-Zahlung wurde abgelehnt. Versuchen Sie es erneut oder wählen Sie eine andere Zahlungsart.',
  'globalErrors.processor_error':
    'Die Zahlung konnte nicht ausgeführt werden, es wurde kein Geld abgebucht. Bitte versuchen Sie es gleich noch einmal.',
  'globalErrors.payment_in_progress':
    'Für diese Bestellung läuft bereits eine Zahlung. Warten Sie einen Moment und laden Sie die Seite neu.',
  'globalErrors.form_expired':
    'Das Formular ist abgelaufen. Prüfen Sie Ihre Angaben und versuchen Sie es erneut.',
  'globalErrors.order_changed':
    'Der Shop hat diese Bestellung nach dem Laden der Seite geändert. Es wurde nichts abgebucht: Prüfen Sie den neuen Betrag und zahlen Sie erneut.',
  'globalErrors.too_many_attempts':
    'Zu viele abgelehnte Zahlungsversuche. Es wurde nichts abgebucht. Versuchen Sie es später erneut.',
  'globalErrors.verification_refused':
    'Der Shop konnte die Bestellung nicht bestätigen, es wurde kein Geld abgebucht. Kehren Sie zum Shop zurück.',
  'challenge.bank': 'Sandbox Bank',
  'challenge.heading': 'Zahlung bestätigen',
  'challenge.intro': 'Ihre Bank bittet Sie, diesen Einkauf zu bestätigen.',
  'challenge.merchant': 'Händler',
  'challenge.amount': 'Betrag',
  'challenge.card': 'Karte',
  'challenge.complete': 'Authentifizierung abschließen',
  'challenge.fail': 'Authentifizierung fehlschlagen lassen',
  'challenge.notice': 'Simulierte 3-D-Secure-Prüfung. Es wird keine echte Bank kontaktiert.',
  'wallet.name': 'Sandbox Wallet',
  'wallet.heading': 'Diese Zahlung freigeben?',
  'wallet.intro': '{merchant} fordert eine Zahlung aus Ihrer Wallet an.',
  'wallet.merchant': 'Händler',
  'wallet.amount': 'Betrag',
  'wallet.approve': 'Freigeben',
  'wallet.decline': 'Ablehnen',
  'wallet.notice': 'Simulierte Wallet. Es fließt kein echtes Geld.',
  'status.expired.title': 'Diese Zahlungsseite ist abgelaufen',
  'status.expired.body':
    'Die Zeit zum Bezahlen dieser Bestellung ist abgelaufen, es wurde nichts bezahlt. Starten Sie im Shop neu.',
  'status.canceled.title': 'Zahlung abgebrochen',
  'status.canceled.body': 'Sie haben diese Zahlung abgebrochen. Es wurde kein Geld abgebucht.',
  'status.completed.title': 'Diese Bestellung ist bezahlt',
  'status.completed.body': 'Vielen Dank! Die Zahlung ist eingegangen. Hier ist nichts mehr zu tun.',
  'status.processing.title': 'Ihre Zahlung wird bestätigt',
  'status.processing.body':
    'Ihre Zahlung wird gerade bestätigt. Diese Seite aktualisiert sich gleich von selbst. Bitte zahlen Sie nicht noch einmal.',
  'status.pending.title': 'Wir warten auf die Bestätigung',
  'status.pending.body':
    'Ihre Bestellung ist aufgegeben und die Zahlung wird bestätigt. Der Shop informiert Sie, sobald sie feststeht. Sie können diese Seite schließen.',
  'status.not_found.title': 'Seite nicht gefunden',
  'status.not_found.body':
    'Unter dieser Adresse gibt es keine Seite. Prüfen Sie die Adresse oder kehren Sie zum Shop zurück.',
  'status.invalid_checkout.title': 'Dieser Link zur Zahlungsseite ist ungültig',
  'status.invalid_checkout.body':
    'Die Adresse dieser Zahlungsseite ist unvollständig oder wurde verändert. Öffnen Sie die Zahlung erneut aus dem Shop.',
  'status.invalid_payment_link.title': 'Dieser Zahlungslink ist ungültig',
  'status.invalid_payment_link.body':
    'Prüfen Sie den erhaltenen Link oder bitten Sie den Shop um einen neuen.',
  'link.expired.title': 'Dieser Zahlungslink ist abgelaufen',
  'link.expired.body':
    'Die Zeit zum Bezahlen mit diesem Link ist abgelaufen, es wurde nichts bezahlt. Bitten Sie den Shop um einen neuen Link.',
  'link.used.title': 'Dieser Zahlungslink wurde bereits verwendet',
  'link.used.body':
    'Die Zahlung zu diesem Link ist bereits erfolgt und kann nicht noch einmal bezahlt werden. Es ist nichts mehr zu tun.',
  'link.deactivated.title': 'Dieser Zahlungslink ist nicht mehr aktiv',
  'link.deactivated.body':
    'Der Shop hat diesen Link deaktiviert, es wurde nichts bezahlt. Wenden Sie sich an den Shop, wenn Sie noch bezahlen möchten.',
  'link.busy.title': 'Mit diesem Link läuft gerade eine Zahlung',
  'link.busy.body':
    'Gerade bezahlt jemand mit diesem Link. Warten Sie einen Moment und öffnen Sie den Link erneut.',
  'errorPage.title': 'Wir konnten Ihre Bestellung nicht abschließen',
  'errorPage.body':
    'Beim Bestätigen Ihrer Bestellung bei {merchant} ist ein Fehler aufgetreten. Notieren Sie die Angaben unten und wenden Sie sich an den Shop, bevor Sie erneut bezahlen.',
  'errorPage.paidTitle': 'Ihre Zahlung ist erfolgt',
  'errorPage.paidBody':
    'Die Zahlung ist eingegangen, aber {merchant} war nicht erreichbar, um Ihre Bestellung zu bestätigen. Bitte nicht erneut bezahlen: Notieren Sie Bestellnummer und Zahlungs-ID und wenden Sie sich an den Shop, falls Sie nichts hören.',
  orderNumber: 'Bestellnummer',
  paymentId: 'Zahlungs-ID',
  amount: 'Betrag',
  returnToStore: 'Zurück zum Shop',
};
